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


registry = Registry()
