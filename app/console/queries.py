"""Read-only queries the console pages need and the shared services do not offer (yet).

Everything that changes data goes through ``app.services``; this module only reads the same
tables, shaped for pages: the dashboard's overview, a charger's live state, histories.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    Charger,
    Command,
    Connector,
    MessageLog,
    MeterValue,
    StatusNotification,
    Transaction,
)
from ..services import records
from ..services import transactions_query as tx_query

POWER = tx_query.POWER
ENERGY = tx_query.ENERGY


@dataclass
class ConnectorState:
    connector_id: int
    status: str | None
    error_code: str | None
    info: str | None = None
    transaction: Transaction | None = None
    power_w: float | None = None
    energy_wh: float | None = None  # delivered so far in the running transaction
    # The EVSE (2.x); for 1.6 the connector id itself, each 1.6 connector being its own EVSE.
    evse_id: int | None = None

    @property
    def label(self) -> str:
        """``#2`` for a 1.6 connector, ``EVSE 2 · #1`` for a 2.x one."""
        if self.evse_id is None or self.evse_id == self.connector_id:
            return f"#{self.connector_id}"
        return f"EVSE {self.evse_id} · #{self.connector_id}"

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


CHUNK = tx_query.CHUNK


# A running transaction is shown on its connector: (charger, EVSE, connector). A 1.6 connector is
# its own EVSE; a 2.x event may name the EVSE without the connector (None).
ConnectorKey = tuple[int, int, int | None]


def _tx_key(tx: Transaction) -> ConnectorKey:
    if tx.evse_id is None:
        return (tx.charger_id, tx.connector_id or 0, tx.connector_id or 0)
    return (tx.charger_id, tx.evse_id, tx.connector_id)


def _connector_key(charger_id: int, c: Connector) -> ConnectorKey:
    return (charger_id, c.evse_id if c.evse_id is not None else c.connector_id, c.connector_id)


def _active_transactions(charger_ids: list[int] | None = None
                         ) -> dict[ConnectorKey, Transaction]:
    stmt = select(Transaction).where(Transaction.stopped_at.is_(None),
                                     Transaction.unmatched_stop.is_(False))
    if charger_ids is not None:
        stmt = stmt.where(Transaction.charger_id.in_(charger_ids))
    found: dict[tuple[int, int], Transaction] = {}
    for tx in db.session.execute(stmt.order_by(Transaction.id)).scalars():
        found[_tx_key(tx)] = tx  # newest wins
    return found


def _connector(connector_id: int, status: str | None, error_code: str | None,
               info: str | None, tx: Transaction | None,
               latest: dict[tuple[int, str], float], connected: bool) -> ConnectorState:
    item = ConnectorState(connector_id, status, error_code, info)
    if tx is not None:
        item.transaction = tx
        # Power is live only while the charger is connected: an offline charger's last
        # reading says nothing about now (its transaction may never get its stop).
        item.power_w = latest.get((tx.id, POWER)) if connected else None
        item.energy_wh = tx_query.energy_so_far([tx], latest).get(tx.id)
    return item


def _state(charger: Charger, active: dict[ConnectorKey, Transaction],
           latest: dict[tuple[int, str], float]) -> ChargerState:
    state = ChargerState(charger=charger)
    seen = set()
    for c in charger.connectors:
        key = _connector_key(charger.id, c)
        # A 2.x transaction that named only its EVSE shows on that EVSE's connector.
        evse_only = (charger.id, key[1], None)
        tx = active.get(key)
        seen.add(key)
        if tx is None and evse_only in active:
            tx = active[evse_only]
            seen.add(evse_only)
        item = _connector(c.connector_id, c.status, c.error_code, c.info, tx, latest,
                          charger.connected)
        item.evse_id = c.evse_id
        if c.connector_id == 0 and not c.evse_id:
            state.station = item
        else:
            state.connectors.append(item)
    # A transaction on a connector that never sent a StatusNotification still shows.
    for key, tx in active.items():
        charger_id, evse_id, connector_id = key
        if charger_id == charger.id and key not in seen and (connector_id or evse_id):
            item = _connector(connector_id or 0, None, None, None, tx, latest, charger.connected)
            item.evse_id = tx.evse_id
            state.connectors.append(item)
    return state


def states(chargers: list[Charger]) -> list[ChargerState]:
    """Live state of ``chargers``: a fixed number of queries however many there are."""
    if not chargers:
        return []
    active: dict[ConnectorKey, Transaction] = {}
    ids = [c.id for c in chargers]
    for i in range(0, len(ids), CHUNK):
        active.update(_active_transactions(ids[i:i + CHUNK]))
    latest = tx_query.latest_readings([tx.id for tx in active.values()])
    return [_state(c, active, latest) for c in chargers]


CHARGER_STATES = ("online", "offline", "charging", "faulted", "decommissioned")
IN_SERVICE = Charger.decommissioned_at.is_(None)


def _charger_filter(stmt, q: str | None, state: str | None):
    connected = Charger.session_owner.is_not(None)
    # Decommissioned chargers are listed only when asked for.
    stmt = stmt.where(Charger.decommissioned_at.is_not(None) if state == "decommissioned"
                      else IN_SERVICE)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        # ilike: case-insensitive on PostgreSQL too, as LIKE is (for ASCII) on SQLite.
        stmt = stmt.where(or_(Charger.identity.ilike(f"%{escaped}%", escape="\\"),
                              Charger.description.ilike(f"%{escaped}%", escape="\\")))
    if state == "online":
        stmt = stmt.where(connected)
    elif state == "offline":
        stmt = stmt.where(Charger.session_owner.is_(None))
    elif state == "charging":
        stmt = stmt.where(connected, Charger.id.in_(
            select(Connector.charger_id).where(Connector.status == "Charging")))
    elif state == "faulted":
        stmt = stmt.where(connected, Charger.id.in_(select(Connector.charger_id).where(
            or_(Connector.status == "Faulted", and_(Connector.error_code.is_not(None),
                                                    Connector.error_code != "NoError")))))
    return stmt


def overview(identities: list[str] | None = None, *, q: str | None = None,
             state: str | None = None, page: int = 1,
             per_page: int = 100) -> tuple[list[ChargerState], int]:
    """One page of chargers (by identity) matching the filters, and how many match."""
    stmt = _charger_filter(select(Charger), q, state)
    if identities is not None:
        stmt = stmt.where(Charger.identity.in_(identities[:CHUNK]))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    stmt = stmt.options(selectinload(Charger.connectors)).order_by(Charger.identity)
    if identities is None:
        stmt = stmt.limit(per_page).offset((max(page, 1) - 1) * per_page)
    return states(list(db.session.execute(stmt).scalars())), total


def charger_state(charger: Charger) -> ChargerState:
    return states([charger])[0]


def counts() -> dict[str, int]:
    """Connected, charging, faulted (both among the connected) and offline chargers, in SQL."""
    connected = Charger.session_owner.is_not(None)
    total, online = db.session.execute(select(
        func.count(Charger.id), func.count(Charger.session_owner)).where(IN_SERVICE)).one()

    def chargers_with(*conditions) -> int:
        return db.session.execute(
            select(func.count(func.distinct(Connector.charger_id)))
            .join(Charger, Charger.id == Connector.charger_id)
            .where(connected, *conditions)).scalar_one()

    return {
        "connected": online,
        "charging": chargers_with(Connector.status == "Charging"),
        "faulted": chargers_with(or_(Connector.status == "Faulted",
                                     and_(Connector.error_code.is_not(None),
                                          Connector.error_code != "NoError"))),
        "offline": total - online,
    }


def running_energy() -> float:
    """What the running transactions delivered so far: the sum of ``tx_query.energy_so_far``
    (newest register minus start, never negative), done in SQL so it costs one query."""
    newest = (select(MeterValue.value)
              .where(MeterValue.transaction_id == Transaction.id,
                     MeterValue.measurand == ENERGY, MeterValue.value.is_not(None))
              .order_by(MeterValue.timestamp.desc(), MeterValue.phase.is_not(None),
                        MeterValue.id.desc())
              .limit(1).correlate(Transaction).scalar_subquery())
    delivered = newest - Transaction.meter_start
    total = db.session.execute(
        select(func.coalesce(func.sum(case((delivered > 0, delivered), else_=0.0)), 0.0))
        .where(Transaction.stopped_at.is_(None), Transaction.unmatched_stop.is_(False),
               Transaction.meter_start.is_not(None))).scalar_one()
    return float(total or 0.0)


def energy_summary(now: datetime | None = None) -> dict[str, float]:
    """Wh delivered today and this month (UTC): transactions that stopped in the period, by
    their whole energy, plus what the running ones delivered so far."""
    now = now or datetime.now(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    running = running_energy()

    def stopped_since(start: datetime) -> float:
        return float(db.session.execute(
            select(func.coalesce(func.sum(Transaction.energy_wh), 0.0))
            # energy_wh is never negative (a backwards meter is flagged, energy None); the
            # condition keeps rows stored before that rule out too.
            .where(Transaction.stopped_at >= start, Transaction.energy_wh >= 0)).scalar_one())

    return {"today_wh": stopped_since(day) + running, "month_wh": stopped_since(month) + running}


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
        stmt = stmt.where(MessageLog.frame.ilike(f"%{escaped}%", escape="\\"))
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


def command_log(*, user: str | None = None, charger_id: int | None = None,
                action: str | None = None, status: str | None = None):
    """Every command, newest first: the audit trail of who sent what, from where."""
    stmt = select(Command)
    if user:
        stmt = stmt.where(Command.requested_by == user)
    if charger_id is not None:
        stmt = stmt.where(Command.charger_id == charger_id)
    if action:
        stmt = stmt.where(Command.action == action)
    if status:
        stmt = stmt.where(Command.status == status)
    return stmt.order_by(Command.id.desc())
