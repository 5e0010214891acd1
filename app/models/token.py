"""Authorization tokens (OCPP 1.6 id tags, 2.x id tokens with their type).

Id tags are CiString20: case-insensitive. A tag is stored as it was entered, with its
``tag_key`` (Unicode case folding, done in Python) in ``id_tag_key``, unique and indexed: a
reader that reports "04a2b3" matches a card registered as "04A2B3", "öl-card-1" matches
"ÖL-CARD-1", and two tags differing only in case cannot both exist. SQL's ``lower()`` is not
used: SQLite's folds ASCII only, PostgreSQL's depends on the collation.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")


# Case folding can lengthen a tag ("ß" -> "ss", "ﬃ" -> "ffi"): at most three times.
TAG_KEY_LENGTH = 64
# The longest token any version carries: 2.1's IdToken (2.0.1: 36, 1.6: 20; each version's
# schema bounds its own).
MAX_TOKEN_LENGTH = 255
TOKEN_KEY_LENGTH = 3 * MAX_TOKEN_LENGTH


def tag_key(id_tag: str) -> str:
    """The one case-insensitive form of an id tag, for every comparison (SQL and Python)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", id_tag).casefold())


def key_default(column: str):
    def default(context) -> str | None:
        value = context.get_current_parameters().get(column)
        return None if value is None else tag_key(value)
    return default


class IdToken(db.Model):
    __tablename__ = "id_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_tag: Mapped[str] = mapped_column(String(MAX_TOKEN_LENGTH), unique=True)
    # 2.x IdTokenType (ISO14443, eMAID, ...); None for a 1.6 idTag. Not part of the match: a
    # 1.6 idTag and a 2.x token of the same value are one token.
    type: Mapped[str | None] = mapped_column(String(20))
    # tag_key(id_tag), filled in on insert by any path (ORM, Core, bulk import).
    id_tag_key: Mapped[str] = mapped_column(String(TOKEN_KEY_LENGTH), unique=True,
                                            default=key_default("id_tag"))
    status: Mapped[str] = mapped_column(String(16), default="Accepted")
    expiry_date = mapped_column(UTCDateTime)
    parent_id_tag: Mapped[str | None] = mapped_column(String(MAX_TOKEN_LENGTH))
    # Recorded because OCPP_UNKNOWN_ID_TAGS=accept let an unknown tag through.
    auto_created: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at = mapped_column(UTCDateTime, default=utcnow)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def same_tag(column, id_tag: str):
    """SQL condition: the id-tag ``column`` (a model attribute with a ``<name>_key`` twin,
    ``IdToken.id_tag`` or ``Transaction.id_tag``) is ``id_tag``, case-insensitively."""
    key_column = getattr(column.class_, f"{column.key}_key")
    return key_column == tag_key(id_tag)
