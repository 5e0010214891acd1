"""The chargers connected to this process, by identity."""
from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .connection import ChargerConnection


def node_id() -> str:
    """This process, as written in ``chargers.session_owner`` ("host:pid")."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_identity: dict[str, ChargerConnection] = {}

    def register(self, connection: ChargerConnection) -> ChargerConnection | None:
        """Make ``connection`` the charger's connection; return the one it replaces."""
        with self._lock:
            previous = self._by_identity.get(connection.identity)
            self._by_identity[connection.identity] = connection
        return previous

    def unregister(self, connection: ChargerConnection) -> bool:
        """Forget ``connection`` unless a newer one replaced it; True if it was current."""
        with self._lock:
            if self._by_identity.get(connection.identity) is connection:
                del self._by_identity[connection.identity]
                return True
        return False

    def get(self, identity: str) -> ChargerConnection | None:
        return self._by_identity.get(identity)

    def __len__(self) -> int:
        return len(self._by_identity)

    def identities(self) -> list[str]:
        return list(self._by_identity)


def start_keepalive(registry: Registry, interval: float) -> None:
    """One loop for all connections: ping the idle ones (see ChargerConnection.keepalive)."""
    if interval <= 0 or getattr(start_keepalive, "started", None) == os.getpid():
        return
    start_keepalive.started = os.getpid()

    def loop() -> None:
        import logging
        import time

        while True:
            time.sleep(min(interval / 4, 5.0))
            now = time.monotonic()
            for identity in registry.identities():
                connection = registry.get(identity)
                if connection is not None:
                    try:
                        connection.keepalive(now)
                    except Exception:  # noqa: BLE001 - one bad socket must not stop the loop
                        logging.getLogger(__name__).exception("keepalive of %s", identity)

    threading.Thread(target=loop, name="keepalive", daemon=True).start()
