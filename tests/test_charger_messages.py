"""Every charge point to CSMS action of OCPP 1.6, through a real charger client.

Each check reads the database from outside right after the reply: what the charger was told is
accepted must already be committed.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from tests.support.server import query


def ts(minutes: float = 0) -> str:
    base = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    return (base + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def charger_row(server, identity, columns="*"):
    rows = query(server, f"SELECT {columns} FROM chargers WHERE identity = ?", identity)
    assert rows, f"no charger {identity}"
    return rows[0]


def test_boot_notification_stores_every_field(server, charger, identity):
    reply = charger.boot(charge_point_serial_number="SN-1", charge_box_serial_number="CB-1",
                         firmware_version="1.2.3", iccid="8931", imsi="2620", meter_type="EM",
                         meter_serial_number="M-9")
    assert reply.status == "Accepted"
    row = charger_row(server, identity, "vendor, model, serial_number, charge_box_serial_number, "
                      "firmware_version, iccid, imsi, meter_type, meter_serial_number, "
                      "ocpp_version, last_boot_at")
    assert row[:10] == ("Acme", "Volt-1", "SN-1", "CB-1", "1.2.3", "8931", "2620", "EM", "M-9",
                        "1.6")
    assert row[10] is not None


def test_heartbeat_updates_last_seen(server, charger, identity):
    before = charger_row(server, identity, "last_heartbeat")[0]
    reply = charger.call(call.Heartbeat())
    assert datetime.fromisoformat(reply.current_time) - datetime.now(UTC) < timedelta(
        seconds=5)
    from tests.test_transport import wait_for

    wait_for(lambda: charger_row(server, identity, "last_heartbeat")[0] != before)


def test_status_notification_keeps_history_and_latest(server, charger, identity):
    charger.call(call.StatusNotification(connector_id=0, error_code="NoError", status="Available"))
    charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing",
                                         timestamp=ts()))
    charger.call(call.StatusNotification(connector_id=1, error_code="GroundFailure",
                                         status="Faulted", info="RCD", vendor_id="acme",
                                         vendor_error_code="E42", timestamp=ts(1)))
    latest = query(server, "SELECT c.connector_id, c.status, c.error_code, c.info, "
                   "c.vendor_error_code FROM connectors c JOIN chargers ch ON ch.id = c.charger_id "
                   "WHERE ch.identity = ? ORDER BY c.connector_id", identity)
    assert latest == [(0, "Available", "NoError", None, None),
                      (1, "Faulted", "GroundFailure", "RCD", "E42")]
    history = query(server, "SELECT s.connector_id, s.status FROM status_notifications s "
                    "JOIN chargers ch ON ch.id = s.charger_id WHERE ch.identity = ? "
                    "ORDER BY s.id", identity)
    assert history == [(0, "Available"), (1, "Preparing"), (1, "Faulted")]


def test_absurd_connector_id_is_refused(server, charger):
    from ocpp.exceptions import PropertyConstraintViolationError

    with pytest.raises(PropertyConstraintViolationError):
        charger.call(call.StatusNotification(connector_id=1634030126, error_code="NoError",
                                             status="Available"))


@pytest.fixture
def tokens(api):
    def make(id_tag: str, **fields):
        reply = api.post("/tokens", json={"id_tag": id_tag, **fields})
        assert reply.status_code == 201, reply.text
    return make


def test_authorize_by_stored_tokens(server, charger, tokens, identity):
    tag = identity[-8:]
    tokens("A" + tag, status="Accepted", parent_id_tag="GROUP1",
           expiry_date="2099-01-01T00:00:00Z")
    tokens("B" + tag, status="Blocked")
    tokens("E" + tag, status="Accepted", expiry_date="2020-01-01T00:00:00Z")
    accepted = charger.call(call.Authorize(id_tag="A" + tag)).id_tag_info
    # The ocpp package hands replies over with snake_case keys.
    assert accepted["status"] == "Accepted" and accepted["parent_id_tag"] == "GROUP1"
    assert accepted["expiry_date"].startswith("2099-01-01T00:00:00")
    assert charger.call(call.Authorize(id_tag="B" + tag)).id_tag_info["status"] == "Blocked"
    assert charger.call(call.Authorize(id_tag="E" + tag)).id_tag_info["status"] == "Expired"
    assert charger.call(call.Authorize(id_tag="U" + tag)).id_tag_info["status"] == "Invalid"


def test_unknown_tags_can_be_accepted_and_recorded(live_server_factory):
    from tests.support.charger import SimCharger

    srv = live_server_factory(OCPP_UNKNOWN_ID_TAGS="accept")
    with SimCharger(srv.ws_url, "open-house") as cp:
        cp.boot()
        assert cp.call(call.Authorize(id_tag="WALKIN")).id_tag_info["status"] == "Accepted"
    assert query(srv, "SELECT status, auto_created FROM id_tokens WHERE id_tag = 'WALKIN'") == [
        ("Accepted", 1)]


def test_transaction_lifecycle_with_normalised_meter_values(server, charger, identity, tokens):
    tokens("TX" + identity[-10:])
    tag = "TX" + identity[-10:]
    start = charger.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=1000,
                                               timestamp=ts()))
    assert start.id_tag_info["status"] == "Accepted" and isinstance(start.transaction_id, int)
    charger.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                  meter_value=[{"timestamp": ts(5), "sampledValue": [
                                      {"value": "2.5", "unit": "kWh", "context": "Sample.Periodic",
                                       "measurand": "Energy.Active.Import.Register",
                                       "location": "Outlet"},
                                      {"value": "7.2", "unit": "kW",
                                       "measurand": "Power.Active.Import"},
                                      {"value": "16.1", "unit": "A", "phase": "L1",
                                       "measurand": "Current.Import"},
                                  ]}]))
    stop = charger.call(call.StopTransaction(
        meter_stop=4000, timestamp=ts(30), transaction_id=start.transaction_id,
        reason="EVDisconnected", id_tag=tag,
        transaction_data=[{"timestamp": ts(30), "sampledValue": [{"value": "4000"}]}]))
    assert stop.id_tag_info["status"] == "Accepted"
    row = query(server, "SELECT meter_start, meter_stop, energy_wh, stop_reason, connector_id "
                "FROM transactions WHERE id = ?", start.transaction_id)
    assert row == [(1000, 4000, 3000.0, "EVDisconnected", 1)]
    values = query(server, "SELECT measurand, value, unit, raw_value, raw_unit, phase, context, "
                   "location, source FROM meter_values WHERE transaction_id = ? ORDER BY id",
                   start.transaction_id)
    assert values == [
        ("Energy.Active.Import.Register", 2500.0, "Wh", "2.5", "kWh", None, "Sample.Periodic",
         "Outlet", "MeterValues"),
        ("Power.Active.Import", 7200.0, "W", "7.2", "kW", None, None, None, "MeterValues"),
        ("Current.Import", 16.1, "A", "16.1", "A", "L1", None, None, "MeterValues"),
        ("Energy.Active.Import.Register", 4000.0, "Wh", "4000", None, None, None, None,
         "StopTransaction"),
    ]


def test_retried_start_and_stop_count_once(server, charger, identity):
    start = call.StartTransaction(connector_id=2, id_tag="RETRY", meter_start=50, timestamp=ts())
    first = charger.call(start).transaction_id
    assert charger.call(start).transaction_id == first
    stop = call.StopTransaction(meter_stop=150, timestamp=ts(10), transaction_id=first)
    charger.call(stop)
    charger.call(call.StopTransaction(meter_stop=999, timestamp=ts(11), transaction_id=first))
    rows = query(server, "SELECT t.id, t.energy_wh, t.meter_stop FROM transactions t "
                 "JOIN chargers c ON c.id = t.charger_id WHERE c.identity = ?", identity)
    assert rows == [(first, 100.0, 150)]


def test_stop_for_unknown_transaction_is_accepted_and_kept(server, charger, identity):
    for tx_id in (-1, 987654):
        stop = call.StopTransaction(meter_stop=500, timestamp=ts(3), transaction_id=tx_id,
                                    id_tag="OFFLINE")
        charger.call(stop)
        charger.call(stop)  # replayed twice
    rows = query(server, "SELECT reported_transaction_id, meter_stop, unmatched_stop "
                 "FROM transactions t JOIN chargers c ON c.id = t.charger_id "
                 "WHERE c.identity = ? ORDER BY t.id", identity)
    assert rows == [(-1, 500, 1), (987654, 500, 1)]


def test_start_consumes_its_reservation(server, api, charger, identity):
    reply = api.post(f"/chargers/{identity}/commands", json={"action": "ReserveNow", "payload": {
        "connectorId": 1, "idTag": "RES1", "expiryDate": "2099-01-01T00:00:00Z"}})
    reservation_id = reply.json()["request"]["reservationId"]
    start = charger.call(call.StartTransaction(connector_id=1, id_tag="RES1", meter_start=0,
                                               timestamp=ts(), reservation_id=reservation_id))
    assert query(server, "SELECT status, transaction_id FROM reservations WHERE id = ?",
                 reservation_id) == [("used", start.transaction_id)]
    assert query(server, "SELECT reservation_id FROM transactions WHERE id = ?",
                 start.transaction_id) == [(reservation_id,)]


def test_remote_start_is_linked_to_the_transaction(server, api, charger, identity):
    reply = api.post(f"/chargers/{identity}/commands", json={
        "action": "RemoteStartTransaction", "payload": {"idTag": "REMOTE1", "connectorId": 1}})
    command_id = reply.json()["id"]
    start = charger.call(call.StartTransaction(connector_id=1, id_tag="REMOTE1", meter_start=0,
                                               timestamp=ts(1)))
    assert query(server, "SELECT transaction_id FROM commands WHERE id = ?", command_id) == [
        (start.transaction_id,)]
    assert api.get(f"/commands/{command_id}").json()["transaction_id"] == start.transaction_id


def test_data_transfer_is_stored_with_the_default_reply(server, charger, identity):
    reply = charger.call(call.DataTransfer(vendor_id="com.acme", message_id="ping", data="hello"))
    assert reply.status == "UnknownVendorId"
    rows = query(server, "SELECT direction, vendor_id, message_id, data, status "
                 "FROM data_transfers d JOIN chargers c ON c.id = d.charger_id "
                 "WHERE c.identity = ?", identity)
    assert rows == [("in", "com.acme", "ping", "hello", "UnknownVendorId")]


def test_diagnostics_and_firmware_status_are_linked_to_their_request(server, api, charger,
                                                                     identity):
    diag = api.post(f"/chargers/{identity}/commands",
                    json={"action": "GetDiagnostics", "payload": {}}).json()
    charger.call(call.DiagnosticsStatusNotification(status="Uploading"))
    fw = api.post(f"/chargers/{identity}/commands", json={
        "action": "UpdateFirmware",
        "payload": {"location": "https://example.invalid/fw.bin",
                    "retrieveDate": "2030-01-01T00:00:00Z"}}).json()
    charger.call(call.FirmwareStatusNotification(status="Downloading"))
    charger.call(call.FirmwareStatusNotification(status="Installed"))
    assert query(server, "SELECT s.status FROM diagnostics_status_notifications s "
                 "JOIN diagnostics_requests r ON r.id = s.request_id WHERE r.command_id = ?",
                 diag["id"]) == [("Uploading",)]
    assert query(server, "SELECT status FROM diagnostics_requests WHERE command_id = ?",
                 diag["id"]) == [("Uploading",)]
    assert query(server, "SELECT s.status FROM firmware_status_notifications s "
                 "JOIN firmware_deployments d ON d.id = s.deployment_id WHERE d.command_id = ? "
                 "ORDER BY s.id", fw["id"]) == [("Downloading",), ("Installed",)]
    assert query(server, "SELECT status FROM firmware_deployments WHERE command_id = ?",
                 fw["id"]) == [("Installed",)]


def test_every_frame_is_in_the_message_log(server, charger, identity):
    charger.call(call.Heartbeat())
    from tests.test_transport import wait_for

    def logged():
        return query(server, "SELECT direction, message_type, action FROM message_log "
                     "WHERE identity = ? ORDER BY id", identity)

    rows = wait_for(lambda: len(logged()) >= 4 and logged())
    assert rows[:4] == [("in", 2, "BootNotification"), ("out", 3, "BootNotification"),
                        ("in", 2, "Heartbeat"), ("out", 3, "Heartbeat")]
