"""Query-string arguments shared by the API resources (beyond ``util``)."""
from __future__ import annotations

from flask import request

from .. import params
from ..extensions import db
from ..services import chargers as charger_service
from .errors import ApiError


def bool_arg(name: str) -> bool | None:
    """``?name=true|false`` (also 1/0, yes/no); None when absent or empty."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ApiError(400, f"{name} must be true or false, got {raw!r}")


def int_arg(name: str) -> int | None:
    """``?name=`` as a 64-bit integer (400 otherwise); None when absent or empty."""
    return params.int_arg(request.args, name)


def check_id(value: int, what: str) -> int:
    """A 404 for ids no row can have (``<int:...>`` in a route already refuses them)."""
    if value > params.max_row_id(db.engine.dialect.name):
        raise ApiError(404, f"no {what} {value}")
    return value


def row_or_404(model, row_id: int, what: str):
    """The ``model`` row with primary key ``row_id``, or a 404 that names ``what``."""
    row = db.session.get(model, check_id(row_id, what))
    if row is None:
        raise ApiError(404, f"no {what} {row_id}")
    return row


def charger_or_404(identity: str):
    return charger_service.get(identity)


def charger_id_arg(name: str = "charger") -> int | None:
    """The database id of the charger named by ``?charger=<identity>`` (404 if unknown)."""
    identity = request.args.get(name)
    if not identity:
        return None
    return charger_or_404(identity).id
