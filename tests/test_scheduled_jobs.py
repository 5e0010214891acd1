"""The scheduled jobs' services below the wire, on real SQLite and PostgreSQL databases:
offline alerts, reservation and stale-command expiry, meter-value downsampling and the daily
energy summary; and the jobs themselves in an app context, as a worker runs them."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

NOW = datetime(2030, 6, 2, 12, 0, 0, tzinfo=UTC)


_databases = itertools.count(1)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path}/jobs.db"
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database(
            f"constellation_jobs_{next(_databases)}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _charger(identity: str, **fields):
    from app.extensions import db
    from app.models import Charger

    charger = Charger(identity=identity, **{"registration_status": "accepted", **fields})
    db.session.add(charger)
    db.session.commit()
    return charger.id


def _alerts() -> list[tuple]:
    from app.extensions import db
    from app.models import Alert, Charger

    return [(identity, kind, cleared is None) for identity, kind, cleared in db.session.execute(
        sa.select(Charger.identity, Alert.kind, Alert.cleared_at).join(
            Charger, Charger.id == Alert.charger_id).order_by(Alert.id))]


def test_a_silent_charger_gets_one_offline_alert_which_clears_when_heard_again(app):
    from app.extensions import db
    from app.models import Charger
    from app.services import offline

    # Heartbeat interval 60 s, factor 2, grace 30 s: silence beyond 150 s is offline.
    quiet = _charger("quiet", heartbeat_interval=60, last_heartbeat=NOW - timedelta(seconds=151))
    _charger("chatty", heartbeat_interval=60, last_heartbeat=NOW - timedelta(seconds=100))
    _charger("default-interval", connected_at=NOW - timedelta(seconds=500))  # 300 s x 2 + 30
    _charger("never-seen")
    _charger("retired", last_heartbeat=NOW - timedelta(days=9), decommissioned_at=NOW)
    refused = _charger("refused", last_heartbeat=NOW - timedelta(days=9))

    def detect(at):
        with db.engine.begin() as conn:
            return offline.detect(conn, at, 300.0, 2.0, 30.0)

    assert detect(NOW).as_dict() == {"raised": 2, "cleared": 0}
    assert _alerts() == [("quiet", "offline", True), ("refused", "offline", True)]
    # Rejected from now on: not expected to keep in touch, its alert is cleared.
    db.session.get(Charger, refused).registration_status = "rejected"
    db.session.commit()
    assert detect(NOW).as_dict() == {"raised": 0, "cleared": 1}
    assert _alerts() == [("quiet", "offline", True), ("refused", "offline", False)]
    assert detect(NOW + timedelta(seconds=1)).as_dict() == {"raised": 0, "cleared": 0}
    # Heard again (any frame writes last_heartbeat): the next run clears it.
    db.session.get(Charger, quiet).last_heartbeat = NOW + timedelta(seconds=2)
    db.session.commit()
    assert detect(NOW + timedelta(seconds=3)).as_dict() == {"raised": 0, "cleared": 1}
    assert _alerts() == [("quiet", "offline", False), ("refused", "offline", False)]
    # Silent again later: a new alert, the old one stays in the history.
    assert detect(NOW + timedelta(seconds=400)).as_dict()["raised"] == 3
    assert _alerts() == [("quiet", "offline", False), ("refused", "offline", False),
                         ("quiet", "offline", True), ("chatty", "offline", True),
                         ("default-interval", "offline", True)]


def test_alert_queries_and_acknowledgement(app):
    from app.extensions import db
    from app.services import alerts, offline
    from app.services.errors import DomainError

    cid = _charger("ack-1", last_heartbeat=NOW - timedelta(days=1))
    with db.engine.begin() as conn:
        offline.detect(conn, NOW, 60.0, 1.0, 0.0)
    [alert] = db.session.execute(alerts.query(cid, active=True)).scalars()
    assert db.session.execute(alerts.query(active=False)).scalars().all() == []
    alerts.acknowledge(alert.id, "alice", NOW)
    shown = alerts.to_dict(alert)
    assert (shown["charger"], shown["active"], shown["acknowledged_by"]) == ("ack-1", True,
                                                                            "alice")
    assert "nothing heard since 2030-06-01T12:00:00Z" in shown["detail"]
    with pytest.raises(DomainError) as refused:
        alerts.acknowledge(alert.id + 100, "alice", NOW)
    assert refused.value.status == 404


def test_reservations_past_their_expiry_become_expired(app):
    from app.extensions import db
    from app.models import Reservation
    from app.services import reservation_expiry

    cid = _charger("res-1")
    for rid, status, expiry in ((1, "Accepted", NOW - timedelta(minutes=1)),
                                (2, "requested", NOW - timedelta(minutes=1)),
                                (3, "Accepted", NOW + timedelta(minutes=1)),
                                (4, "used", NOW - timedelta(minutes=1)),
                                (5, "cancelled", NOW - timedelta(days=1))):
        db.session.add(Reservation(id=rid, charger_id=cid, connector_id=1, id_tag="T",
                                   expiry_date=expiry, status=status))
    db.session.commit()
    with db.engine.begin() as conn:
        assert reservation_expiry.expire(conn, NOW) == 2
        assert reservation_expiry.expire(conn, NOW) == 0  # idempotent
    db.session.expire_all()
    assert [r.status for r in db.session.execute(
        sa.select(Reservation).order_by(Reservation.id)).scalars()] == [
        "expired", "expired", "Accepted", "used", "cancelled"]


def test_commands_pending_long_after_their_timeout_are_closed_as_expired(app):
    from app.extensions import db
    from app.models import Command
    from app.services import command_expiry

    cid = _charger("cmd-1")
    for created, timeout, status in ((NOW - timedelta(seconds=400), 30, "pending"),  # stale
                                     (NOW - timedelta(seconds=400), 300, "pending"),  # waiting
                                     (NOW - timedelta(seconds=10), 30, "pending"),
                                     (NOW - timedelta(days=1), 30, "completed")):
        db.session.add(Command(charger_id=cid, action="Reset", status=status, timeout=timeout,
                               created_at=created))
    db.session.commit()
    with db.engine.begin() as conn:
        assert command_expiry.expire(conn, NOW, 300.0) == 1
        assert command_expiry.expire(conn, NOW, 300.0) == 0
    db.session.expire_all()
    rows = db.session.execute(sa.select(Command).order_by(Command.id)).scalars().all()
    assert [(c.status, c.error_code) for c in rows] == [
        ("error", "Expired"), ("pending", None), ("pending", None), ("completed", None)]
    assert "process that sent it stopped" in rows[0].error_description
    assert rows[0].completed_at is not None


def test_old_meter_values_fold_into_15_minute_aggregates_once(app, monkeypatch):
    from app.extensions import db
    from app.models import MeterValue, MeterValueAggregate, Transaction
    from app.services import meter_rollup

    cid = _charger("mv-1")
    old = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
    samples = [(old + timedelta(minutes=1), 100.0), (old + timedelta(minutes=7), 300.0),
               (old + timedelta(minutes=14), 200.0), (old + timedelta(minutes=16), 500.0),
               (old + timedelta(minutes=3), None)]  # a NaN sample: not a number to average
    for when, value in samples:
        db.session.add(MeterValue(charger_id=cid, connector_id=1, transaction_id=7,
                                  timestamp=when, measurand="Power.Active.Import", unit="W",
                                  value=value, raw_value=str(value)))
    recent = NOW - timedelta(days=1)
    db.session.add(MeterValue(charger_id=cid, connector_id=1, timestamp=recent,
                              measurand="Power.Active.Import", unit="W", value=1.0,
                              raw_value="1"))
    # A transaction still running keeps its raw values, however old (its energy so far).
    running = Transaction(charger_id=cid, connector_id=2, started_at=old)
    db.session.add(running)
    db.session.flush()
    db.session.add(MeterValue(charger_id=cid, connector_id=2, transaction_id=running.id,
                              timestamp=old, measurand="Energy.Active.Import.Register",
                              unit="Wh", value=5.0, raw_value="5"))
    db.session.commit()
    # Two rows a slice: the first bucket is split over slices and merged into one row.
    monkeypatch.setattr(meter_rollup, "SLICE", 2)
    folded = []
    while True:
        with db.engine.begin() as conn:
            folded.append(meter_rollup.fold(conn, NOW, 30))
        if folded[-1] < 2:
            break
    assert sum(folded) == 5
    with db.engine.begin() as conn:
        assert meter_rollup.fold(conn, NOW, 30) == 0  # run twice: nothing left to fold
    aggregates = db.session.execute(sa.select(MeterValueAggregate).order_by(
        MeterValueAggregate.bucket_start)).scalars().all()
    assert [(a.bucket_start, a.min, a.max, a.avg, a.last, a.count, a.transaction_id)
            for a in aggregates] == [
        (old, 100.0, 300.0, 200.0, 200.0, 3, 7),
        (old + timedelta(minutes=15), 500.0, 500.0, 500.0, 500.0, 1, 7)]
    assert sorted(m.timestamp for m in db.session.execute(sa.select(MeterValue)).scalars()) == [
        old, recent]


def test_daily_energy_per_charger_and_node_total_is_recomputable(app):
    from app.extensions import db
    from app.models import DailyEnergy, Transaction
    from app.services import energy_summary

    a, b = _charger("de-a"), _charger("de-b")
    day = date(2030, 6, 1)
    noon = datetime(2030, 6, 1, 12, tzinfo=UTC)
    for charger_id, energy, stopped in ((a, 1000.0, noon), (a, 500.0, noon),
                                        (b, None, noon),  # a meter that went backwards
                                        (b, 9999.0, noon + timedelta(days=1)),
                                        (b, 7.0, None)):  # still running
        db.session.add(Transaction(charger_id=charger_id, connector_id=1, energy_wh=energy,
                                   started_at=noon - timedelta(hours=1), stopped_at=stopped))
    db.session.commit()
    assert energy_summary.yesterday(NOW) == day

    def rows():
        db.session.expire_all()
        return sorted((r.charger_id or 0, r.energy_wh, r.sessions) for r in db.session.execute(
            sa.select(DailyEnergy).where(DailyEnergy.day == day)).scalars())

    with db.engine.begin() as conn:
        total = energy_summary.summarise(conn, day, NOW)
    assert total == {"day": "2030-06-01", "chargers": 2, "energy_wh": 1500.0, "sessions": 3}
    assert rows() == [(0, 1500.0, 3), (a, 1500.0, 2), (b, 0.0, 1)]
    with db.engine.begin() as conn:
        energy_summary.summarise(conn, day, NOW)
    assert rows() == [(0, 1500.0, 3), (a, 1500.0, 2), (b, 0.0, 1)]  # replaced, not added


def test_jobs_run_in_an_app_context_as_a_worker_runs_them(app):
    from app import jobs
    from app.extensions import db
    from app.models import Charger

    app.config.update(OFFLINE_FACTOR=1.0, OFFLINE_GRACE_SECONDS=0.0)
    db.session.add(Charger(identity="job-1", heartbeat_interval=1,
                           last_heartbeat=datetime.now(UTC) - timedelta(hours=1)))
    db.session.commit()
    assert jobs.detect_offline() == {"raised": 1, "cleared": 0}
    assert jobs.expire_reservations() == 0
    assert jobs.expire_stale_commands() == 0
    assert jobs.prune_message_log() == 0
    assert jobs.downsample_meter_values() == 0
    assert jobs.summarise_daily_energy("2030-06-01")["sessions"] == 0


def test_schedule_intervals_are_read_strictly():
    from app.schedule import DEFAULTS, parse_intervals

    assert parse_intervals("") == {name: float(s) for name, (_, s) in DEFAULTS.items()}
    assert parse_intervals("offline_detection=2, daily_energy=0")["offline_detection"] == 2.0
    for bad in ("offline=2", "offline_detection", "offline_detection=soon",
                "offline_detection=-1", "offline_detection=nan"):
        with pytest.raises(ValueError):
            parse_intervals(bad)


def test_flask_jobs_run_runs_one_scheduled_job_now(tmp_path):
    import json

    from tests.support.server import LiveServer

    srv = LiveServer(env={"REDIS_URL": ""}, instance_dir=str(tmp_path))
    srv.flask("db", "upgrade")
    done = srv.flask("jobs", "run", "daily_energy", "--day", "2030-06-01")
    assert json.loads(done.stdout) == {"job": "daily_energy", "result": {
        "day": "2030-06-01", "chargers": 0, "energy_wh": 0.0, "sessions": 0}}
    assert json.loads(srv.flask("jobs", "run", "offline_detection").stdout)["result"] == {
        "raised": 0, "cleared": 0}
    bad = srv.flask("jobs", "run", "daily_energy", "--day", "June", check=False)
    assert bad.returncode != 0 and "expected YYYY-MM-DD" in bad.stderr
    unknown = srv.flask("jobs", "run", "nothing", check=False)
    assert unknown.returncode != 0 and "offline_detection" in unknown.stderr
