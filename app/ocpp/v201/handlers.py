"""OCPP 2.0.1 (and 2.1) charging station to CSMS: every handler the adapter has, by action.

Handlers have the 1.6 adapter's shape (``handler(ctx, payload, now) -> reply payload``): they
turn the wire payload into domain values (``services/values.py``), call the services, commit
what they store before returning, and word the answer. They live in one module per topic
(``stations``, ``transactions``, ``device_model``, ...), each with its own ``HANDLERS``;
this module only gathers them. Every other action the schemas know is answered NotSupported by
the session.
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
# Topic modules add theirs below, one line each.
from . import device_model, notifications, stations, transactions  # noqa: E402

HANDLERS.update(stations.HANDLERS)
HANDLERS.update(transactions.HANDLERS)
HANDLERS.update(notifications.HANDLERS)
HANDLERS.update(device_model.HANDLERS)
