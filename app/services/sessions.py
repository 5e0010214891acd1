"""Which process holds which charger's socket, as the database records it
(``chargers.session_owner``: "host:pid:serial"), and what to do when a process is gone.

A process that died leaves its chargers marked connected and its commands pending; the socket
died with it, so ``clear_owner`` closes those commands as interrupted and clears the marks.
It runs at start-up for dead processes of this host (``runtime``) and, with Redis, for any
process whose liveness key expired (``redis_routing``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from ..models import Charger, Command

INTERRUPTED = "Interrupted"

chargers = Charger.__table__
commands = Command.__table__


def process_of(owner: str) -> str:
    """The process ("host:pid") of a session owner ("host:pid:serial")."""
    return owner.rsplit(":", 1)[0]


def owners(conn: Connection) -> list[str]:
    """Every session owner the database has chargers marked connected to."""
    return list(conn.execute(select(chargers.c.session_owner)
                             .where(chargers.c.session_owner.is_not(None)).distinct()).scalars())


def owned_identities(conn: Connection, owner: str) -> list[str]:
    """The chargers marked connected to ``owner``."""
    return list(conn.execute(select(chargers.c.identity)
                             .where(chargers.c.session_owner == owner)).scalars())


def clear_owner(conn: Connection, owner: str, now: datetime,
                why: str = "the server restarted before the charger answered") -> int:
    """Close the commands ``owner`` was waiting on and clear its connection marks; return how
    many commands were interrupted."""
    owned = select(chargers.c.id).where(chargers.c.session_owner == owner)
    closed = conn.execute(update(commands).where(
        commands.c.charger_id.in_(owned.scalar_subquery()), commands.c.status == "pending"
    ).values(status="error", error_code=INTERRUPTED, error_description=why,
             completed_at=now)).rowcount
    conn.execute(update(chargers).where(chargers.c.session_owner == owner)
                 .values(session_owner=None, disconnected_at=now))
    return closed or 0


def fail_if_pending(conn: Connection, command_id: int, code: str, description: str,
                    now: datetime) -> bool:
    """Close a command that is still pending (nobody will answer it); True if it was."""
    return bool(conn.execute(update(commands).where(
        commands.c.id == command_id, commands.c.status == "pending"
    ).values(status="error", error_code=code, error_description=description[:255],
             completed_at=now)).rowcount)
