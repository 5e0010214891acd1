"""2.0.1 and 2.1 station notifications over real websockets: each is validated, stored before
its reply, and visible through the API (or in its table), a retry is stored once, an invalid
one is refused and the connection stays; security events and device events below the wire."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from ocpp.exceptions import OCPPError

from tests.support.charger import RawSocket, SimCharger
from tests.support.database import database_url
from tests.support.server import json_value, query

T0 = "2030-05-01T10:00:00Z"


def _charger(server, identity: str, version: str = "ocpp2.0.1") -> SimCharger:
    cp = SimCharger(server.ws_url, identity, subprotocols=[version]).connect()
    assert cp.subprotocol == version
    return cp


@contextmanager
def _connected(server, identity: str, version: str = "ocpp2.0.1"):
    cp = _charger(server, identity, version)
    try:
        yield cp
    finally:
        cp.close()


@pytest.fixture
def cp(server, identity):
    cp = _charger(server, identity)
    yield cp
    cp.close()


@pytest.fixture
def cp21(server, identity):
    cp = _charger(server, identity, "ocpp2.1")
    yield cp
    cp.close()


def _charger_id(server, identity: str) -> int:
    return query(server, "SELECT id FROM chargers WHERE identity = ?", identity)[0][0]


def _event(event_id: int, variable: str, value: str, **extra) -> dict:
    return {"eventId": event_id, "timestamp": T0, "trigger": "Delta", "actualValue": value,
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": variable},
            **extra}


# Security events ---------------------------------------------------------------------------

def test_security_events_are_listed_newest_first_per_charger(server, api, cp, identity):
    call = cp.ocpp.call
    assert cp.call(call.SecurityEventNotification(
        type="StartupOfTheDevice", timestamp="2030-05-01T09:00:00Z")) is not None
    cp.call(call.SecurityEventNotification(type="InvalidTLSVersion", timestamp=T0,
                                           tech_info="TLS 1.0 offered"))
    page = api.get("/security-events", params={"charger": identity}).json()
    assert page["total"] == 2
    newest, oldest = page["items"]
    assert (newest["type"], newest["tech_info"], newest["charger"], newest["source"]) == (
        "InvalidTLSVersion", "TLS 1.0 offered", identity, "charger")
    assert newest["timestamp"] == T0
    assert oldest["type"] == "StartupOfTheDevice" and oldest["tech_info"] is None
    only = api.get("/security-events", params={"charger": identity,
                                               "type": "StartupOfTheDevice"}).json()
    assert [e["type"] for e in only["items"]] == ["StartupOfTheDevice"]


def test_security_events_refuse_an_unknown_charger_and_bad_pages(api):
    assert api.get("/security-events", params={"charger": "nobody-here"}).status_code == 404
    for params in ({"page": "x"}, {"per_page": "0"}, {"source": "moon"}):
        reply = api.get("/security-events", params=params)
        assert reply.status_code == 400, params
        assert reply.json()["message"]


def test_a_21_charger_reports_security_events_too(server, api, cp21, identity):
    cp21.call(cp21.ocpp.call.SecurityEventNotification(type="SettingSystemTime",
                                                       timestamp=T0))
    items = api.get("/security-events", params={"charger": identity}).json()["items"]
    assert [e["type"] for e in items] == ["SettingSystemTime"]


# Device events (NotifyEvent) ---------------------------------------------------------------

def test_notify_event_rows_are_listed_and_faults_filtered(server, api, cp, identity):
    events = [
        _event(1, "AvailabilityState", "Faulted", techCode="E42", techInfo="ground fault"),
        _event(2, "Problem", "true", trigger="Alerting"),
        _event(3, "Problem", "false", cleared=True, cause=2, timestamp="2030-05-01T10:05:00Z"),
    ]
    cp.call(cp.ocpp.call.NotifyEvent(generated_at=T0, seq_no=0, event_data=events))
    page = api.get(f"/chargers/{identity}/events").json()
    assert page["total"] == 3
    newest = page["items"][0]
    assert (newest["event_id"], newest["cleared"], newest["problem"], newest["cause"]) == (
        3, True, False, 2)
    faults = api.get(f"/chargers/{identity}/events", params={"problem": "true"}).json()
    assert sorted((e["event_id"], e["variable"], e["actual_value"]) for e in faults["items"]) \
        == [(1, "AvailabilityState", "Faulted"), (2, "Problem", "true")]
    fault = next(e for e in faults["items"] if e["event_id"] == 1)
    assert (fault["component"], fault["evse_id"], fault["tech_code"], fault["tech_info"]) == (
        "EVSE", 1, "E42", "ground fault")


def test_a_retried_notify_event_is_stored_once(server, api, cp, identity):
    batch = [_event(7, "Problem", "true")]
    cp.call(cp.ocpp.call.NotifyEvent(generated_at=T0, seq_no=0, event_data=batch))
    # 2.0.1 retries with a new message id: the key is the event, not the message.
    cp.call(cp.ocpp.call.NotifyEvent(generated_at=T0, seq_no=0, event_data=batch))
    assert api.get(f"/chargers/{identity}/events").json()["total"] == 1


def test_events_of_an_unknown_charger_are_404(api):
    assert api.get("/chargers/nobody-here/events").status_code == 404
    assert api.get("/chargers/nobody-here/events", params={"problem": "maybe"}
                   ).status_code in (400, 404)


def test_a_notify_event_with_a_bad_time_stores_nothing(server, api, cp, identity):
    bad = [_event(1, "Problem", "true"), _event(2, "Problem", "true", timestamp="yesterday")]
    with pytest.raises(OCPPError) as refused:
        cp.call(cp.ocpp.call.NotifyEvent(generated_at=T0, seq_no=0, event_data=bad))
    assert refused.value.code == "PropertyConstraintViolation"
    assert api.get(f"/chargers/{identity}/events").json()["total"] == 0


def test_an_invalid_payload_is_refused_and_the_connection_stays(server, identity):
    with RawSocket(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as raw:
        reply = raw.exchange('[2,"s1","SecurityEventNotification",{"type":"X"}]')
        assert reply[:3] == [4, "s1", "OccurrenceConstraintViolation"]
        reply = raw.exchange('[2,"s2","NotifyEvent",{"generatedAt":"' + T0 + '","seqNo":0}]')
        assert reply[:3] == [4, "s2", "OccurrenceConstraintViolation"]
        assert raw.exchange('[2,"h","Heartbeat",{}]')[:2] == [3, "h"]
    assert query(server, "SELECT count(*) FROM security_events s JOIN chargers c "
                         "ON c.id = s.charger_id WHERE c.identity = ?", identity) == [(0,)]


# Firmware, logs, publish firmware ----------------------------------------------------------

def test_firmware_log_and_publish_status_are_stored_with_their_request_id(server, cp,
                                                                           identity):
    call = cp.ocpp.call
    cp.call(call.FirmwareStatusNotification(status="Downloading", request_id=41))
    cp.call(call.LogStatusNotification(status="Uploading", request_id=42))
    cp.call(call.PublishFirmwareStatusNotification(status="Published", request_id=43,
                                                   location=["http://fw.example/a.bin"]))
    charger_id = _charger_id(server, identity)
    assert query(server, "SELECT status, ocpp_request_id, deployment_id FROM "
                         "firmware_status_notifications WHERE charger_id = ?", charger_id) == [
        ("Downloading", 41, None)]
    assert query(server, "SELECT status, ocpp_request_id, request_id FROM "
                         "diagnostics_status_notifications WHERE charger_id = ?",
                 charger_id) == [("Uploading", 42, None)]
    rows = query(server, "SELECT action, request_id, payload FROM station_reports "
                         "WHERE charger_id = ?", charger_id)
    assert [(a, r) for a, r, _ in rows] == [("PublishFirmwareStatusNotification", 43)]
    assert json_value(rows[0][2])["location"] == ["http://fw.example/a.bin"]


# DataTransfer ------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["ocpp2.0.1", "ocpp2.1"])
def test_data_transfer_with_json_data_is_stored_and_answered(server, api, identity, version):
    with _connected(server, identity, version) as cp:
        reply = cp.call(cp.ocpp.call.DataTransfer(vendor_id="com.acme", message_id="m1",
                                                  data={"level": 80, "tags": ["a"]}))
        assert reply.status == "UnknownVendorId"  # nobody registered com.acme
        cp.call(cp.ocpp.call.DataTransfer(vendor_id="com.acme", data="plain"))
    items = api.get("/data-transfers", params={"charger": identity}).json()["items"]
    assert [(i["direction"], i["message_id"], i["status"]) for i in items] == [
        ("in", None, "UnknownVendorId"), ("in", "m1", "UnknownVendorId")]
    assert items[0]["data"] == "plain"
    assert json.loads(items[1]["data"]) == {"level": 80, "tags": ["a"]}


# Reservations ------------------------------------------------------------------------------

def test_reservation_status_update_marks_the_reservation(server, api, identity):
    # The reservation was made over 1.6; the charger reconnects speaking 2.0.1 (the version
    # belongs to the connection).
    with SimCharger(server.ws_url, identity) as old:
        old.boot()
        made = api.post(f"/chargers/{identity}/commands", json={
            "action": "ReserveNow", "payload": {"connectorId": 1, "idTag": "RSU-1",
                                                "expiryDate": "2099-01-01T00:00:00Z"}}).json()
        assert made["status"] == "completed", made
    reservation = api.get("/reservations", params={"charger": identity}).json()["items"][0]
    with _connected(server, identity) as cp:
        cp.call(cp.ocpp.call.ReservationStatusUpdate(reservation_id=reservation["id"],
                                                     reservation_update_status="Expired"))
        # Another charger's or an unknown reservation changes nothing, and is still answered.
        cp.call(cp.ocpp.call.ReservationStatusUpdate(reservation_id=reservation["id"] + 10**6,
                                                     reservation_update_status="Removed"))
    assert api.get(f"/reservations/{reservation['id']}").json()["status"] == "expired"


# Charging limits and profiles --------------------------------------------------------------

SCHEDULE = {"id": 1, "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}


def test_charging_limits_are_kept_per_evse_until_cleared(server, cp, identity):
    call = cp.ocpp.call
    cp.call(call.NotifyChargingLimit(charging_limit={"chargingLimitSource": "EMS",
                                                     "isGridCritical": True},
                                     evse_id=1, charging_schedule=[SCHEDULE]))
    cp.call(call.NotifyChargingLimit(charging_limit={"chargingLimitSource": "SO"}))
    charger_id = _charger_id(server, identity)
    sql = ("SELECT evse_id, source, is_grid_critical, schedules, cleared_at IS NOT NULL "
           "FROM charging_limits WHERE charger_id = ? ORDER BY evse_id")
    rows = query(server, sql, charger_id)
    assert [(e, s, g, c) for e, s, g, _, c in rows] == [(0, "SO", None, 0), (1, "EMS", 1, 0)]
    assert json_value(rows[1][3]) == [SCHEDULE]
    cp.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
    assert [r[4] for r in query(server, sql, charger_id)] == [0, 1]
    # Reported again: in force again, with the new schedule.
    cp.call(call.NotifyChargingLimit(charging_limit={"chargingLimitSource": "EMS"}, evse_id=1))
    assert [r[4] for r in query(server, sql, charger_id)] == [0, 0]


def test_reported_charging_profiles_are_kept_by_request_id(server, cp, identity):
    profile = {"id": 5, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute", "chargingSchedule": [SCHEDULE]}
    for _ in range(2):  # a retry replaces, never doubles
        cp.call(cp.ocpp.call.ReportChargingProfiles(
            request_id=9, charging_limit_source="CSO", evse_id=1,
            charging_profile=[profile, {**profile, "id": 6}], tbc=True))
    rows = query(server, "SELECT request_id, source, evse_id, profile_id, profile, tbc FROM "
                         "reported_charging_profiles WHERE charger_id = ? ORDER BY profile_id",
                 _charger_id(server, identity))
    assert [r[:4] + (r[5],) for r in rows] == [(9, "CSO", 1, 5, 1), (9, "CSO", 1, 6, 1)]
    assert json_value(rows[0][4]) == profile


# Customer information and display messages -------------------------------------------------

def test_customer_information_parts_are_kept_in_order(server, cp, identity):
    call = cp.ocpp.call
    cp.call(call.NotifyCustomerInformation(data="world", seq_no=1, generated_at=T0,
                                           request_id=3))
    cp.call(call.NotifyCustomerInformation(data="hello ", seq_no=0, generated_at=T0,
                                           request_id=3, tbc=True))
    cp.call(call.NotifyCustomerInformation(data="hello ", seq_no=0, generated_at=T0,
                                           request_id=3, tbc=True))  # a retry
    rows = query(server, "SELECT seq_no, data, tbc FROM customer_information WHERE "
                         "charger_id = ? AND request_id = 3 ORDER BY seq_no",
                 _charger_id(server, identity))
    assert rows == [(0, "hello ", 1), (1, "world", 0)]


def test_display_messages_are_kept_by_request_id(server, cp, identity):
    message = {"id": 11, "priority": "InFront", "state": "Charging",
               "message": {"format": "UTF8", "content": "Welcome"}}
    cp.call(cp.ocpp.call.NotifyDisplayMessages(request_id=4, message_info=[message]))
    cp.call(cp.ocpp.call.NotifyDisplayMessages(request_id=5))  # none found: answered too
    rows = query(server, "SELECT request_id, message_id, priority, state, info FROM "
                         "reported_display_messages WHERE charger_id = ?",
                 _charger_id(server, identity))
    assert [r[:4] for r in rows] == [(4, 11, "InFront", "Charging")]
    assert json_value(rows[0][4])["message"]["content"] == "Welcome"


# Kept as sent: monitoring reports, EV charging needs and schedules --------------------------

def test_monitoring_reports_and_ev_needs_are_kept_and_answered(server, cp, identity):
    call = cp.ocpp.call
    cp.call(call.NotifyMonitoringReport(request_id=8, seq_no=0, generated_at=T0, monitor=[{
        "component": {"name": "EVSE"}, "variable": {"name": "Power"},
        "variableMonitoring": [{"id": 1, "transaction": False, "value": 22000.0,
                                "type": "UpperThreshold", "severity": 4}]}]))
    needs = cp.call(call.NotifyEVChargingNeeds(
        evse_id=1, charging_needs={"requestedEnergyTransfer": "AC_three_phase"}))
    assert needs.status == "Accepted"
    schedule = cp.call(call.NotifyEVChargingSchedule(time_base=T0, evse_id=1,
                                                     charging_schedule=SCHEDULE))
    assert schedule.status == "Accepted"
    rows = query(server, "SELECT action, request_id, evse_id, received_at IS NOT NULL FROM "
                         "station_reports WHERE charger_id = ? ORDER BY id",
                 _charger_id(server, identity))
    assert rows == [("NotifyMonitoringReport", 8, None, 1), ("NotifyEVChargingNeeds", None, 1, 1),
                    ("NotifyEVChargingSchedule", None, 1, 1)]


def test_a_21_charger_sends_its_ev_charging_needs_with_21_fields(server, cp21, identity):
    reply = cp21.call(cp21.ocpp.call.NotifyEVChargingNeeds(
        evse_id=2, timestamp=T0, charging_needs={"requestedEnergyTransfer": "DC_BPT"}))
    assert reply.status == "Accepted"
    rows = query(server, "SELECT payload FROM station_reports WHERE charger_id = ?",
                 _charger_id(server, identity))
    assert json_value(rows[0][0])["chargingNeeds"] == {"requestedEnergyTransfer": "DC_BPT"}


# Below the wire ----------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "services")})
    with app.app_context():
        db.create_all()
        yield app


def _new_charger(identity: str) -> int:
    from app.extensions import db
    from app.models import Charger

    charger = Charger(identity=identity)
    db.session.add(charger)
    db.session.commit()
    return charger.id


def test_security_events_service_records_and_lists(app):
    from app.extensions import db
    from app.services import security_events
    from app.services.values import SecurityEventValue

    charger_id = _new_charger("SEC-1")
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        security_events.record(conn, charger_id, SecurityEventValue(
            "ResetOrReboot", datetime(2030, 1, 1, 8, tzinfo=UTC)), now)
        security_events.record(conn, None, SecurityEventValue(
            "FailedToAuthenticateAtCsms", datetime(2030, 1, 1, 9, tzinfo=UTC), "bad password"),
            now, source="csms")
    everyone = db.session.execute(security_events.query()).scalars().all()
    assert [security_events.to_dict(e)["type"] for e in everyone] == [
        "FailedToAuthenticateAtCsms", "ResetOrReboot"]
    first = security_events.to_dict(everyone[0])
    assert (first["charger"], first["source"], first["tech_info"]) == (
        None, "csms", "bad password")
    mine = db.session.execute(security_events.query(charger_id)).scalars().all()
    assert [e.type for e in mine] == ["ResetOrReboot"]
    assert [e.type for e in db.session.execute(security_events.query(source="csms")).scalars()
            ] == ["FailedToAuthenticateAtCsms"]
    from app.services.errors import DomainError

    with pytest.raises(DomainError) as refused:
        security_events.query(source="moon")
    assert refused.value.status == 400
    with db.engine.begin() as conn, pytest.raises(DomainError):
        security_events.record(conn, None, SecurityEventValue("X", now), now, source="moon")


def test_device_events_know_a_fault_and_are_stored_once(app):
    from app.extensions import db
    from app.services import station_notifications as notes
    from app.services.values import DeviceEvent, EventBatch

    charger_id = _new_charger("EV-1")
    at = datetime(2030, 1, 1, tzinfo=UTC)

    def event(event_id: int, variable: str, value: str, cleared: bool = False) -> DeviceEvent:
        return DeviceEvent(event_id, at, "Delta", value, "HardWiredNotification", "EVSE",
                           variable, cleared=cleared)

    assert event(1, "AvailabilityState", "Faulted").problem
    assert event(1, "problem", "TRUE").problem
    assert not event(1, "Problem", "true", cleared=True).problem
    assert not event(1, "AvailabilityState", "Available").problem
    batch = EventBatch(at, 0, (event(1, "Problem", "true"), event(2, "Power", "7000")))
    with db.engine.begin() as conn:
        assert notes.record_events(conn, charger_id, batch, at) == 2
        assert notes.record_events(conn, charger_id, batch, at) == 0
    faults = db.session.execute(notes.events_query(charger_id, problem=True)).scalars().all()
    assert [notes.event_to_dict(e)["event_id"] for e in faults] == [1]


def test_2x_firmware_and_log_status_link_to_the_command_that_sent_the_request_id(app):
    from app.extensions import db
    from app.models import Command, DiagnosticsRequest, FirmwareDeployment
    from app.ocpp.v201.notifications import _request_id_of
    from app.services import notifications

    charger_id = _new_charger("FW-1")
    deployments = []
    for request_id in (100, 101):
        command = Command(charger_id=charger_id, action="UpdateFirmware", timeout=30,
                          request={"requestId": request_id, "firmware": {
                              "location": "http://x/fw", "retrieveDateTime": T0}})
        db.session.add(command)
        db.session.flush()
        deployment = FirmwareDeployment(charger_id=charger_id, command_id=command.id,
                                        location="http://x/fw")
        db.session.add(deployment)
        deployments.append(deployment)
    log_command = Command(charger_id=charger_id, action="GetLog", timeout=30,
                          request={"requestId": 7, "logType": "DiagnosticsLog"})
    db.session.add(log_command)
    db.session.flush()
    upload = DiagnosticsRequest(charger_id=charger_id, command_id=log_command.id, token="t1",
                                location="http://x/up")
    db.session.add(upload)
    db.session.commit()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        # The older deployment's request, not the latest one.
        notifications.record_firmware_status(conn, charger_id, "Installing", now, 100,
                                             _request_id_of)
        notifications.record_firmware_status(conn, charger_id, "Downloading", now, 555,
                                             _request_id_of)
        notifications.record_diagnostics_status(conn, charger_id, "Uploaded", now, 7,
                                                _request_id_of)
    db.session.expire_all()
    assert [d.status for d in deployments] == ["Installing", "requested"]
    assert upload.status == "Uploaded"
    from app.models import FirmwareStatus

    history = db.session.query(FirmwareStatus).order_by(FirmwareStatus.id).all()
    assert [(h.deployment_id, h.ocpp_request_id) for h in history] == [
        (deployments[0].id, 100), (None, 555)]
