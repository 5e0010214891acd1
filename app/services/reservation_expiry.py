"""Reservation expiry: a reservation still active (requested, or Accepted by the charger) whose
``expiry_date`` has passed becomes ``expired``, as when a 2.x station reports it Expired
(``station_notifications.RESERVATION_UPDATES``)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Connection

from ..models import Reservation

reservations = Reservation.__table__
ACTIVE = ("requested", "Accepted")
EXPIRED = "expired"


def expire(conn: Connection, now: datetime) -> int:
    """Mark every active reservation past its expiry expired; return how many."""
    result = conn.execute(update(reservations).where(
        reservations.c.status.in_(ACTIVE), reservations.c.expiry_date.is_not(None),
        reservations.c.expiry_date < now).values(status=EXPIRED, updated_at=now))
    return result.rowcount or 0
