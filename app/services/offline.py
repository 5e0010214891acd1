"""Offline detection: a charger silent for longer than its heartbeat interval allows gets an
``offline`` alert, cleared on the first run after it is heard again.

Heard means any frame (``chargers.last_heartbeat``, written for every frame received) or the
handshake (``connected_at``). Allowed silence: the charger's heartbeat interval (what its boot
reply told it, else ``OCPP_HEARTBEAT_INTERVAL``) times ``OFFLINE_FACTOR``, plus
``OFFLINE_GRACE_SECONDS``. Only accepted, enabled chargers that were heard at least once are
watched: a pending or rejected charger is not expected to keep in touch, and an alert of a
charger no longer watched (disabled, decommissioned, rejected) is cleared.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..models import Alert, Charger
from ..models.base import isoformat

chargers = Charger.__table__
alerts = Alert.__table__
OFFLINE = "offline"


@dataclass(frozen=True)
class OfflineRun:
    """What one run changed: alerts raised and cleared (charger ids)."""

    raised: list[int]
    cleared: list[int]

    def as_dict(self) -> dict:
        return {"raised": len(self.raised), "cleared": len(self.cleared)}


def _last_heard(row) -> datetime | None:
    times = [t for t in (row.last_heartbeat, row.connected_at) if t is not None]
    return max(times) if times else None


def detect(conn: Connection, now: datetime, default_interval: float, factor: float,
           grace: float) -> OfflineRun:
    """Raise an alert for each silent watched charger without one; clear the others'."""
    watched = conn.execute(select(
        chargers.c.id, chargers.c.heartbeat_interval, chargers.c.last_heartbeat,
        chargers.c.connected_at,
    ).where(chargers.c.enabled.is_(True), chargers.c.decommissioned_at.is_(None),
            chargers.c.registration_status == "accepted")
        .order_by(chargers.c.id)).all()
    active = dict(conn.execute(select(alerts.c.charger_id, alerts.c.id).where(
        alerts.c.kind == OFFLINE, alerts.c.cleared_at.is_(None))).all())
    silent: dict[int, str] = {}
    for row in watched:
        heard = _last_heard(row)
        if heard is None:
            continue  # never connected: nothing to miss yet
        interval = row.heartbeat_interval or default_interval
        allowed = interval * factor + grace
        if now - heard > timedelta(seconds=allowed):
            silent[row.id] = (f"nothing heard since {isoformat(heard)}: more than {allowed:g} s "
                              f"(heartbeat interval {interval:g} s x {factor:g} + "
                              f"{grace:g} s grace)")
    raised = [cid for cid in silent if cid not in active]
    if raised:
        conn.execute(insert(alerts), [{"charger_id": cid, "kind": OFFLINE, "raised_at": now,
                                       "detail": silent[cid]} for cid in raised])
    cleared = [cid for cid in active if cid not in silent]
    if cleared:
        conn.execute(update(alerts).where(alerts.c.id.in_([active[c] for c in cleared]))
                     .values(cleared_at=now))
    return OfflineRun(raised, cleared)
