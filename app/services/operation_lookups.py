"""What the version adapters read from the database to word an operation (never SQL there).

- ``charger_transaction_id``: the id a 2.x charger knows a transaction by;
- ``local_list``: the stored tokens, as domain values, for a local authorization list.
"""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import IdToken, Transaction
from .errors import DomainError
from .values import Authorization, Token


def charger_transaction_id(transaction_id: int) -> str:
    """The charger's own id of CSMS transaction ``transaction_id`` (2.x TransactionEvent's
    ``transactionId``); 422 when the charger has not reported one."""
    tx = db.session.get(Transaction, transaction_id)
    value = getattr(tx, "charger_transaction_id", None) if tx is not None else None
    if not value:
        raise DomainError("the charger has not reported its transaction id", 422)
    return value


def local_list(max_token: int) -> list[tuple[Token, Authorization]]:
    """Every stored token a version can carry (at most ``max_token`` characters) with its
    status, expiry and group (parent), ordered by token."""
    rows = db.session.execute(select(IdToken).where(func.length(IdToken.id_tag) <= max_token)
                              .order_by(IdToken.id_tag)).scalars()
    return [(Token(row.id_tag, getattr(row, "type", None)),
             Authorization(row.status, row.expiry_date, row.parent_id_tag)) for row in rows]
