"""Strict JSON: the text this system accepts from chargers and API clients, and what it emits.

Python's ``json`` module is lenient where the standard is not: it reads ``NaN`` and
``Infinity``, turns ``1e400`` into infinity, reads integers of any size and strings with lone
UTF-16 surrogates (``"\\ud800"``), and writes ``NaN``/``Infinity`` back. None of these can be
stored or sent on safely (a float column, a 64-bit integer column, UTF-8 text), so they are
refused where JSON comes in:

- ``loads`` raises ``NonFinite`` or ``OutOfRange`` (both ``ValueError``) for such numbers;
- ``has_lone_surrogate`` finds unpaired surrogates (only walks when the raw text has a
  ``\\ud`` escape, which any such string needs);
- ``scrub`` makes a lenient parse storable (non-finite numbers become null, lone surrogates
  U+FFFD);
- ``dumps`` never writes ``NaN`` or ``Infinity``.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# An int64 has at most 19 digits: shorter literals need no range check.
_INT64_DIGITS = 19
# In a Python str a valid surrogate pair is already one code point: any surrogate is lone.
_SURROGATE = re.compile("[\ud800-\udfff]")


class NonFinite(ValueError):
    """NaN, Infinity, or a number too large for a double."""


class OutOfRange(ValueError):
    """An integer beyond signed 64 bits."""


def _constant(name: str) -> Any:
    raise NonFinite(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFinite(f"{text} is too large a number")
    return value


def _int(text: str) -> int:
    value = int(text)
    if len(text) >= _INT64_DIGITS and not INT64_MIN <= value <= INT64_MAX:
        raise OutOfRange(f"{abbreviate(text)} does not fit a 64-bit integer")
    return value


def abbreviate(number: int | str) -> str:
    """A huge number as an error message can quote it."""
    text = str(number)
    return text if len(text) <= 24 else f"{text[:20]}... ({len(text)} digits)"


_DECODER = json.JSONDecoder(parse_constant=_constant, parse_float=_float, parse_int=_int)


def loads(text: str | bytes | bytearray) -> Any:
    """Parse strict JSON numbers. Raises ValueError (``NonFinite``, ``OutOfRange`` or a syntax
    error; ``UnicodeDecodeError`` for bytes that are not UTF-8), RecursionError when nested
    too deep. Lone surrogates are left to the caller (``has_lone_surrogate``)."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8")
    return _DECODER.decode(text)


def loads_text(text: str | bytes | bytearray) -> Any:
    """``loads`` that also refuses lone surrogates: all of strict JSON, in one ValueError."""
    try:
        value = loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if may_have_surrogate(text) and has_lone_surrogate(value):
        raise ValueError("a string has a lone UTF-16 surrogate (not Unicode text)")
    return value


def may_have_surrogate(text: str | bytes | bytearray) -> bool:
    """Whether ``text`` has a ``\\uD8xx``-``\\uDFxx`` escape (cheap test before a walk)."""
    if isinstance(text, str):
        return "\\ud" in text or "\\uD" in text
    return b"\\ud" in text or b"\\uD" in text


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD (the one rule for making text storable
    and sendable; ``storage.text.storable`` and ``scrub`` use it)."""
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


def has_lone_surrogate(obj: Any) -> bool:
    """Whether a string (or key) anywhere in ``obj`` has an unpaired UTF-16 surrogate."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _leaves(obj: Any) -> Iterator[Any]:
    """Every value in ``obj`` that is neither a dict nor a list; iterative, for deep values."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            yield item


def has_non_finite(obj: Any) -> bool:
    """Whether a float anywhere in ``obj`` is NaN or infinite."""
    return any(isinstance(item, float) and not math.isfinite(item) for item in _leaves(obj))


def out_of_range_int(obj: Any) -> int | None:
    """The first integer beyond signed 64 bits in ``obj``, or None."""
    return next((item for item in _leaves(obj)
                 if isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX), None)


def scrub(obj: Any) -> Any:
    """A copy of ``obj`` that can be stored and sent: non-finite floats become None, lone
    surrogates U+FFFD. Iterative: a deeply nested value does not overflow the stack."""
    def fix(item: Any) -> tuple[Any, bool]:
        if isinstance(item, str):
            return without_surrogates(item), False
        if isinstance(item, float):
            return (None if not math.isfinite(item) else item), False
        return item, isinstance(item, (dict, list))

    root, nested = fix(obj)
    if not nested:
        return root
    top: Any = {} if isinstance(root, dict) else []
    stack = [(root, top)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            value, nested = fix(value)
            if nested:
                child: Any = {} if isinstance(value, dict) else []
                stack.append((value, child))
                value = child
            if isinstance(target, dict):
                target[fix(key)[0]] = value
            else:
                target.append(value)
    return top


def dumps(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that never writes NaN or Infinity (they become null)."""
    kwargs["allow_nan"] = False
    try:
        return json.dumps(obj, **kwargs)
    except ValueError as exc:
        if "Out of range float" not in str(exc):
            raise
        return json.dumps(scrub(obj), **kwargs)

