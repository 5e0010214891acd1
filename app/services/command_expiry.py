"""Stale-command expiry: a command still ``pending`` long after its timeout can never be
answered (the process that sent it died with the socket), so it is closed as error
``Expired``. ``grace`` leaves room for a process that is merely slow to record the outcome."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..models import Command

commands = Command.__table__
EXPIRED = "Expired"


def expire(conn: Connection, now: datetime, grace: float) -> int:
    """Close the pending commands older than their timeout plus ``grace``; return how many."""
    # Each command has its own timeout: candidates by the grace alone, then per row here
    # (few commands are pending at any time, and the arithmetic differs per database).
    candidates = conn.execute(select(commands.c.id, commands.c.created_at, commands.c.timeout)
                              .where(commands.c.status == "pending",
                                     commands.c.created_at < now - timedelta(seconds=grace))
                              ).all()
    stale = [row.id for row in candidates
             if row.created_at + timedelta(seconds=(row.timeout or 0) + grace) < now]
    if not stale:
        return 0
    return conn.execute(update(commands).where(
        commands.c.id.in_(stale), commands.c.status == "pending").values(
        status="error", error_code=EXPIRED, completed_at=now,
        error_description=f"no outcome was recorded within the command's timeout plus "
                          f"{grace:g} s: the process that sent it stopped")).rowcount or 0
