"""Retention: the message log keeps ``MESSAGE_LOG_RETENTION_DAYS`` of frames, then forgets them."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from ..models import MessageLog

message_log = MessageLog.__table__

# Delete in slices so that one pass never holds the database for long.
SLICE = 5000


def prune_message_log(conn: Connection, now: datetime, retention_days: float) -> int:
    """Delete up to one slice of frames older than the retention; return how many."""
    cutoff = now - timedelta(days=retention_days)
    # Scanning by id from the oldest frames finds the expired ones first, without an index on
    # created_at (which would cost every insert).
    ids = (select(message_log.c.id).where(message_log.c.created_at < cutoff)
           .order_by(message_log.c.id).limit(SLICE))
    result = conn.execute(delete(message_log).where(message_log.c.id.in_(ids.scalar_subquery())))
    return result.rowcount or 0
