"""Read-only queries the console pages need and the shared services do not offer (yet).

Everything that changes data goes through ``app.services``; this module only reads the same
tables, shaped for pages: the dashboard's overview, a charger's live state, histories.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Charger,
    Command,
    MessageLog,
    MeterValue,
    StatusNotification,
    Transaction,
)
from ..services import records

POWER = "Power.Active.Import"
ENERGY = "Energy.Active.Import.Register"


@dataclass
class ConnectorState:
    connector_id: int
    status: str | None
    error_code: str | None
    info: str | None = None
    transaction: Transaction | None = None
    power_w: float | None = None
    energy_wh: float | None = None  # delivered so far in the running transaction

    @property
    def faulted(self) -> bool:
        return self.status == "Faulted" or (self.error_code not in (None, "NoError"))


@dataclass
class ChargerState:
    charger: Charger
    station: ConnectorState | None = None  # connector 0: the whole station
    connectors: list[ConnectorState] = field(default_factory=list)

    @property
    def connected(self) -> bool:
        return self.charger.connected

    @property
    def charging(self) -> bool:
        return any(c.status == "Charging" for c in self.connectors)

    @property
    def faulted(self) -> bool:
        return any(c.faulted for c in self.connectors) or bool(self.station and
                                                               self.station.faulted)

    @property
    def power_w(self) -> float | None:
        values = [c.power_w for c in self.connectors if c.power_w is not None]
        return sum(values) if values else None


def latest_value(transaction_id: int, measurand: str) -> float | None:
    """The newest stored value of ``measurand`` in a transaction (phase totals preferred)."""
    row = db.session.execute(
        select(MeterValue.value).where(MeterValue.transaction_id == transaction_id,
                                       MeterValue.measurand == measurand,
                                       MeterValue.value.is_not(None))
        .order_by(MeterValue.timestamp.desc(), MeterValue.phase.is_not(None),
                  MeterValue.id.desc()).limit(1)).first()
    return row[0] if row else None


def _active_transactions(charger_ids: list[int] | None = None
                         ) -> dict[tuple[int, int], Transaction]:
    stmt = select(Transaction).where(Transaction.stopped_at.is_(None),
                                     Transaction.unmatched_stop.is_(False))
    if charger_ids is not None:
        stmt = stmt.where(Transaction.charger_id.in_(charger_ids))
    found: dict[tuple[int, int], Transaction] = {}
    for tx in db.session.execute(stmt.order_by(Transaction.id)).scalars():
        found[(tx.charger_id, tx.connector_id or 0)] = tx  # newest wins
    return found


def _state(charger: Charger, active: dict[tuple[int, int], Transaction]) -> ChargerState:
    state = ChargerState(charger=charger)
    seen = set()
    for c in charger.connectors:
        item = ConnectorState(c.connector_id, c.status, c.error_code, c.info)
        tx = active.get((charger.id, c.connector_id))
        if tx is not None:
            item.transaction = tx
            item.power_w = latest_value(tx.id, POWER)
            register = latest_value(tx.id, ENERGY)
            if register is not None and tx.meter_start is not None:
                item.energy_wh = max(0.0, register - tx.meter_start)
        seen.add(c.connector_id)
        if c.connector_id == 0:
            state.station = item
        else:
            state.connectors.append(item)
    # A transaction on a connector that never sent a StatusNotification still shows.
    for (charger_id, connector_id), tx in active.items():
        if charger_id == charger.id and connector_id not in seen and connector_id:
            state.connectors.append(ConnectorState(connector_id, None, None, transaction=tx,
                                                   power_w=latest_value(tx.id, POWER)))
    return state


def overview() -> list[ChargerState]:
    chargers = db.session.execute(select(Charger).options(selectinload(Charger.connectors))
                                  .order_by(Charger.identity)).scalars().all()
    active = _active_transactions()
    return [_state(c, active) for c in chargers]


def charger_state(charger: Charger) -> ChargerState:
    return _state(charger, _active_transactions([charger.id]))


def counts(states: list[ChargerState]) -> dict[str, int]:
    return {
        "connected": sum(1 for s in states if s.connected),
        "charging": sum(1 for s in states if s.connected and s.charging),
        "faulted": sum(1 for s in states if s.connected and s.faulted),
        "offline": sum(1 for s in states if not s.connected),
    }


def energy_since(start: datetime) -> float:
    """Wh delivered since ``start``: stopped transactions plus the running ones' progress.

    A transaction is counted by when it stopped (its whole energy), which is what a day's
    report usually means; a running one counts what it delivered so far.
    """
    stopped = db.session.execute(
        select(func.coalesce(func.sum(Transaction.energy_wh), 0.0))
        .where(Transaction.stopped_at >= start)).scalar_one()
    running = 0.0
    for tx in _active_transactions().values():
        register = latest_value(tx.id, ENERGY)
        if register is not None and tx.meter_start is not None:
            running += max(0.0, register - tx.meter_start)
    return float(stopped) + running


def energy_summary(now: datetime | None = None) -> dict[str, float]:
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    return {"today_wh": energy_since(day), "month_wh": energy_since(month)}


def status_events(limit: int = 200, identity: str | None = None,
                  errors_only: bool = True) -> list[tuple[StatusNotification, str]]:
    """Status notifications across chargers, newest first, with the charger's identity."""
    stmt = select(StatusNotification, Charger.identity).join(
        Charger, Charger.id == StatusNotification.charger_id)
    if identity:
        stmt = stmt.where(Charger.identity == identity)
    if errors_only:
        stmt = stmt.where((StatusNotification.error_code != "NoError")
                          | (StatusNotification.status.in_(("Faulted", "Unavailable"))))
    return [tuple(r) for r in db.session.execute(
        stmt.order_by(StatusNotification.id.desc()).limit(limit))]


def commands(charger_id: int, limit: int = 30) -> list[Command]:
    return list(db.session.execute(
        select(Command).where(Command.charger_id == charger_id)
        .order_by(Command.id.desc()).limit(limit)).scalars())


def messages(charger_id: int, *, direction: str | None = None, action: str | None = None,
             text: str | None = None, after_id: int | None = None, before_id: int | None = None,
             limit: int = 100) -> list[MessageLog]:
    """The shared message-log query plus the console's text search and live-tail bounds."""
    stmt = records.messages(charger_id, direction=direction if direction in ("in", "out")
                            else None, action=action)
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(MessageLog.frame.like(f"%{escaped}%", escape="\\"))
    if after_id is not None:
        stmt = stmt.where(MessageLog.id > after_id)
    if before_id is not None:
        stmt = stmt.where(MessageLog.id < before_id)
    return list(db.session.execute(stmt.limit(limit)).scalars())


def message_actions(charger_id: int) -> list[str]:
    return [a for (a,) in db.session.execute(
        select(MessageLog.action).where(MessageLog.charger_id == charger_id,
                                        MessageLog.action.is_not(None))
        .distinct().order_by(MessageLog.action)) if a]


def last_message_id(charger_id: int) -> int:
    return db.session.execute(select(func.coalesce(func.max(MessageLog.id), 0))
                              .where(MessageLog.charger_id == charger_id)).scalar_one()


def series(transaction_id: int) -> dict[str, list[tuple[datetime, float]]]:
    """Power (W) and energy (Wh, as delivered since the start) over a transaction."""
    tx = db.session.get(Transaction, transaction_id)
    rows = db.session.execute(
        select(MeterValue.timestamp, MeterValue.measurand, MeterValue.phase, MeterValue.value)
        .where(MeterValue.transaction_id == transaction_id,
               MeterValue.measurand.in_((POWER, ENERGY)), MeterValue.value.is_not(None),
               MeterValue.timestamp.is_not(None))
        .order_by(MeterValue.timestamp, MeterValue.id)).all()
    power: dict[datetime, float] = {}
    energy: dict[datetime, float] = {}
    phased_power: dict[datetime, float] = {}
    for ts, measurand, phase, value in rows:
        if measurand == POWER:
            if phase is None:
                power[ts] = value
            else:  # per-phase values add up when no total is reported
                phased_power[ts] = phased_power.get(ts, 0.0) + value
        elif phase is None:
            energy[ts] = value
    for ts, value in phased_power.items():
        power.setdefault(ts, value)
    start = tx.meter_start if tx is not None and tx.meter_start is not None else None
    if start is None and energy:
        start = min(energy.values())
    delivered = sorted((ts, max(0.0, v - (start or 0.0))) for ts, v in energy.items())
    # The stop reading closes the energy curve (chargers rarely sample at the very end).
    if tx is not None and tx.stopped_at is not None and tx.meter_stop is not None \
            and start is not None and (not delivered or delivered[-1][0] < tx.stopped_at):
        delivered.append((tx.stopped_at, max(0.0, tx.meter_stop - start)))
    return {"power": sorted(power.items()), "energy": delivered}
