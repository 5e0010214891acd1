"""Meter-value retention with downsampling: raw ``meter_values`` older than
``METER_VALUE_RAW_DAYS`` are folded into 15-minute ``meter_value_aggregates`` (min, max, avg,
last, count per series) and deleted, one slice per call.

Values of a transaction still running are kept raw whatever their age: its energy so far and
an operator's close read its newest register reading. Age is the value's own timestamp (the
charger's clock: a charger whose clock is years behind has its values folded early).

A series is (charger, connector or EVSE, transaction, measurand, phase, location, unit). The
fold and the delete are one transaction, so a slice is folded exactly once: a second run finds
nothing left to fold. A bucket split over two slices is merged into the same aggregate row.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from ..models import MeterValue, MeterValueAggregate, Transaction

raw = MeterValue.__table__
transactions = Transaction.__table__
agg = MeterValueAggregate.__table__
BUCKET = timedelta(minutes=15)
SLICE = 5000
SERIES = ("charger_id", "connector_id", "transaction_id", "measurand", "phase", "location",
          "unit")


def bucket_start(when: datetime) -> datetime:
    """The start of the 15-minute bucket holding ``when`` (UTC)."""
    when = when.astimezone(UTC)
    return when.replace(minute=when.minute - when.minute % 15, second=0, microsecond=0)


def _merge(into: dict, value: float | None, at: datetime) -> None:
    if value is None:  # NaN and the like: stored as NULL, not a number to average
        return
    count = into["count"]
    into["min"] = value if into["min"] is None else min(into["min"], value)
    into["max"] = value if into["max"] is None else max(into["max"], value)
    into["avg"] = value if not count else (into["avg"] * count + value) / (count + 1)
    into["count"] = count + 1
    if into["last_at"] is None or at >= into["last_at"]:
        into["last"], into["last_at"] = value, at


def fold(conn: Connection, now: datetime, raw_days: float) -> int:
    """Fold and delete up to one slice of raw values older than ``raw_days``; return how many
    raw rows went."""
    cutoff = now - timedelta(days=raw_days)
    # Oldest first by id, as the message log is pruned: no index on timestamp needed.
    rows = conn.execute(select(raw.c.id, raw.c.timestamp, raw.c.value,
                               *(raw.c[name] for name in SERIES))
                        .where(raw.c.timestamp < cutoff, or_(
                            raw.c.transaction_id.is_(None),
                            raw.c.transaction_id.not_in(select(transactions.c.id).where(
                                transactions.c.stopped_at.is_(None)))))
                        .order_by(raw.c.id).limit(SLICE)).all()
    if not rows:
        return 0
    buckets: dict[tuple, dict] = {}
    for row in rows:
        key = (*(getattr(row, name) for name in SERIES), bucket_start(row.timestamp))
        into = buckets.setdefault(key, {"min": None, "max": None, "avg": None, "last": None,
                                        "last_at": None, "count": 0})
        _merge(into, row.value, row.timestamp)
    _store(conn, buckets)
    conn.execute(delete(raw).where(raw.c.id.in_([row.id for row in rows])))
    return len(rows)


def _store(conn: Connection, buckets: dict[tuple, dict]) -> None:
    """Merge the slice's buckets into the aggregates already stored for them."""
    charger_ids = {key[0] for key in buckets}
    starts = [key[-1] for key in buckets]
    existing = {}
    for row in conn.execute(select(agg).where(agg.c.charger_id.in_(charger_ids),
                                              agg.c.bucket_start >= min(starts),
                                              agg.c.bucket_start <= max(starts))):
        existing[(*(getattr(row, name) for name in SERIES), row.bucket_start)] = row
    new = []
    for key, part in buckets.items():
        old = existing.get(key)
        if old is None:
            series = dict(zip(SERIES, key[:-1], strict=True))
            new.append({**series, "bucket_start": key[-1], **part})
            continue
        merged = {name: getattr(old, name) for name in ("min", "max", "avg", "last",
                                                        "last_at", "count")}
        if part["count"]:
            total = merged["count"] + part["count"]
            merged["avg"] = ((merged["avg"] or 0) * merged["count"]
                             + part["avg"] * part["count"]) / total
            merged["min"] = min(v for v in (merged["min"], part["min"]) if v is not None)
            merged["max"] = max(v for v in (merged["max"], part["max"]) if v is not None)
            merged["count"] = total
            if merged["last_at"] is None or part["last_at"] >= merged["last_at"]:
                merged["last"], merged["last_at"] = part["last"], part["last_at"]
        conn.execute(update(agg).where(agg.c.id == old.id).values(**merged))
    if new:
        conn.execute(insert(agg), new)
