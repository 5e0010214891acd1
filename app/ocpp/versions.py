"""The one registry of OCPP versions: subprotocols, handlers, commands, wire rules per version.

An ``OcppVersion`` says everything the rest of the system needs to know about a version:
- the websocket subprotocol names that select it,
- ``handlers``: charger-to-CSMS actions the version's adapter answers (anything else known to the
  version's schemas is answered NotSupported, anything unknown NotImplemented),
- ``commands``: CSMS-to-charger actions that can be sent, each with its adapter's ``prepare``
  (fill in and record before sending) and ``apply`` (store what the reply changed),
- ``operations``: the version-neutral operations (``services/operations.py``) the version can
  do, each a function turning the operation's arguments into a ``Translation`` (``operations.py``),
- the wire rules that differ: how error codes are spelt, what an unknown message type gets,
  whether SEND (6) and CALLRESULTERROR (5) exist.

The adapters (``app/ocpp/v16``, ``app/ocpp/v201``, ``app/ocpp/v21``) each build their
``OcppVersion``; ``create_app`` puts them in a ``VersionRegistry`` (``app.extensions``), the only
place the server looks versions up. Adding a version is adding an adapter package and one line
there (docs/architecture.md).

Subprotocol negotiation lives here too (``parse_subprotocols``, ``VersionRegistry.negotiate``):
the server's order of preference decides, not the charger's order of offer, and an operator's pin
restricts a charger to one version.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .operations import Translate

# handler(ctx, payload, now) -> reply payload; see the adapters.
Handler = Callable[..., dict[str, Any]]
# prepare(command, charger, payload, options) -> payload to send; apply(command, charger).
Prepare = Callable[[Any, Any, dict, dict], dict]
Apply = Callable[[Any, Any], None]


@dataclass(frozen=True)
class CommandSpec:
    """One CSMS-to-charger action of a version, with what it does to stored state."""

    prepare: Prepare | None = None
    apply: Apply | None = None


@dataclass(frozen=True)
class OcppVersion:
    name: str
    # Subprotocol names, the canonical one first.
    subprotocols: tuple[str, ...]
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    commands: Mapping[str, CommandSpec] = field(default_factory=dict)
    # Operation name -> translate(arguments) -> Translation.
    operations: Mapping[str, Translate] = field(default_factory=dict)
    # The longest token the version carries (1.6 idTag: 20, 2.0.1 idToken: 36, 2.1: 255): a
    # local list for it leaves longer stored tokens out.
    max_token: int = 20
    # Wire rules (OCPP-J part of each version).
    # What a frame of an unknown message type gets: "ignore" (1.6, 2.1) or "reject"
    # (2.0.1: CALLERROR MessageTypeNotSupported).
    unknown_message_type: str = "ignore"
    # 2.1's SEND (6) and CALLRESULTERROR (5).
    has_send: bool = False
    # Error code spellings that differ from the 2.x names in ``errors``.
    spelling: Mapping[str, str] = field(default_factory=dict)

    def spell(self, code: str) -> str:
        return self.spelling.get(code, code)


def parse_subprotocols(header: str | None) -> list[str]:
    """The subprotocol names in a ``Sec-WebSocket-Protocol`` header, as the charger spelt them.

    Lenient, because chargers are: whitespace around names and empty items (one model sends
    ``",ocpp2.0.1"``) are dropped. Case is kept (the server must echo a name exactly as offered);
    ``negotiate`` compares without it.
    """
    if not header:
        return []
    return [name for name in (part.strip() for part in header.split(",")) if name]


@dataclass(frozen=True)
class Negotiated:
    """The version a connection speaks, and the offered name to answer the handshake with."""

    version: OcppVersion
    subprotocol: str


class VersionRegistry:
    """The versions this server speaks, in the server's order of preference (best first)."""

    def __init__(self, versions: Iterable[OcppVersion]) -> None:
        self._versions: dict[str, OcppVersion] = {v.name: v for v in versions}

    def __iter__(self):
        return iter(self._versions.values())

    def __contains__(self, name: object) -> bool:
        return name in self._versions

    def get(self, name: str | None) -> OcppVersion | None:
        return self._versions.get(name) if name else None

    def names(self) -> list[str]:
        return list(self._versions)

    def subprotocols(self) -> list[str]:
        """Every subprotocol name the server accepts, in the server's order of preference."""
        return [name for version in self._versions.values() for name in version.subprotocols]

    def negotiate(self, offered: Iterable[str], pin: str | None = None) -> Negotiated | None:
        """The version to speak with a charger that offered ``offered``: the server's
        preference among them, or the pinned version only. None when there is no overlap
        (or the pin names a version this server does not speak)."""
        spelt: dict[str, str] = {}
        for name in offered:
            spelt.setdefault(name.strip().lower(), name.strip())
        if pin:
            pinned = self._versions.get(pin)
            candidates = [pinned] if pinned is not None else []
        else:
            candidates = list(self._versions.values())
        for version in candidates:
            for name in version.subprotocols:
                if name in spelt:
                    return Negotiated(version, spelt[name])
        return None

    def by_subprotocol(self, name: str | None) -> OcppVersion | None:
        if not name:
            return None
        name = name.strip().lower()
        for version in self._versions.values():
            if name in version.subprotocols:
                return version
        return None
