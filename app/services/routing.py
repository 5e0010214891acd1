"""How a command reaches the process that holds the charger's socket.

Today every charger's socket lives in this process (one gevent worker), so ``LocalRouter`` hands
the command to the local connection. The seam is ``CommandRouter``: a Redis-backed router will
publish the command id to the owner process named in ``chargers.session_owner`` and wait for the
stored outcome; callers (API, console, jobs) do not change.
"""
from __future__ import annotations

from typing import Any, Protocol

from ..transport.connection import CallOutcome
from ..transport.registry import registry


class CommandRouter(Protocol):
    def is_connected(self, identity: str) -> bool: ...

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome: ...


class LocalRouter:
    def is_connected(self, identity: str) -> bool:
        return registry.get(identity) is not None

    def call(self, identity: str, action: str, payload: dict[str, Any],
             timeout: float) -> CallOutcome:
        connection = registry.get(identity)
        if connection is None:
            return CallOutcome("error", "", error_code="NotConnected",
                               error_description="the charger is not connected")
        return connection.call(action, payload, timeout)


router: CommandRouter = LocalRouter()
