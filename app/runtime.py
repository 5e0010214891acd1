"""Per-process runtime objects: the group writer of this process and its start-up housekeeping.

Created on first use, after gunicorn has forked the worker, never at import.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from flask import Flask
from sqlalchemy import update

from .extensions import db
from .models import Charger
from .storage.writer import GroupWriter

log = logging.getLogger(__name__)
_lock = threading.Lock()


def writer(app: Flask) -> GroupWriter:
    """The app's group writer in this process."""
    existing = app.extensions.get("constellation.writer")
    if existing is not None and existing[0] == os.getpid():
        return existing[1]
    with _lock:
        existing = app.extensions.get("constellation.writer")
        if existing is None or existing[0] != os.getpid():
            with app.app_context():
                engine = db.engine
                _clear_stale_sessions(engine)
            instance = GroupWriter(engine, Charger.__table__,
                                   flush_interval=app.config["LAST_SEEN_FLUSH_SECONDS"])
            app.extensions["constellation.writer"] = (os.getpid(), instance)
            threading.Thread(target=_maintenance, args=(app, instance), daemon=True,
                             name="maintenance").start()
    return app.extensions["constellation.writer"][1]


def shutdown(app: Flask) -> None:
    """Write what the writer still holds (message log, last-seen times); gunicorn calls this."""
    existing = app.extensions.get("constellation.writer")
    if existing is not None and existing[0] == os.getpid():
        existing[1].flush()


MAINTENANCE_INTERVAL = 600.0


def _maintenance(app: Flask, instance: GroupWriter) -> None:
    """Prune the message log now and then, in slices, through the writer."""
    from .models import utcnow
    from .services.retention import SLICE, prune_message_log

    while True:
        try:
            days = app.config["MESSAGE_LOG_RETENTION_DAYS"]
            while days > 0:
                deleted = instance.run(prune_message_log, utcnow(), days)
                if deleted:
                    log.info("pruned %d message log entries older than %g days", deleted, days)
                if deleted < SLICE:
                    break
        except Exception:  # noqa: BLE001 - maintenance must not stop for a bad pass
            log.exception("message log pruning failed")
        time.sleep(MAINTENANCE_INTERVAL)


def _clear_stale_sessions(engine) -> None:
    """Chargers still marked connected to a process of this host that no longer runs."""
    from .transport.registry import node_id

    host = node_id().rsplit(":", 1)[0]
    chargers = Charger.__table__
    with engine.begin() as conn:
        owners = conn.execute(
            chargers.select().with_only_columns(chargers.c.session_owner)
            .where(chargers.c.session_owner.like(f"{host}:%")).distinct()
        ).scalars().all()
        for owner in owners:
            pid = int(owner.split(":")[1]) if owner.count(":") >= 2 else -1
            if pid == os.getpid() or not _alive(pid):
                conn.execute(update(chargers).where(chargers.c.session_owner == owner)
                             .values(session_owner=None))
                log.info("cleared stale connection marks of %s", owner)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
