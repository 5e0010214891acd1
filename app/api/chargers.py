"""``/api/v1/chargers``: list, detail, registration and settings of chargers."""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import Charger
from ..services import chargers as charger_service
from ..services import operator_actions
from . import bp
from .args import bool_arg, charger_or_404
from .auth import can_write, require_role
from .util import json_body, paginate


def _like_escape(text: str) -> str:
    # q is a plain substring: '%' and '_' in identities must match literally.
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@bp.get("/chargers")
def list_chargers():
    stmt = select(Charger).options(selectinload(Charger.connectors)).order_by(Charger.identity)
    # Decommissioned chargers are out of the list unless asked for (?decommissioned=true).
    if bool_arg("decommissioned"):
        stmt = stmt.where(Charger.decommissioned_at.is_not(None))
    else:
        stmt = stmt.where(Charger.decommissioned_at.is_(None))
    connected = bool_arg("connected")
    if connected is True:
        stmt = stmt.where(Charger.session_owner.is_not(None))
    elif connected is False:
        stmt = stmt.where(Charger.session_owner.is_(None))
    q = request.args.get("q")
    if q:
        # ilike: case-insensitive on PostgreSQL too, as LIKE is (for ASCII) on SQLite.
        stmt = stmt.where(Charger.identity.ilike(f"%{_like_escape(q)}%", escape="\\"))
    return paginate(stmt, charger_service.to_dict)


@bp.post("/chargers")
@can_write
def register_charger():
    body = json_body()
    fields = dict(body)
    identity = fields.pop("identity", None)
    charger = charger_service.register(identity, fields)
    return charger_service.to_dict(charger), 201


@bp.get("/chargers/<path:identity>")
def get_charger(identity: str):
    return charger_service.to_dict(charger_or_404(identity))


@bp.patch("/chargers/<path:identity>")
@can_write
def update_charger(identity: str):
    body = json_body()
    charger = charger_service.update(identity, body)
    return charger_service.to_dict(charger)


@bp.delete("/chargers/<path:identity>")
@require_role("admin")
def delete_charger(identity: str):
    """Decommission (the default: history kept) or, with ``?purge=true``, delete for good."""
    if bool_arg("purge"):
        operator_actions.delete_charger(identity, actor=g.api_user.name, source="api")
        return "", 204
    charger = operator_actions.decommission(identity, actor=g.api_user.name, source="api")
    return charger_service.to_dict(charger)


@bp.post("/chargers/<path:identity>/recommission")
@require_role("admin")
def recommission_charger(identity: str):
    charger = operator_actions.recommission(identity, actor=g.api_user.name, source="api")
    return charger_service.to_dict(charger)
