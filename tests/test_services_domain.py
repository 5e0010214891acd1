"""Services below the wire: they take domain values and answer domain values, whichever OCPP
version asked; the adapters word the answers (here the 1.6 wording of an authorization)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.database import database_url


@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "services")})
    with app.app_context():
        db.create_all()
        yield app


def test_authorize_decides_for_a_token_in_domain_words(app):
    from app.extensions import db
    from app.services import tokens
    from app.services.authorization import authorize
    from app.services.values import Authorization, Token

    now = datetime.now(UTC)
    tokens.create("CARD-OK", {"parent_id_tag": "FLEET-1"})
    tokens.create("CARD-OLD", {"expiry_date": (now - timedelta(days=1)).isoformat()})
    with db.engine.begin() as conn:
        ok = authorize(conn, Token("card-ok", "ISO14443"), now, "reject")
        old = authorize(conn, Token("CARD-OLD"), now, "reject")
        nobody = authorize(conn, Token("NOBODY"), now, "reject")
        walk_in = authorize(conn, Token("WALK-IN"), now, "accept")
    assert ok == Authorization("Accepted", None, "FLEET-1")  # case-insensitive match
    assert old.status == "Expired" and old.expires_at is not None
    assert nobody == Authorization("Unknown")
    assert walk_in == Authorization("Accepted")
    assert tokens.get("WALK-IN").status == "Accepted"  # recorded by the accept policy


def test_the_16_adapter_words_an_unknown_token_as_invalid():
    from app.ocpp.v16.handlers import id_tag_info
    from app.services.values import Authorization

    expiry = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert id_tag_info(Authorization("Unknown")) == {"status": "Invalid"}
    assert id_tag_info(Authorization("Blocked", expiry, "GROUP")) == {
        "status": "Blocked", "expiryDate": "2030-01-02T03:04:05.000Z", "parentIdTag": "GROUP"}


def test_samples_are_normalised_whichever_version_reported_them():
    from app.services.metering import sample_rows
    from app.services.values import Sample

    rows = sample_rows([
        Sample("1.5", unit="kWh"),  # 1.6: a string value, default measurand
        Sample(7.2, measurand="Power.Active.Import", unit="kW"),
        Sample(3, measurand="Power.Active.Import", unit="W", multiplier=3),  # 2.x multiplier
        Sample("NaN"),
    ], charger_id=1, connector_id=1, transaction_id=None, source="MeterValues")
    assert [(r["measurand"], r["value"], r["unit"]) for r in rows] == [
        ("Energy.Active.Import.Register", 1500.0, "Wh"),
        ("Power.Active.Import", 7200.0, "W"),
        ("Power.Active.Import", 3000.0, "W"),
        ("Energy.Active.Import.Register", None, "Wh"),
    ]
    assert rows[0]["raw_value"] == "1.5" and rows[0]["raw_unit"] == "kWh"


def test_boot_and_status_are_stored_from_domain_values_of_any_version(app):
    from app.extensions import db
    from app.models import Charger, Connector, StatusNotification
    from app.services import stations
    from app.services.errors import InvalidReport
    from app.services.values import BootInfo, ConnectorStatus

    now = datetime.now(UTC)
    charger = Charger(identity="svc-1", registration_status="accepted")
    pending = Charger(identity="svc-2", registration_status="pending")
    db.session.add_all([charger, pending])
    db.session.commit()
    with db.engine.begin() as conn:
        assert stations.record_boot(conn, charger.id, BootInfo(
            vendor="Acme", model="Volt-2", iccid="8944", reason="FirmwareUpdate"), now, 300
        ) == "Accepted"
        assert stations.record_boot(conn, pending.id, BootInfo(vendor="Acme"), now, 60
                                    ) == "Pending"
        # 1.6: no EVSE given, the connector is its own; 2.x: EVSE 2 connector 1 beside it.
        stations.record_status(conn, charger.id, ConnectorStatus(
            connector_id=1, status="Charging", error_code="NoError"), now)
        stations.record_status(conn, charger.id, ConnectorStatus(
            connector_id=1, evse_id=2, status="Unavailable"), now)
        stations.record_status(conn, charger.id, ConnectorStatus(
            connector_id=1, evse_id=2, status="Occupied"), now)
        for bad in (ConnectorStatus(connector_id=500, status="Available"),
                    ConnectorStatus(connector_id=1, evse_id=-1, status="Available")):
            with pytest.raises(InvalidReport):
                stations.record_status(conn, charger.id, bad, now)
    db.session.expire_all()
    stored = db.session.get(Charger, charger.id)
    assert (stored.vendor, stored.model, stored.iccid, stored.last_boot_reason,
            stored.heartbeat_interval) == ("Acme", "Volt-2", "8944", "FirmwareUpdate", 300)
    assert db.session.get(Charger, pending.id).heartbeat_interval is None  # a retry delay
    rows = db.session.query(Connector).filter_by(charger_id=charger.id).order_by(
        Connector.evse_id).all()
    assert [(c.evse_id, c.connector_id, c.status, c.error_code, c.availability)
            for c in rows] == [(1, 1, "Charging", "NoError", "Operative"),
                               (2, 1, "Occupied", None, "Operative")]
    assert db.session.query(StatusNotification).filter_by(charger_id=charger.id).count() == 3


def test_a_bad_time_is_an_invalid_report():
    from app.services.errors import InvalidReport
    from app.services.time import parse_timestamp

    with pytest.raises(InvalidReport, match="not a date-time"):
        parse_timestamp("2026-12-03")
