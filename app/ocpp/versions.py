"""The OCPP versions the server speaks and the websocket subprotocols that select them.

Adding 2.0.1 or 2.1 means adding an entry here and a handler package (see docs/architecture.md).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OcppVersion:
    name: str
    # Subprotocol names, the canonical one first.
    subprotocols: tuple[str, ...]


V16 = OcppVersion("1.6", ("ocpp1.6", "ocpp1.6j"))

SUPPORTED: dict[str, OcppVersion] = {V16.name: V16}


def server_subprotocols() -> list[str]:
    """Every subprotocol name the server accepts, in the server's order of preference."""
    return [name for version in SUPPORTED.values() for name in version.subprotocols]


def by_subprotocol(name: str | None) -> OcppVersion | None:
    if not name:
        return None
    name = name.strip().lower()
    for version in SUPPORTED.values():
        if name in version.subprotocols:
            return version
    return None
