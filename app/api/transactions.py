"""``/api/v1/transactions``: charging sessions, filterable, with their meter values."""
from __future__ import annotations

from flask import g, request

from ..services import audit, operator_actions
from ..services import transactions_query as tx_query
from . import bp
from .args import charger_id_arg, check_id
from .auth import can_write
from .errors import ApiError
from .util import json_body, paginate, parse_time_arg


@bp.get("/transactions")
def list_transactions():
    stmt = tx_query.query(charger_id=charger_id_arg(), state=request.args.get("state") or None,
                          since=parse_time_arg("since"), until=parse_time_arg("until"),
                          id_tag=request.args.get("id_tag") or None)
    body = paginate(stmt, lambda tx: tx)
    body["items"] = tx_query.to_dicts(body["items"])  # energy so far in one query per page
    return body


@bp.get("/transactions/<int:transaction_id>")
def get_transaction(transaction_id: int):
    tx = tx_query.get(check_id(transaction_id, "transaction"))
    if tx is None:
        raise ApiError(404, f"no transaction {transaction_id}")
    return tx_query.to_detail(tx)


@bp.post("/transactions/<int:transaction_id>/close")
@can_write
def close_transaction(transaction_id: int):
    """Close a transaction whose StopTransaction will never come (body optional)."""
    body = json_body() if request.get_data() else {}
    unknown = sorted(set(body) - {"meter_stop", "reason"})
    if unknown:
        raise ApiError(400, f"unknown field(s): {', '.join(unknown)}; allowed: meter_stop, "
                            "reason")
    tx = operator_actions.close_transaction(
        check_id(transaction_id, "transaction"), meter_stop=body.get("meter_stop"),
        reason=body.get("reason"), actor=g.api_user.name, source="api")
    return tx_query.to_dict(tx)


@bp.get("/audit")
def list_audit_events():
    """Operator actions other than commands (decommissioning, closing transactions)."""
    stmt = audit.events(charger=request.args.get("charger") or None,
                        action=request.args.get("action") or None,
                        actor=request.args.get("actor") or None)
    return paginate(stmt, audit.to_dict)
