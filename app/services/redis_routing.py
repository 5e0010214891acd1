"""Commands and session changes routed through Redis to the process holding the socket, and
which processes are alive.

Every serving process (a gunicorn worker) has an inbox, a Redis list named after it
("host:pid"), and a liveness key with a time-to-live that it refreshes. Which process holds a
charger is what the database says (``chargers.session_owner``, written as the socket opens);
Redis says whether that process still lives:

- ``route`` pushes the command id to the owner's inbox; the owner runs ``commands.execute``
  (the CALL, the stored outcome, the effects, once) and pushes the id back on a reply list
  that the caller waits on, then the caller reads the stored outcome. A charger whose owner
  is not alive is refused at once (409), as with one process.
- A process whose liveness key expired (killed, or its host gone) has its chargers shown
  disconnected and its pending commands closed as interrupted by whichever process sweeps
  next (``sessions.clear_owner``), within ``PRESENCE_TTL`` plus a sweep interval.
- A charger that reconnects to another process moves: the new owner tells the old one to
  close the old socket, whose command in flight is recorded as failed.

Redis being away never stops the OCPP path: routed commands fail with a stored error, the
loops retry with back-off, and a process whose liveness key vanished (a Redis restart) writes
it again and marks its chargers connected again.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from .. import runtime
from ..extensions import db
from ..models import Charger, utcnow
from ..transport.registry import Registry, node_id
from . import sessions
from .routing import LocalRouter

log = logging.getLogger(__name__)

PREFIX = "constellation:"
# A process is alive while its key is; it refreshes the key three times per TTL. Every process
# sweeps as often, and clears a process found absent ABSENT_SWEEPS times in a row: a dead
# process's chargers are shown disconnected within PRESENCE_TTL + ABSENT_SWEEPS *
# REFRESH_INTERVAL (12 s), and a Redis restart (every key gone at once) clears nobody.
PRESENCE_TTL = 6
REFRESH_INTERVAL = 2.0
ABSENT_SWEEPS = 3
# How long a finished command's reply waits for its caller.
REPLY_TTL = 120
INBOX_POLL = 1

chargers = Charger.__table__


class RedisRouter(LocalRouter):
    """``LocalRouter`` for the chargers of this process, Redis for the others."""

    def __init__(self, app: Flask, registry: Registry, url: str) -> None:
        super().__init__(app, registry)
        from .. import redis_client

        self._url = url
        # Short timeouts: a Redis that went away must not hold a request or the OCPP path
        # (every blocking wait here polls for at most INBOX_POLL, under the client's timeout).
        self._redis = redis_client.client(url)
        self._started_in: int | None = None
        self._absent: dict[str, int] = {}

    # Keys ------------------------------------------------------------------------------

    @staticmethod
    def _inbox(process: str) -> str:
        return f"{PREFIX}inbox:{process}"

    @staticmethod
    def _alive_key(process: str) -> str:
        return f"{PREFIX}alive:{process}"

    @staticmethod
    def _reply(command_id: int) -> str:
        return f"{PREFIX}done:{command_id}"

    # Where a charger is --------------------------------------------------------------

    def _owner_process(self, identity: str) -> str | None:
        """The live process (other than this one) holding ``identity``'s socket, if any."""
        from redis.exceptions import RedisError

        with db.engine.connect() as conn:
            owner = conn.execute(select(chargers.c.session_owner)
                                 .where(chargers.c.identity == identity)).scalar()
        if owner is None:
            return None
        process = sessions.process_of(owner)
        if process == node_id():
            return None  # ours, but not in the registry any more: it has just gone
        try:
            return process if self._redis.exists(self._alive_key(process)) else None
        except RedisError as exc:
            log.warning("cannot reach Redis to find %s's process: %s", identity, exc)
            return None

    def is_connected(self, identity: str) -> bool:
        return super().is_connected(identity) or self._owner_process(identity) is not None

    # Commands ----------------------------------------------------------------------------

    def route(self, identity: str, command_id: int, timeout: float, wait: bool) -> None:
        if super().is_connected(identity):
            super().route(identity, command_id, timeout, wait)
            return
        from redis.exceptions import RedisError

        process = self._owner_process(identity)
        if process is None:
            self._fail(command_id, "NotConnected", "the charger is not connected")
            return
        try:
            self._redis.rpush(self._inbox(process), json.dumps({"command": command_id}))
            if not wait:
                return
            done = self._wait_reply(command_id, process, timeout)
        except RedisError as exc:
            self._fail(command_id, "RoutingFailed",
                       f"the command could not be routed through Redis: {exc}")
            return
        if not done:
            self._fail(command_id, sessions.INTERRUPTED,
                       f"the process holding the charger ({process}) did not answer")

    def _wait_reply(self, command_id: int, process: str, timeout: float) -> bool:
        """Wait for the owner's reply: at most the command's turn behind another CALL plus its
        own timeout, and no longer than the owner lives. Short polls: the client's socket
        timeout must not cut a long wait, and a dead owner is noticed within seconds."""
        deadline = time.monotonic() + 2 * timeout + 5
        absent_since: float | None = None
        while time.monotonic() < deadline:
            if self._redis.blpop([self._reply(command_id)], timeout=INBOX_POLL) is not None:
                return True
            if self._redis.exists(self._alive_key(process)):
                absent_since = None
            elif absent_since is None:
                absent_since = time.monotonic()
            elif time.monotonic() - absent_since > PRESENCE_TTL:
                return False  # its liveness key has been gone a whole time-to-live
        return False

    def _fail(self, command_id: int, code: str, description: str) -> None:
        with db.engine.begin() as conn:
            sessions.fail_if_pending(conn, command_id, code, description, utcnow())

    def _tell(self, identity: str, message: dict[str, Any]) -> bool:
        """Send ``message`` to the process holding ``identity``; False if none is alive."""
        from redis.exceptions import RedisError

        process = self._owner_process(identity)
        if process is None:
            return False
        try:
            self._redis.rpush(self._inbox(process), json.dumps(message))
        except RedisError as exc:
            log.warning("could not tell %s about %s: %s", process, identity, exc)
            return False
        return True

    def end_session(self, identity: str, reason: str) -> bool:
        if super().end_session(identity, reason):
            return True
        return self._tell(identity, {"close": identity, "reason": reason})

    def registration_changed(self, identity: str, status: str) -> None:
        if super().is_connected(identity):
            super().registration_changed(identity, status)
        else:
            self._tell(identity, {"registration": identity, "status": status})

    def took_over(self, identity: str, previous_owner: str | None) -> None:
        """``identity`` connected here while the database had it at ``previous_owner``: if that
        is another process, have it close the old socket (its command in flight fails)."""
        from redis.exceptions import RedisError

        if previous_owner is None or sessions.process_of(previous_owner) == node_id():
            return
        message = {"close": identity, "owner": previous_owner,
                   "reason": "the charger connected to another process"}
        try:
            self._redis.rpush(self._inbox(sessions.process_of(previous_owner)),
                              json.dumps(message))
        except RedisError as exc:
            log.warning("could not tell %s that %s moved: %s", previous_owner, identity, exc)

    # Serving: this process's inbox, liveness and the sweep ------------------------------

    def start(self) -> None:
        """Serve this process's inbox and keep it alive (once per process)."""
        import os

        if self._started_in == os.getpid():
            return
        self._started_in = os.getpid()
        try:
            self._refresh()
        except Exception as exc:  # noqa: BLE001 - the loop below retries; serve meanwhile
            log.warning("presence: %s", exc)
        threading.Thread(target=self._serve_inbox, daemon=True, name="redis-inbox").start()
        threading.Thread(target=self._keep_alive, daemon=True, name="redis-presence").start()

    def _serve_inbox(self) -> None:
        from redis.exceptions import RedisError

        inbox = self._inbox(node_id())
        backoff = 0.5
        while True:
            try:
                item = self._redis.blpop([inbox], timeout=INBOX_POLL)
                backoff = 0.5
            except RedisError as exc:
                log.warning("Redis inbox: %s (retrying in %.1f s)", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if item is None:
                continue
            try:
                message = json.loads(item[1])
            except ValueError:
                log.warning("ignored a malformed inbox message: %r", item[1][:200])
                continue
            threading.Thread(target=self._handle, args=(message,), daemon=True).start()

    def _handle(self, message: dict[str, Any]) -> None:
        from redis.exceptions import RedisError

        if "command" in message:
            command_id = int(message["command"])
            self.execute_here(command_id)
            try:
                reply = self._reply(command_id)
                self._redis.pipeline().rpush(reply, "1").expire(reply, REPLY_TTL).execute()
            except RedisError as exc:
                log.warning("command %s: could not tell its caller: %s", command_id, exc)
        elif "close" in message:
            connection = self._registry.get(message["close"])
            if connection is not None and message.get("owner") in (None, connection.owner):
                connection.close(message.get("reason") or "closed by the operator")
        elif "registration" in message:
            super().registration_changed(message["registration"], message["status"])

    def _keep_alive(self) -> None:
        while True:
            time.sleep(REFRESH_INTERVAL)
            try:
                self._refresh()
                self._sweep()
            except Exception as exc:  # noqa: BLE001 - presence must survive Redis and DB outages
                log.warning("presence: %s", exc)

    def _refresh(self) -> None:
        from redis.exceptions import RedisError

        try:
            fresh = self._redis.set(self._alive_key(node_id()), "1", ex=PRESENCE_TTL, get=True)
        except RedisError:
            self._absent.clear()  # a sweep from a process that cannot see Redis proves nothing
            raise
        if fresh is None and len(self._registry):
            # The key had gone (Redis restarted, or this process stalled): another process
            # may have cleared our marks meanwhile; the sockets are still here.
            self._mark_ours_connected()

    def _mark_ours_connected(self) -> None:
        with self._app.app_context(), db.engine.begin() as conn:
            for identity in self._registry.identities():
                connection = self._registry.get(identity)
                if connection is None:
                    continue
                conn.execute(update(chargers).where(
                    chargers.c.identity == identity, chargers.c.session_owner.is_(None)
                ).values(session_owner=connection.owner))

    def _sweep(self) -> None:
        """Clear the chargers of processes whose liveness key is gone, once ``ABSENT_SWEEPS``
        sweeps in a row have found it gone."""
        with self._app.app_context():
            with db.engine.connect() as conn:
                owners = sessions.owners(conn)
            me = node_id()
            processes = sorted({sessions.process_of(o) for o in owners} - {me})
            if not processes:
                self._absent.clear()
                return
            alive = self._redis.mget([self._alive_key(p) for p in processes])
            absent = {p for p, a in zip(processes, alive, strict=True) if a is None}
            self._absent = {p: self._absent.get(p, 0) + 1 for p in absent}
            gone = [p for p, seen in self._absent.items() if seen >= ABSENT_SWEEPS]
            if not gone:
                return
            cleared: list[str] = []
            with db.engine.begin() as conn:
                for owner in owners:
                    if sessions.process_of(owner) in gone:
                        cleared += sessions.owned_identities(conn, owner)
                        closed = sessions.clear_owner(
                            conn, owner, utcnow(),
                            "the process holding the charger stopped before it answered")
                        log.info("%s is gone: cleared its connection marks (%d command(s) "
                                 "interrupted)", owner, closed)
            bus = runtime.events(self._app)
            for identity in cleared:
                bus.publish("disconnected", identity, reason="its server process stopped")
            for p in gone:
                self._absent.pop(p, None)
