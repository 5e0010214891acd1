"""OCPP 2.0.1 charging station to CSMS: turn each request into service calls and build the reply.

Only Heartbeat so far; every other action the 2.0.1 schemas know is answered NotSupported by
the session until its handler is here. Handlers have the 1.6 adapter's shape
(``handler(ctx, payload, now) -> reply payload``) and commit what they store before returning.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...services.time import iso
from ..context import ChargerContext

Handler = Callable[[ChargerContext, dict[str, Any], datetime], dict[str, Any]]


def heartbeat(ctx: ChargerContext, p: dict, now: datetime) -> dict:
    # Last-seen times are coalesced by the connection: a Heartbeat stores nothing else.
    return {"currentTime": iso(now)}


HANDLERS: dict[str, Handler] = {
    "Heartbeat": heartbeat,
}
