"""Authorization tokens (OCPP id tags) as operators manage them: create, change, delete.

Shared by the REST API and the console (whose CSV import stores through ``import_batch``).
Values are checked here, so every entry point refuses the same bad input with the same message.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, insert, select
from sqlalchemy import update as sql_update
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models import IdToken, utcnow
from ..models.base import isoformat
from ..models.token import MAX_TOKEN_LENGTH, TOKEN_STATUSES, same_tag, tag_key
from .errors import DomainError
from .values import TOKEN_TYPES

# The longest token any version carries (2.1); a 1.6 charger sees only tokens of up to 20.
MAX_ID_TAG = MAX_TOKEN_LENGTH
MAX_NOTE = 255
EDITABLE = ("type", "status", "expiry_date", "parent_id_tag", "note")


class TokenError(DomainError):
    """A token operation that cannot be done as asked."""


def check_id_tag(value: Any, field: str = "id_tag") -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_TAG:
        raise TokenError(f"{field} must be a string of 1 to {MAX_ID_TAG} characters "
                         "(the OCPP 2.1 IdToken limit; 2.0.1 allows 36, 1.6 20)")
    if not value.isprintable() or value != value.strip():
        raise TokenError(f"{field} must not have surrounding spaces or control characters")
    return value


def _parse_expiry(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise TokenError(f"expiry_date must be an ISO 8601 time or null, got {value!r}"
                             ) from None
    else:
        raise TokenError("expiry_date must be an ISO 8601 time or null")
    try:
        # Stored as UTC: near year 1 or 9999 the conversion itself can overflow.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise TokenError("expiry_date is out of range") from None


def column_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The ``EDITABLE`` fields given, checked and converted to column values (or TokenError)."""
    unknown = sorted(set(fields) - set(EDITABLE))
    if unknown:
        raise TokenError(f"unknown or unchangeable field(s): {', '.join(unknown)}; "
                         f"changeable: {', '.join(EDITABLE)}")
    values: dict[str, Any] = {}
    if "type" in fields:
        if fields["type"] is not None and fields["type"] not in TOKEN_TYPES:
            raise TokenError(f"type must be one of {', '.join(TOKEN_TYPES)}, or null "
                             "(a 1.6 idTag has no type)")
        values["type"] = fields["type"]
    if "status" in fields:
        if fields["status"] not in TOKEN_STATUSES:
            raise TokenError(f"status must be one of {', '.join(TOKEN_STATUSES)}")
        values["status"] = fields["status"]
    if "expiry_date" in fields:
        values["expiry_date"] = _parse_expiry(fields["expiry_date"])
    if "parent_id_tag" in fields:
        value = fields["parent_id_tag"]
        values["parent_id_tag"] = None if value is None else check_id_tag(value, "parent_id_tag")
    if "note" in fields:
        value = fields["note"]
        if value is not None and (not isinstance(value, str) or len(value) > MAX_NOTE):
            raise TokenError(f"note must be a string of at most {MAX_NOTE} characters, or null")
        values["note"] = value
    return values


def _apply(token: IdToken, fields: dict[str, Any]) -> None:
    for name, value in column_values(fields).items():
        setattr(token, name, value)


def get(id_tag: str) -> IdToken:
    token = db.session.execute(
        select(IdToken).where(same_tag(IdToken.id_tag, id_tag))).scalar_one_or_none()
    if token is None:
        raise TokenError(f"no token {id_tag!r}", 404)
    return token


def query(*, status: str | None = None, q: str | None = None) -> Select:
    stmt = select(IdToken).order_by(IdToken.id_tag)
    if status:
        if status not in TOKEN_STATUSES:
            raise TokenError(f"status must be one of {', '.join(TOKEN_STATUSES)}")
        stmt = stmt.where(IdToken.status == status)
    if q:
        # On the folded key: the same case-insensitive rule as lookups, on every database.
        key = tag_key(q)
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(IdToken.id_tag_key.like(f"%{escaped}%", escape="\\"))
    return stmt


def create(id_tag: Any, fields: dict[str, Any] | None = None) -> IdToken:
    """Create a token; ``status`` defaults to Accepted."""
    id_tag = check_id_tag(id_tag)
    existing = db.session.execute(
        select(IdToken.id_tag).where(same_tag(IdToken.id_tag, id_tag))).scalar()
    if existing is not None:
        raise TokenError(f"token {existing!r} already exists (id tags ignore case)", 409)
    now = utcnow()
    token = IdToken(id_tag=id_tag, status="Accepted", auto_created=False, created_at=now,
                    updated_at=now)
    _apply(token, fields or {})
    db.session.add(token)
    db.session.commit()
    return token


def update(id_tag: str, fields: dict[str, Any]) -> IdToken:
    """Change the ``EDITABLE`` fields given; all or nothing."""
    token = get(id_tag)
    try:
        _apply(token, fields)
    except TokenError:
        db.session.rollback()
        raise
    token.updated_at = utcnow()
    db.session.commit()
    return token


def delete(id_tag: str) -> None:
    db.session.delete(get(id_tag))
    db.session.commit()


def to_dict(token: IdToken) -> dict[str, Any]:
    return {
        "id_tag": token.id_tag,
        "type": token.type,
        "status": token.status,
        "expiry_date": isoformat(token.expiry_date),
        "parent_id_tag": token.parent_id_tag,
        "note": token.note,
        "auto_created": token.auto_created,
        "created_at": isoformat(token.created_at),
        "updated_at": isoformat(token.updated_at),
    }


def import_batch(conn: Connection, rows: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Create or update a token per ``(id_tag, column_values(...))``, in order, with Core
    statements in the caller's transaction; whether each row created a token.

    Made for the group writer (``writer.run``): a CSV import hands it a few hundred checked rows
    at a time, so the work runs off the event loop and chargers' commits go on in between.
    """
    table = IdToken.__table__
    now = utcnow()
    created: list[bool] = []
    for id_tag, values in rows:
        existing = conn.execute(select(table.c.id).where(table.c.id_tag_key == tag_key(id_tag))
                                ).scalar()
        if existing is None:
            conn.execute(insert(table).values(
                {"status": "Accepted", **values, "id_tag": id_tag, "auto_created": False,
                 "created_at": now, "updated_at": now}))
        else:
            conn.execute(sql_update(table).where(table.c.id == existing)
                         .values({**values, "updated_at": now}))
        created.append(existing is None)
    return created
