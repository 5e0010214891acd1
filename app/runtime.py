"""Per-process runtime objects: the version registry, the charger registry, the command
router, the live-event bus and the login throttle (wired in ``create_app``), the group writer
of this process and its start-up housekeeping.

Created after gunicorn has forked the worker (``startup``, from gunicorn's ``post_worker_init``)
or on first use, never at import.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from flask import Flask

from .extensions import db
from .models import Charger
from .ocpp.versions import VersionRegistry
from .storage.writer import GroupWriter

if TYPE_CHECKING:
    from .console.throttle import Throttle
    from .events import EventBus
    from .services.routing import CommandRouter
    from .transport.admission import AdmissionPolicy
    from .transport.registry import Registry

log = logging.getLogger(__name__)
_lock = threading.Lock()


def ocpp_versions(app: Flask) -> VersionRegistry:
    """The versions this server speaks (wired in ``create_app``)."""
    return app.extensions["ocpp_versions"]


def registry(app: Flask) -> Registry:
    """The chargers connected to this process (wired in ``create_app``)."""
    return app.extensions["constellation.registry"]


def router(app: Flask) -> CommandRouter:
    """How a command reaches the process holding the charger's socket (``create_app``)."""
    return app.extensions["constellation.router"]


def admission(app: Flask) -> AdmissionPolicy:
    """Whether a new handshake is let in now (wired in ``create_app``)."""
    return app.extensions["constellation.admission"]


def writer_backlog(app: Flask) -> int:
    """Units this process's writer has not committed yet; 0 before it exists."""
    existing = app.extensions.get("constellation.writer")
    if existing is None or existing[0] != os.getpid():
        return 0
    return existing[1].backlog()


def events(app: Flask) -> EventBus:
    """Live events for the console: this process's, or the cluster's through Redis."""
    return app.extensions["constellation.events"]


def login_throttle(app: Flask) -> Throttle:
    """Failed-login counters: in this process, or shared through Redis (``create_app``)."""
    return app.extensions["constellation.login_throttle"]


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
            if not app.config["REDIS_URL"]:  # with Redis the workers run the schedule
                threading.Thread(target=_maintenance, args=(app,), daemon=True,
                                 name="maintenance").start()
    return app.extensions["constellation.writer"][1]


def current_writer(app: Flask) -> GroupWriter | None:
    """This process's group writer if it has started one (a serving process), else None (a
    worker, a CLI command): never starts one."""
    existing = app.extensions.get("constellation.writer")
    if existing is not None and existing[0] == os.getpid():
        return existing[1]
    return None


def startup(app: Flask) -> None:
    """Start this serving process's writer, and with it clear what a dead process of this host
    left behind (connection marks, commands in flight), before the first request is served;
    and serve the commands other processes route here; and start the event bus's background
    work (after the fork, where it runs)."""
    writer(app)
    router(app).start()
    events(app).start()


def shutdown(app: Flask) -> None:
    """Write what the writer still holds (message log, last-seen times) and send the events
    still batched; gunicorn calls this."""
    existing = app.extensions.get("constellation.writer")
    if existing is not None and existing[0] == os.getpid():
        existing[1].flush()
    events(app).close()  # after the writer: Redis being slow must not cost stored data


def _maintenance(app: Flask) -> None:
    """The scheduled jobs (``app.schedule``) in this process: only without Redis (with
    REDIS_URL the workers run them, and the web process none)."""
    from .schedule import run_in_process

    run_in_process(app)


def _clear_stale_sessions(engine) -> None:
    """Chargers still marked connected to a process of this host that no longer runs: clear
    the marks, and close the commands that process was waiting on (they can never be answered:
    the socket died with it)."""
    from .models import utcnow
    from .services import sessions
    from .transport.registry import node_id

    host = node_id().rsplit(":", 1)[0]
    with engine.begin() as conn:
        for owner in sessions.owners(conn):
            if not owner.startswith(f"{host}:"):
                continue
            # "host:pid:serial"; the host part is ours, the pid follows it.
            rest = owner[len(host) + 1:].split(":")
            pid = int(rest[0]) if rest[0].isdigit() else -1
            if pid != os.getpid() and _alive(pid):
                continue
            closed = sessions.clear_owner(conn, owner, utcnow())
            log.info("cleared stale connection marks of %s (%d command(s) interrupted)",
                     owner, closed)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed worker whose parent died too stays a zombie until someone reaps it (in a
    # container, possibly never): it answers signal 0 but holds no socket.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
