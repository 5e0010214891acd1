"""How a command reaches the process that holds the charger's socket.

Today every charger's socket lives in this process (one gevent worker), so ``LocalRouter`` hands
the command to the local connection. The seam is ``CommandRouter``: a Redis-backed router will
publish the command id to the owner process named in ``chargers.session_owner`` and wait for the
stored outcome; callers (API, console, jobs) do not change. The same seam carries an operator's
changes to a live session: a disabled charger's session ends, a registration change takes effect
on the open socket.
"""
from __future__ import annotations

import logging
from typing import Any, Protocol

from ..transport.connection import CallOutcome
from ..transport.registry import Registry

log = logging.getLogger(__name__)


class CommandRouter(Protocol):
    def is_connected(self, identity: str) -> bool: ...

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome: ...

    def end_session(self, identity: str, reason: str) -> bool: ...

    def registration_changed(self, identity: str, status: str) -> None: ...


class LocalRouter:
    """Every charger's socket is in this process: hand the command to its connection."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def is_connected(self, identity: str) -> bool:
        return self._registry.get(identity) is not None

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome:
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


