"""``/api/v1/transactions``: charging sessions, filterable, with their meter values."""
from __future__ import annotations

from flask import request

from ..services import transactions_query as tx_query
from . import bp
from .args import charger_id_arg, check_id
from .errors import ApiError
from .util import paginate, parse_time_arg


@bp.get("/transactions")
def list_transactions():
    try:
        stmt = tx_query.query(charger_id=charger_id_arg(), state=request.args.get("state") or None,
                              since=parse_time_arg("since"), until=parse_time_arg("until"),
                              id_tag=request.args.get("id_tag") or None)
    except tx_query.QueryError as exc:
        raise ApiError(400, str(exc)) from None
    body = paginate(stmt, lambda tx: tx)
    body["items"] = tx_query.to_dicts(body["items"])  # energy so far in one query per page
    return body


@bp.get("/transactions/<int:transaction_id>")
def get_transaction(transaction_id: int):
    tx = tx_query.get(check_id(transaction_id, "transaction"))
    if tx is None:
        raise ApiError(404, f"no transaction {transaction_id}")
    return tx_query.to_detail(tx)
