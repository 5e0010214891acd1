"""OCPP 2.x's words for tokens and authorizations: ``IdTokenType`` to the domain's ``Token``, a
domain ``Authorization`` to ``idTokenInfo``, and a stored token as a local list entry. One
place, so that Authorize, TransactionEvent, SendLocalList and the operations answer alike."""
from __future__ import annotations

from typing import Any

from ...services.time import iso
from ...services.values import Authorization, Token

# The type we give a group id token: groups are the CSMS's own identifiers (stored as a parent
# id tag, without a type).
GROUP_TOKEN_TYPE = "Central"
# The idToken type stored tokens get when they have none (they are mostly RFID cards).
STORED_TOKEN_TYPE = "ISO14443"


def token(id_token: dict) -> Token:
    """A 2.x IdTokenType as the domain's Token."""
    return Token(id_token["idToken"], id_token.get("type"))


def id_token_info(decision: Authorization) -> dict[str, Any]:
    """A domain authorization in 2.x words: ``{status, cacheExpiryDateTime?, groupIdToken?}``.
    2.x has Unknown (1.6 says Invalid for it)."""
    info: dict[str, Any] = {"status": decision.status}
    if decision.expires_at is not None:
        info["cacheExpiryDateTime"] = iso(decision.expires_at)
    if decision.group:
        info["groupIdToken"] = {"idToken": decision.group, "type": GROUP_TOKEN_TYPE}
    return info


def local_list_entry(stored: Token, decision: Authorization) -> dict[str, Any]:
    """A stored token and its authorization as a SendLocalList ``AuthorizationData``."""
    return {"idToken": {"idToken": stored.value, "type": stored.type or STORED_TOKEN_TYPE},
            "idTokenInfo": id_token_info(decision)}
