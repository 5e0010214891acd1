"""Whether a token may charge: the decision behind Authorize, transaction starts and stops.

``authorize`` answers a domain ``Authorization`` for any version's token; the adapters word it
(1.6 ``idTagInfo``, 2.x ``idTokenInfo``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection

from ..models import IdToken
from ..models.token import MAX_TOKEN_LENGTH, tag_key
from .values import Authorization, Token

tokens = IdToken.__table__
# The longest token of any version (2.1: 255); each version's schema bounds its own.
MAX_ID_TAG = MAX_TOKEN_LENGTH
# Built once: a fleet reconnecting at once authorises thousands of tags in a few seconds, and
# building a statement costs more than running it.
# Id tags are case-insensitive (CiString20): compared by their indexed tag_key.
_SELECT_TOKEN = select(tokens.c.status, tokens.c.expiry_date, tokens.c.parent_id_tag).where(
    tokens.c.id_tag_key == bindparam("key"))
_INSERT_TOKEN = insert(tokens)


def authorize(conn: Connection, token: Token, now: datetime,
              unknown_policy: str) -> Authorization:
    """The decision for ``token``.

    An unknown token is Unknown, or, with ``unknown_policy == "accept"``, recorded and Accepted.
    An Accepted token past its expiry date is Expired. A value no token can have (longer than
    a token may be) is Unknown and not recorded (clipped, it would be another token).
    """
    value = token.value
    if not isinstance(value, str) or len(value) > MAX_ID_TAG:
        return Authorization("Unknown")
    row = conn.execute(_SELECT_TOKEN, {"key": tag_key(value)}).first()
    if row is None:
        if unknown_policy != "accept":
            return Authorization("Unknown")
        conn.execute(_INSERT_TOKEN, {"id_tag": value, "type": token.type, "status": "Accepted",
                                     "auto_created": True, "created_at": now, "updated_at": now})
        return Authorization("Accepted")
    status = row.status
    if status == "Accepted" and row.expiry_date is not None and row.expiry_date <= now:
        status = "Expired"
    return Authorization(status, row.expiry_date, row.parent_id_tag or None)
