"""Messages an operator sends to the node's LCD, each shown until it expires."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import NodeMessage, utcnow
from ..models.base import isoformat
from .errors import DomainError

MAX_TEXT = 80
MAX_MINUTES = 7 * 24 * 60


class MessageError(DomainError):
    """A message that cannot be sent as asked."""


def post(text: Any, minutes: Any, user: str) -> NodeMessage:
    """Show ``text`` on the LCD for ``minutes`` (1 to a week)."""
    if not isinstance(text, str) or not text.strip() or len(text.strip()) > MAX_TEXT:
        raise MessageError(f"the message must be 1 to {MAX_TEXT} characters")
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= MAX_MINUTES:
        raise MessageError(f"the message is shown for 1 to {MAX_MINUTES} minutes")
    now = utcnow()
    message = NodeMessage(text=" ".join(text.split()), created_by=user, created_at=now,
                          expires_at=now + timedelta(minutes=minutes))
    db.session.add(message)
    db.session.commit()
    return message


def active() -> list[NodeMessage]:
    return list(db.session.execute(select(NodeMessage).where(NodeMessage.expires_at > utcnow())
                                   .order_by(NodeMessage.id.desc())).scalars())


def withdraw(message_id: int) -> None:
    message = db.session.get(NodeMessage, message_id)
    if message is None:
        raise MessageError(f"no message {message_id}", 404)
    db.session.delete(message)
    db.session.commit()


def to_dict(message: NodeMessage) -> dict[str, Any]:
    return {"id": message.id, "text": message.text, "created_by": message.created_by,
            "created_at": isoformat(message.created_at),
            "expires_at": isoformat(message.expires_at)}
