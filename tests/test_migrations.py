"""The migrations build the schema the models describe, and go back down cleanly."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import app.models  # noqa: F401 - registers every table
from app.extensions import db
from tests.support.database import database_url
from tests.support.server import LiveServer

# SQLite reflection skips expression indexes (lower(id_tag)) with a warning: they are checked
# by name below instead.
pytestmark = [pytest.mark.filterwarnings("ignore:Skipped unsupported reflection"),
              pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified")]


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)


# The indexes of id_tokens, from each database's catalogue.
_INDEXES_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'id_tokens'",
    "postgresql": "SELECT indexname FROM pg_indexes WHERE tablename = 'id_tokens'",
}


def _indexes(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(_INDEXES_SQL[conn.dialect.name])).scalars())


def _index_definition(conn: sa.Connection, name: str) -> str | None:
    if conn.dialect.name == "sqlite":
        sql = "SELECT sql FROM sqlite_master WHERE name = :name"
    else:
        sql = "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
    return conn.execute(sa.text(sql), {"name": name}).scalar()


def test_upgrade_matches_the_models_and_downgrade_undoes_the_last_step(tmp_path):
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    try:
        srv.flask("db", "upgrade")
        assert _differences(engine) == []
        assert "ix_id_tokens_id_tag_lower" not in _indexes(engine)  # replaced by id_tag_key
        srv.flask("db", "downgrade", "0002")
        assert "ix_id_tokens_id_tag_lower" in _indexes(engine)
        srv.flask("db", "downgrade", "0001")
        assert "ix_id_tokens_id_tag_lower" not in _indexes(engine)
        srv.flask("db", "upgrade")
        assert "(head)" in srv.flask("db", "current").stdout
    finally:
        engine.dispose()


def test_upgrade_folds_existing_tags_and_flags_backwards_meters(tmp_path):
    """Rows stored before 0005: non-ASCII capitals become findable, case twins are reported
    (the older one stays matchable), negative energy is flagged and no longer counted."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    try:
        srv.flask("db", "upgrade", "0002")
        with engine.begin() as conn:
            for id_tag in ("ÖL-CARD-1", "öl-card-1", "Straße"):
                conn.execute(sa.text("INSERT INTO id_tokens (id_tag, status, auto_created) "
                                     "VALUES (:t, 'Accepted', FALSE)"), {"t": id_tag})
            conn.execute(sa.text("INSERT INTO chargers (identity, enabled, registration_status, "
                                 "auto_enrolled, lenient) "
                                 "VALUES ('m1', TRUE, 'accepted', FALSE, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO transactions (charger_id, id_tag, meter_start, meter_stop, "
                "energy_wh, unmatched_stop) "
                "VALUES (1, 'ÖL-CARD-1', 50000000, 0, -50000000, FALSE), "
                "(1, 'x', 0, 10, 10, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO meter_values (charger_id, connector_id, measurand, value, raw_value, "
                "source) VALUES (1, 1, 'E', :inf, 'Infinity', 'MeterValues'), "
                "(1, 1, 'E', :minus, '-1e400', 'MeterValues'), (1, 1, 'E', 5, '5', 'MeterValues')"),
                {"inf": float("inf"), "minus": float("-inf")})
        upgrade = srv.flask("db", "upgrade")
        assert "'öl-card-1' (id 2) differs only in case" in upgrade.stdout
        with engine.connect() as conn:
            keys = conn.execute(sa.text("SELECT id_tag, id_tag_key FROM id_tokens ORDER BY id")
                                ).all()
            txs = conn.execute(sa.text("SELECT id_tag_key, energy_wh, meter_anomaly, "
                                       "meter_stop FROM transactions ORDER BY id")).all()
        assert keys == [("ÖL-CARD-1", "öl-card-1"), ("öl-card-1", "DUPLICATE 2"),
                        ("Straße", "strasse")]
        assert txs == [("öl-card-1", None, 1, 0), ("x", 10.0, 0, 10)]
        with engine.connect() as conn:
            values = conn.execute(sa.text("SELECT value, raw_value FROM meter_values ORDER BY id"))
            assert values.all() == [(None, "Infinity"), (None, "-1e400"), (5.0, "5")]
    finally:
        engine.dispose()


def test_upgrade_to_transaction_events_keeps_16_transactions(tmp_path):
    """Transactions stored before 0008 (1.6: our id, no charger id) survive unchanged, with the
    2.x columns empty; a 2.x transaction and its events fit after; downgrade undoes it."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    try:
        srv.flask("db", "upgrade", "0006")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO chargers (identity, enabled, registration_status, "
                                 "auto_enrolled, lenient) "
                                 "VALUES ('m1', TRUE, 'accepted', FALSE, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO transactions (charger_id, connector_id, id_tag, meter_start, "
                "meter_stop, energy_wh, stop_reason, unmatched_stop, meter_anomaly) "
                "VALUES (1, 1, 'TAG-16', 1000, 4500, 3500, 'EVDisconnected', FALSE, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO commands (charger_id, action, status, timeout, source) "
                "VALUES (1, 'RemoteStartTransaction', 'completed', 30, 'api')"))
        srv.flask("db", "upgrade", "0008")
        with engine.begin() as conn:
            old = conn.execute(sa.text(
                "SELECT id, id_tag, meter_start, meter_stop, energy_wh, stop_reason, "
                "charger_transaction_id, evse_id, stopped_reason, remote_start_id, offline "
                "FROM transactions")).all()
            assert old == [(1, "TAG-16", 1000, 4500, 3500.0, "EVDisconnected",
                            None, None, None, None, 0)]
            assert conn.execute(sa.text("SELECT remote_start_id FROM commands")).all() == [
                (None,)]
            start_key = _index_definition(conn, "ix_tx_start_key")
            assert re.search(r"WHERE \(?charger_transaction_id IS NULL", start_key)  # 1.6 only
            conn.execute(sa.text(
                "INSERT INTO transactions (charger_id, charger_transaction_id, evse_id, "
                "unmatched_stop, meter_anomaly, offline) "
                "VALUES (1, 'tx-2x', 1, FALSE, FALSE, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO transaction_events (transaction_id, charger_id, seq_no, event_type, "
                "trigger_reason, offline) VALUES (2, 1, 0, 'Started', 'Authorized', FALSE)"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # once per charger
            conn.execute(sa.text(
                "INSERT INTO transactions (charger_id, charger_transaction_id, unmatched_stop, "
                "meter_anomaly, offline) VALUES (1, 'tx-2x', FALSE, FALSE, FALSE)"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # one row per seqNo
            conn.execute(sa.text(
                "INSERT INTO transaction_events (transaction_id, charger_id, seq_no, event_type, "
                "trigger_reason, offline) VALUES (2, 1, 0, 'Started', 'Authorized', FALSE)"))
        srv.flask("db", "downgrade", "0006")
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id, energy_wh FROM transactions ORDER BY id")
                                ).all() == [(1, 3500.0), (2, None)]
            assert not sa.inspect(conn).has_table("transaction_events")
    finally:
        engine.dispose()


def test_0010_adds_the_2x_notification_tables_and_keeps_status_rows(tmp_path):
    """Firmware status rows stored before 0010 survive it (no 2.x requestId); downgrading
    removes the new tables again."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    new_tables = {"security_events", "charger_events", "charging_limits",
                  "reported_charging_profiles", "customer_information",
                  "reported_display_messages", "station_reports"}
    try:
        srv.flask("db", "upgrade", "0006")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO chargers (identity, enabled, registration_status, "
                                 "auto_enrolled, lenient) "
                                 "VALUES ('m1', TRUE, 'accepted', FALSE, FALSE)"))
            conn.execute(sa.text("INSERT INTO firmware_status_notifications (charger_id, "
                                 "status) VALUES (1, 'Installed')"))
        srv.flask("db", "upgrade", "0010")
        assert new_tables <= set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT status, ocpp_request_id FROM "
                                        "firmware_status_notifications")).all() == [
                ("Installed", None)]
        srv.flask("db", "downgrade", "0006")
        engine.dispose()
        assert not new_tables & set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_makes_each_16_connector_its_own_evse(tmp_path):
    """Rows stored before 0007: 1.6 connectors and status history get evse_id = connector_id,
    tokens keep no type, and a 2.x charger can then have connector 1 on two EVSEs."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    try:
        srv.flask("db", "upgrade", "0006")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO chargers (identity, enabled, registration_status, "
                                 "auto_enrolled, lenient) "
                                 "VALUES ('old16', TRUE, 'accepted', FALSE, FALSE)"))
            for connector_id in (0, 1, 2):
                conn.execute(sa.text(
                    "INSERT INTO connectors (charger_id, connector_id, status) "
                    "VALUES (1, :c, 'Available')"), {"c": connector_id})
                conn.execute(sa.text(
                    "INSERT INTO status_notifications (charger_id, connector_id, status, "
                    "error_code) VALUES (1, :c, 'Available', 'NoError')"), {"c": connector_id})
            conn.execute(sa.text("INSERT INTO id_tokens (id_tag, id_tag_key, status, "
                                 "auto_created) VALUES ('CARD-1', 'card-1', 'Accepted', FALSE)"))
        srv.flask("db", "upgrade")
        with engine.begin() as conn:
            connectors = conn.execute(sa.text(
                "SELECT evse_id, connector_id FROM connectors ORDER BY id")).all()
            history = conn.execute(sa.text(
                "SELECT evse_id, connector_id FROM status_notifications ORDER BY id")).all()
            tokens = conn.execute(sa.text("SELECT id_tag, type FROM id_tokens")).all()
            reason = conn.execute(sa.text("SELECT last_boot_reason FROM chargers")).scalar()
            # Unique per (charger, EVSE, connector) now: EVSE 3 may have its own connector 1.
            conn.execute(sa.text("INSERT INTO connectors (charger_id, evse_id, connector_id) "
                                 "VALUES (1, 3, 1)"))
            with pytest.raises(sa.exc.IntegrityError):
                with conn.begin_nested():
                    conn.execute(sa.text("INSERT INTO connectors (charger_id, evse_id, "
                                         "connector_id) VALUES (1, 1, 1)"))
        assert connectors == [(0, 0), (1, 1), (2, 2)]
        assert history == [(0, 0), (1, 1), (2, 2)]
        assert tokens == [("CARD-1", None)] and reason is None
    finally:
        engine.dispose()


def test_16_data_from_before_2x_reaches_the_api_after_every_step(tmp_path):
    """A node that ran 1.6 only (schema 0005) upgrades to the head: every row stays, and the API
    serves its chargers, connectors, transactions, tokens and reservations in the new shape."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    tables = ("chargers", "connectors", "status_notifications", "transactions", "meter_values",
              "id_tokens", "reservations", "commands")
    try:
        srv.flask("db", "upgrade", "0005")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO chargers (identity, enabled, registration_status, auto_enrolled, "
                "lenient, ocpp_version, vendor) "
                "VALUES ('old-16', TRUE, 'accepted', FALSE, FALSE, '1.6', "
                "'Acme')"))
            conn.execute(sa.text(
                "INSERT INTO connectors (charger_id, connector_id, status, error_code, "
                "availability) VALUES (1, 1, 'Available', 'NoError', 'Operative'), "
                "(1, 2, 'Charging', 'NoError', 'Operative')"))
            conn.execute(sa.text(
                "INSERT INTO status_notifications (charger_id, connector_id, status, error_code) "
                "VALUES (1, 1, 'Available', 'NoError')"))
            conn.execute(sa.text(
                "INSERT INTO id_tokens (id_tag, id_tag_key, status, auto_created) "
                "VALUES ('CARD-16', 'card-16', 'Accepted', FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO transactions (charger_id, connector_id, id_tag, id_tag_key, "
                "meter_start, meter_stop, energy_wh, stop_reason, unmatched_stop, meter_anomaly, "
                "started_at, stopped_at) VALUES (1, 2, 'CARD-16', 'card-16', 100, 7100, 7000, "
                "'Local', FALSE, FALSE, '2026-11-01 10:00:00', '2026-11-01 11:00:00')"))
            conn.execute(sa.text(
                "INSERT INTO meter_values (charger_id, connector_id, transaction_id, measurand, "
                "value, raw_value, source) VALUES (1, 2, 1, 'Energy.Active.Import.Register', "
                "7100, '7100', 'MeterValues')"))
            conn.execute(sa.text(
                "INSERT INTO reservations (id, charger_id, connector_id, id_tag, status) "
                "VALUES (5, 1, 1, 'CARD-16', 'Accepted')"))
            conn.execute(sa.text(
                "INSERT INTO commands (charger_id, action, status, timeout, source) "
                "VALUES (1, 'Reset', 'completed', 30, 'api')"))
        with engine.connect() as conn:
            before = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                      for t in tables}
        srv.flask("db", "upgrade")
        with engine.connect() as conn:
            after = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
                     for t in tables}
        assert after == before
        engine.dispose()
        srv.start()
        from tests.conftest import Api

        api = Api(srv.url, srv.create_user("migrated-admin"))
        charger = api.get("/chargers/old-16").json()
        assert charger["vendor"] == "Acme" and charger["ocpp_version_pin"] is None
        assert [(c["evse_id"], c["connector_id"], c["status"]) for c in charger["connectors"]] \
            == [(1, 1, "Available"), (2, 2, "Charging")]
        [tx] = api.get("/transactions", params={"charger": "old-16"}).json()["items"]
        assert (tx["id_tag"], tx["energy_wh"], tx["charger_transaction_id"]) == (
            "CARD-16", 7000.0, None)
        token = api.get("/tokens/CARD-16").json()
        assert token["type"] is None and token["status"] == "Accepted"
        assert api.get("/reservations/5").json()["id_tag"] == "CARD-16"
    finally:
        srv.stop()
        engine.dispose()


def test_0014_adds_the_scheduled_work_tables_and_downgrade_removes_them(tmp_path):
    """Alerts, meter-value aggregates and the daily energy summary are new tables: rows stored
    before 0014 (raw meter values) are untouched, and going down drops only the new tables."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    new_tables = {"alerts", "meter_value_aggregates", "daily_energy"}
    try:
        srv.flask("db", "upgrade", "0013")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO chargers (identity, enabled, registration_status, "
                                 "auto_enrolled, lenient) "
                                 "VALUES ('m1', TRUE, 'accepted', FALSE, FALSE)"))
            conn.execute(sa.text(
                "INSERT INTO meter_values (charger_id, connector_id, measurand, value, "
                "raw_value, source) VALUES (1, 1, 'Energy.Active.Import.Register', 5, '5', "
                "'MeterValues')"))
        srv.flask("db", "upgrade", "0014")
        assert new_tables <= set(sa.inspect(engine).get_table_names())
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT value FROM meter_values")).scalars().all() == [5]
            conn.execute(sa.text("INSERT INTO alerts (charger_id, kind) VALUES (1, 'offline')"))
            conn.execute(sa.text("INSERT INTO daily_energy (day, charger_id, energy_wh, "
                                 "sessions) VALUES ('2030-01-01', NULL, 0, 0)"))
        srv.flask("db", "downgrade", "0013")
        engine.dispose()
        assert not new_tables & set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM meter_values")).scalar() == 1
    finally:
        engine.dispose()


def test_0015_adds_node_features_and_rfid_scans_and_downgrade_removes_them(tmp_path):
    """An admin's feature switches, the scan history and LCD messages are new tables: tokens
    stored before 0015 are untouched, and going down drops only the new tables."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    new_tables = {"node_features", "rfid_scans", "node_messages"}
    try:
        srv.flask("db", "upgrade", "0014")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO id_tokens (id_tag, id_tag_key, status, "
                                 "auto_created) "
                                 "VALUES ('04A2B3C4', '04a2b3c4', 'Accepted', FALSE)"))
        srv.flask("db", "upgrade", "0015")
        assert new_tables <= set(sa.inspect(engine).get_table_names())
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO node_features (name, enabled) VALUES ('lcd', FALSE)"))
            conn.execute(sa.text("INSERT INTO rfid_scans (uid, result) "
                                 "VALUES ('04A2B3C4', 'pending')"))
        srv.flask("db", "downgrade", "0014")
        engine.dispose()
        assert not new_tables & set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT id_tag FROM id_tokens")).scalars().all() == [
                "04A2B3C4"]
    finally:
        engine.dispose()


def test_0016_message_ids_go_past_32_bits(tmp_path):
    """The per-message tables' ids have 64 bits on every database after 0016 (PostgreSQL's
    serial had 32): a message-log row past 2**31 is stored, and rows from before stay."""
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(database_url(tmp_path))
    row = ("INSERT INTO message_log (identity, direction, frame) "
           "VALUES ('m1', 'in', '[2,\"1\",\"Heartbeat\",{}]')")
    try:
        srv.flask("db", "upgrade", "0015")
        with engine.begin() as conn:
            conn.execute(sa.text(row))
        srv.flask("db", "upgrade")
        srv.flask("db", "downgrade", "0015")
        srv.flask("db", "upgrade")
        past = 2**31 + 10
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('message_log', "
                                     "'id'), :past)"), {"past": past})
            else:
                conn.execute(sa.text(row.replace("(identity", "(id, identity")
                                     .replace("VALUES (", "VALUES (:past, ")), {"past": past})
            conn.execute(sa.text(row))
            ids = conn.execute(sa.text("SELECT id FROM message_log ORDER BY id")).scalars().all()
        assert ids[0] == 1 and ids[-1] == past + 1
        assert _differences(engine) == []
    finally:
        engine.dispose()
