"""Request parsing and pagination helpers shared by the API modules."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, request
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from ..extensions import db
from ..params import int_arg, page_arg
from .errors import ApiError

MAX_PER_PAGE = 500


def json_body() -> dict[str, Any]:
    body = None
    if request.is_json:
        try:
            # The app's provider: strict JSON (no NaN, Infinity, 1e400, lone surrogates).
            body = current_app.json.loads(request.get_data(cache=True))
        except ValueError as exc:
            raise ApiError(400, f"the request body is not valid JSON: {exc}"[:300]) from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def paginate(stmt: Select, serialise) -> dict[str, Any]:
    """Run ``stmt`` for ``?page`` and ``?per_page`` and wrap the page."""
    page = page_arg(request.args)
    per_page = min(int_arg(request.args, "per_page", minimum=1) or 50, MAX_PER_PAGE)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())
                               ).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars()
    return {"items": [serialise(r) for r in rows], "page": page, "per_page": per_page,
            "total": total}


def parse_time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 time, got {raw!r}") from None
    try:
        # Stored as UTC: near year 1 or 9999 the conversion itself can overflow.
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ApiError(400, f"{name} is out of range") from None
