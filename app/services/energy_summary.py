"""The daily energy summary: per charger, the energy (Wh) and number of the transactions that
ended on a UTC day, and one row with no charger for the node's total.

Chargers belong to no site yet (sites come with issue 13): the node total stands in for a
per-site summary until then. A day is recomputed whole (its rows replaced), so running it again,
or for a day whose late StopTransactions have since come in, gives the right figures.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from ..models import DailyEnergy, Transaction

transactions = Transaction.__table__
daily = DailyEnergy.__table__


def yesterday(now: datetime) -> date:
    return (now.astimezone(UTC) - timedelta(days=1)).date()


def summarise(conn: Connection, day: date, now: datetime) -> dict:
    """Replace ``day``'s summary rows; return the node total."""
    start = datetime.combine(day, time(), UTC)
    per_charger = conn.execute(select(
        transactions.c.charger_id, func.coalesce(func.sum(transactions.c.energy_wh), 0.0),
        func.count(),
    ).where(transactions.c.stopped_at >= start,
            transactions.c.stopped_at < start + timedelta(days=1))
        .group_by(transactions.c.charger_id)).all()
    conn.execute(delete(daily).where(daily.c.day == day))
    rows = [{"day": day, "charger_id": cid, "energy_wh": float(energy), "sessions": sessions,
             "computed_at": now} for cid, energy, sessions in per_charger]
    total = {"day": day, "charger_id": None, "computed_at": now,
             "energy_wh": sum(r["energy_wh"] for r in rows),
             "sessions": sum(r["sessions"] for r in rows)}
    conn.execute(insert(daily), [*rows, total])
    return {"day": day.isoformat(), "chargers": len(rows), "energy_wh": total["energy_wh"],
            "sessions": total["sessions"]}
