"""Payload validation against the official OCPP JSON schemas shipped in the ``ocpp`` package.

Two validators per schema, both built from the same files:
- ``fastjsonschema`` compiles the schema to Python; it answers "valid" in about 12 µs for a
  MeterValues with three sampled values, where jsonschema's Draft4Validator takes about 250 µs
  (docs/performance.md). Valid payloads, nearly all of them, only take the fast path.
- Schemas are found by version: ``v16/schemas/<Action>.json`` for a 1.6 request,
  ``v201``/``v21`` ``<Action>Request.json`` for 2.x (draft-06; fastjsonschema reads the draft from
  ``$schema``), ``<Action>Response.json`` for every reply, and 2.1's SEND messages
  (``NotifyPeriodicEventStream.json``) without a suffix.
- When the fast check fails, the ``ocpp`` package's own cached ``get_validator`` decides and
  classifies the error, so the verdict is always the reference validator's.
"""
from __future__ import annotations

import decimal
import functools
import json
import os
from collections.abc import Callable
from typing import Any

import fastjsonschema
import ocpp
from jsonschema.exceptions import ValidationError as SchemaError
from ocpp.messages import get_validator

from .. import strictjson
from . import errors

_SCHEMA_ROOT = os.path.dirname(ocpp.__file__)
REQUEST = 2
RESPONSE = 3
# 2.1's SEND (6): its own schema where the action is a SEND, else the action's request schema.
SEND = 6

# Schemas with multipleOf on decimals: floats give false violations, so check these with Decimal
# (as the ocpp package does).
_DECIMAL_SCHEMAS = {
    ("1.6", REQUEST, "SetChargingProfile"),
    ("1.6", REQUEST, "RemoteStartTransaction"),
    ("1.6", RESPONSE, "GetCompositeSchedule"),
}

# jsonschema keyword -> OCPP error code (2.x spelling; OcppVersion.spell converts for 1.6).
_KEYWORD_CODES = {
    "type": errors.TYPE_CONSTRAINT_VIOLATION,
    "maxLength": errors.TYPE_CONSTRAINT_VIOLATION,
    "minLength": errors.TYPE_CONSTRAINT_VIOLATION,
    "required": errors.OCCURRENCE_CONSTRAINT_VIOLATION,
    "minItems": errors.OCCURRENCE_CONSTRAINT_VIOLATION,
    "maxItems": errors.OCCURRENCE_CONSTRAINT_VIOLATION,
    "additionalProperties": errors.FORMAT_VIOLATION,
}


def _schema_name(version: str, kind: int, action: str) -> str:
    if kind == RESPONSE:
        return action + "Response"
    if kind == SEND:
        return action
    return action if version == "1.6" else action + "Request"


def _folder(version: str) -> str:
    return os.path.join(_SCHEMA_ROOT, "v" + version.replace(".", ""), "schemas")


def _schema_path(version: str, kind: int, action: str) -> str:
    return os.path.join(_folder(version), _schema_name(version, kind, action) + ".json")


@functools.cache
def send_actions(version: str) -> frozenset[str]:
    """The actions a version defines as SEND messages (2.1: NotifyPeriodicEventStream)."""
    if version == "1.6":
        return frozenset()
    return frozenset(
        stem for stem in (name.removesuffix(".json") for name in os.listdir(_folder(version)))
        if not stem.endswith(("Request", "Response"))
    )


def _kind(version: str, kind: int, action: str) -> int:
    # A SEND of an action that is a CALL elsewhere is held to the action's request schema.
    if kind == SEND and action not in send_actions(version):
        return REQUEST
    return kind


@functools.cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version's schemas define (requests in either direction)."""
    names = set()
    for name in os.listdir(_folder(version)):
        stem = name.removesuffix(".json")
        if stem.endswith("Response"):
            names.add(stem.removesuffix("Response"))
    return frozenset(names)


@functools.cache
def _fast_validator(version: str, kind: int, action: str) -> Callable[[Any], Any] | None:
    path = _schema_path(version, kind, action)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8-sig") as fh:
        schema = json.load(fh)
    # The reference validator does not check "format"; neither do we.
    return fastjsonschema.compile(schema, formats={"date-time": lambda _value: True},
                                  use_formats=False)


def check(version: str, kind: int, action: str,
          payload: dict[str, Any]) -> errors.RemoteProtocolError | None:
    """Validate ``payload``; return the error to report, or None when it is valid.

    Raises KeyError when the version has no schema for the action.
    """
    kind = _kind(version, kind, action)
    fast = _fast_validator(version, kind, action)
    if fast is None:
        raise KeyError(action)
    try:
        fast(payload)
        return None
    except fastjsonschema.JsonSchemaException:
        pass
    except RecursionError:
        return _too_deep()
    try:
        return _reference_check(version, kind, action, payload)
    except RecursionError:
        return _too_deep()


def check_outgoing(version: str, action: str, payload: dict[str, Any], *,
                   partial: bool = False) -> errors.RemoteProtocolError | None:
    """Validate a CALL of ours (a command's payload), strictly: besides the schema, no integer
    beyond 64 bits, no NaN or infinity and no lone surrogate (incoming frames are held to the
    same by ``frames.parse``). ``partial``: fields the payload lacks are not an error yet (a
    command's ``prepare`` fills some in), but the fields given must be valid before anything
    uses them.

    Raises KeyError when the version has no schema for the action.
    """
    big = strictjson.out_of_range_int(payload)
    if big is not None:
        return errors.RemoteProtocolError(
            errors.TYPE_CONSTRAINT_VIOLATION, f"{strictjson.abbreviate(big)} does not fit a 64-bit "
            "integer")
    if strictjson.has_non_finite(payload):
        return errors.RemoteProtocolError(errors.FORMAT_VIOLATION,
                                          "NaN and Infinity are not JSON numbers")
    if strictjson.has_lone_surrogate(payload):
        # Not Unicode text: the frame could not be sent as a websocket text message.
        return errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "a string has a lone UTF-16 surrogate (such as \\ud800): "
            "not Unicode text")
    if not partial:
        return check(version, REQUEST, action, payload)
    if _fast_validator(version, REQUEST, action) is None:
        raise KeyError(action)
    try:
        return _reference_check(version, REQUEST, action, payload, skip_missing=True)
    except RecursionError:
        return _too_deep()


def _too_deep() -> errors.RemoteProtocolError:
    return errors.RemoteProtocolError(errors.FORMAT_VIOLATION, "payload is nested too deeply")


def _reference_check(version: str, kind: int, action: str, payload: dict[str, Any], *,
                     skip_missing: bool = False) -> errors.RemoteProtocolError | None:
    if (version, kind, action) in _DECIMAL_SCHEMAS:
        validator = get_validator(kind, action, version, parse_float=decimal.Decimal)
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    else:
        validator = get_validator(kind, action, version)
    found = validator.iter_errors(payload)
    if skip_missing:
        found = (e for e in found if not (e.validator == "required" and not e.absolute_path))
    error: SchemaError | None = next(iter(found), None)
    if error is None:
        return None
    code = _KEYWORD_CODES.get(error.validator, errors.PROPERTY_CONSTRAINT_VIOLATION)
    where = "/".join(str(p) for p in error.absolute_path) or "(payload)"
    return errors.RemoteProtocolError(
        code, f"{where}: {error.message}"[:255],
        details={"path": where, "keyword": error.validator},
    )
