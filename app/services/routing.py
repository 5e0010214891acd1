"""How a command reaches the process that holds the charger's socket.

The seam is the command id: the API, the console and jobs record a command
(``services.commands.submit``) and ``route`` it; the process holding the socket runs
``commands.execute`` on it, which sends the CALL, stores the outcome and applies the effects
once, there. The caller reads the stored outcome.

``LocalRouter`` (the embedded default) holds every charger's socket in this process.
``RedisRouter`` (``services/redis_routing.py``, when ``REDIS_URL`` is set) routes the id to the
owner process through Redis. The same seam carries an operator's changes to a live session: a
disabled charger's session ends, a registration change takes effect on the open socket.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from flask import Flask, has_app_context

from ..transport.connection import CallOutcome
from ..transport.registry import Registry

log = logging.getLogger(__name__)


class CommandRouter(Protocol):
    def is_connected(self, identity: str) -> bool: ...

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome: ...

    def route(self, identity: str, command_id: int, timeout: float, wait: bool) -> None: ...

    def end_session(self, identity: str, reason: str) -> bool: ...

    def registration_changed(self, identity: str, status: str) -> None: ...

    def took_over(self, identity: str, previous_owner: str | None) -> None: ...

    def start(self) -> None: ...


class LocalRouter:
    """Every charger's socket is in this process: hand the command to its connection."""

    def __init__(self, app: Flask, registry: Registry) -> None:
        self._app = app
        self._registry = registry

    def is_connected(self, identity: str) -> bool:
        return self._registry.get(identity) is not None

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome:
        """Send a CALL on this process's socket of the charger and wait for the reply."""
        connection = self._registry.get(identity)
        if connection is None:
            return CallOutcome("error", "", error_code="NotConnected",
                               error_description="the charger is not connected")
        try:
            return connection.call(action, payload, timeout)
        except Exception as exc:  # noqa: BLE001 - the caller stores an outcome, never a 500
            log.exception("%s to %s could not be sent", action, identity)
            return CallOutcome("error", "", error_code="InternalError",
                               error_description=f"the command could not be sent: {exc}"[:255])

    def route(self, identity: str, command_id: int, timeout: float, wait: bool) -> None:
        """Run the recorded command here: now (``wait``) or in the background."""
        if wait:
            self.execute_here(command_id)
        else:
            threading.Thread(target=self.execute_here, args=(command_id,), daemon=True,
                             name=f"command-{command_id}").start()

    def execute_here(self, command_id: int) -> None:
        from . import commands

        if has_app_context():
            commands.execute(command_id)
            return
        with self._app.app_context():
            try:
                commands.execute(command_id)
            except Exception:  # noqa: BLE001 - a background command must not die silently
                log.exception("command %s failed", command_id)

    def end_session(self, identity: str, reason: str) -> bool:
        """Close the charger's socket, if it is connected here; True if it was."""
        connection = self._registry.get(identity)
        if connection is None:
            return False
        connection.close(reason)
        return True

    def registration_changed(self, identity: str, status: str) -> None:
        connection = self._registry.get(identity)
        if connection is not None:
            connection.registration_changed(status)

    def took_over(self, identity: str, previous_owner: str | None) -> None:
        """A new connection of ``identity`` opened here; an older one here is replaced by the
        registry already."""

    def start(self) -> None:
        """Nothing to serve: every caller is in this process."""
