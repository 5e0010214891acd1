"""Bounded numbers from URLs and query strings, shared by the API and the console.

Databases store 64-bit integers: a larger id, offset or bound fails in the driver (a 500), so it
is refused here, where the number enters. ``ParamError`` is a ``BadRequest``: the API answers it
as JSON and the console with its error page, without glue in each view. ``Int64Converter``
replaces Flask's ``int`` URL converter (``create_app``), so an id in a path beyond int64 is a
404 like any id no row has.
"""
from __future__ import annotations

from collections.abc import Mapping

from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

MAX_INT = 2**63 - 1
# The largest row id each database's primary keys hold: SQLite's INTEGER is 64 bits,
# PostgreSQL's integer (serial) 32, and a larger id bound to it fails in the driver.
MAX_ROW_ID = {"sqlite": MAX_INT, "postgresql": 2**31 - 1}
# Keeps the row offset (page - 1) * per_page within a 64-bit integer for any page size we use.
MAX_PAGE = 10**9


class ParamError(BadRequest):
    """A query-string value that cannot be used; ``description`` says what to send instead."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.message = message


class Int64Converter(IntegerConverter):
    """``<int:...>`` limited to what a database row id can be (else the route does not match)."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, -MAX_INT - 1 if min is None else min,
                         MAX_INT if max is None else max, signed)


def max_row_id(backend: str) -> int:
    """The largest primary key value of ``backend`` (a dialect name)."""
    return MAX_ROW_ID.get(backend, MAX_INT)


def row_id_converter(backend: str) -> type[Int64Converter]:
    """``<int:...>`` for row ids in ``backend`` (sqlite, postgresql): beyond what a primary key
    there holds the route does not match (a 404), like any id no row has."""
    limit = max_row_id(backend)
    if limit == MAX_INT:
        return Int64Converter

    class RowIdConverter(Int64Converter):
        def __init__(self, map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                     max: int | None = None, signed: bool = False) -> None:  # noqa: A002
            super().__init__(map, fixed_digits, min, limit if max is None else max, signed)

    return RowIdConverter


def int64(raw: str) -> int:
    """``raw`` as a 64-bit integer, else ValueError: for werkzeug's ``args.get(name, type=...)``,
    where a value that does not convert counts as absent."""
    value = int(raw)
    if not -MAX_INT - 1 <= value <= MAX_INT:
        raise ValueError(f"{value} is beyond 64 bits")
    return value


def int_arg(args: Mapping[str, str], name: str, *, minimum: int = -MAX_INT - 1,
            maximum: int = MAX_INT) -> int | None:
    """``?name=`` as an integer within [minimum, maximum]; None when absent or empty."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:  # also what int() raises for more than 4,300 digits
        raise ParamError(f"{name} must be a whole number, got {raw[:40]!r}") from None
    if value < minimum:
        raise ParamError(f"{name} must be at least {minimum}")
    if value > maximum:
        raise ParamError(f"{name} must be at most {maximum}")
    return value


def page_arg(args: Mapping[str, str], name: str = "page") -> int:
    """``?page=``: 1 when absent, else a whole number from 1 to ``MAX_PAGE``."""
    value = int_arg(args, name, minimum=1, maximum=MAX_PAGE)
    return 1 if value is None else value
