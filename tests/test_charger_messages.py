"""Every charge point to CSMS action of OCPP 1.6, through a real charger client.

Each check reads the database from outside right after the reply: what the charger was told is
accepted must already be committed.
"""
from __future__ import annotations

import json
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


# Issue 8: input that used to close the socket, break storage or count wrong ----------------


def test_frames_no_parser_should_accept_get_callerrors_and_the_socket_stays(server, identity):
    """Deep nesting, NaN/Infinity/1e400, integers beyond 64 bits and lone surrogates."""
    from tests.support.charger import RawSocket

    start = ('[2,"{id}","StartTransaction",{{"connectorId":1,"idTag":"A",'
             '"timestamp":"2026-05-01T12:00:00Z","meterStart":{n}}}]')
    with RawSocket(server.ws_url, identity, compression=None) as raw:
        assert raw.exchange("[" * 10_000 + "]" * 10_000)[:3] == [4, "-1", "FormationViolation"]
        for n in ("NaN", "Infinity", "-Infinity", "1e400"):
            assert raw.exchange(start.format(id="n-" + n, n=n))[:3] == [
                4, "n-" + n, "FormationViolation"]
        for field in ("meterStart", "connectorId"):
            payload = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": ts(),
                       field: 2**63}
            assert raw.exchange(json.dumps([2, "big", "StartTransaction", payload]))[:3] == [
                4, "big", "TypeConstraintViolation"]
        raw.send(r'[2,"\ud800","Heartbeat",{}]')
        text = raw.recv()
        assert text.startswith(r'[4,"\ud800","FormationViolation"')
        reply = raw.exchange('[2,"h1","Heartbeat",{}]')
        assert reply[0] == 3 and reply[1] == "h1" and "currentTime" in reply[2]


def test_start_transaction_checks_connector_and_time(server, api, charger, identity):
    from ocpp.exceptions import PropertyConstraintViolationError

    def start(connector_id, when=None):
        return charger.call(call.StartTransaction(connector_id=connector_id, id_tag="CONN",
                                                  meter_start=0, timestamp=when or ts()))

    with pytest.raises(PropertyConstraintViolationError):
        start(0)
    assert start(7).transaction_id  # NumberOfConnectors not known yet: 1..128
    # The charger reports 2 connectors (the simulator's GetConfiguration).
    assert api.post(f"/chargers/{identity}/commands",
                    json={"action": "GetConfiguration"}).json()["status"] == "completed"
    assert start(2, ts(1)).transaction_id
    with pytest.raises(PropertyConstraintViolationError):
        start(3, ts(2))
    for when in ("2026-12-02", "2026-12-02T10:00:00", "2026-02-30T10:00:00Z"):
        with pytest.raises(PropertyConstraintViolationError):
            start(1, when)
    rows = query(server, "SELECT connector_id FROM transactions t JOIN chargers c "
                 "ON c.id = t.charger_id WHERE c.identity = ? ORDER BY t.id", identity)
    assert rows == [(7,), (2,)]


def test_backwards_meter_is_flagged_and_never_counted(live_server_factory, tmp_path,
                                                     monkeypatch):
    from app import create_app
    from app.console import queries
    from tests.support.charger import SimCharger

    srv = live_server_factory(instance_dir=str(tmp_path))
    now = datetime.now(UTC).replace(microsecond=0)
    when = now.isoformat().replace("+00:00", "Z")
    with SimCharger(srv.ws_url, "backwards") as cp:
        cp.boot()
        for meter_start, meter_stop in ((50_000_000, 0), (1000, 1500)):
            tx = cp.call(call.StartTransaction(connector_id=1, id_tag="M", meter_start=meter_start,
                                               timestamp=when)).transaction_id
            cp.call(call.StopTransaction(transaction_id=tx, meter_stop=meter_stop,
                                         timestamp=when))
    rows = query(srv, "SELECT meter_start, meter_stop, energy_wh, meter_anomaly "
                 "FROM transactions ORDER BY id")
    assert rows == [(50_000_000, 0, None, 1), (1000, 1500, 500.0, 0)]
    # The console's statistics, in process, on the server's database.
    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    if "DATABASE_URL" in srv.env:
        monkeypatch.setenv("DATABASE_URL", srv.env["DATABASE_URL"])
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    with app.app_context():
        assert queries.energy_summary(now)["today_wh"] == 500.0


def test_text_is_fitted_to_its_columns_for_lenient_chargers_too(server, api, identity):
    from tests.support.charger import RawSocket

    created = api.post("/chargers", json={"identity": identity, "lenient": True})
    assert created.status_code == 201, created.text
    long = "x" * 200_000
    with RawSocket(server.ws_url, identity, compression=None) as raw:
        boot = raw.exchange(json.dumps([2, "b", "BootNotification", {
            "chargePointVendor": long, "chargePointModel": "M"}]))
        assert boot[0] == 3 and boot[2]["status"] == "Accepted"
        status = raw.exchange(json.dumps([2, "s", "StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Available", "info": long,
            "vendorErrorCode": 42}]))
        assert status[0] == 3
        # A tag longer than any token can be is Invalid; clipped it would be another tag.
        authorize = raw.exchange(json.dumps([2, "a", "Authorize", {"idTag": "T" * 21}]))
        assert authorize[2]["idTagInfo"]["status"] == "Invalid"
        tx = raw.exchange(json.dumps([2, "t", "StartTransaction", {
            "connectorId": 1, "idTag": long, "meterStart": 0, "timestamp": ts()}]))
        tx_id = tx[2]["transactionId"]
        # Sampled values have no length in the schema: strict chargers too.
        meter = raw.exchange(json.dumps([2, "m", "MeterValues", {
            "connectorId": 1, "transactionId": tx_id, "meterValue": [{
                "timestamp": ts(1), "sampledValue": [{"value": "9" * 500}]}]}]))
        assert meter[0] == 3
        stop = raw.exchange(json.dumps([2, "p", "StopTransaction", {
            "transactionId": tx_id, "meterStop": 10, "timestamp": ts(2), "reason": long}]))
        assert stop[0] == 3
    assert charger_row(server, identity, "length(vendor)") == (64,)
    assert query(server, "SELECT length(info), vendor_error_code FROM connectors c JOIN chargers "
                 "ch ON ch.id = c.charger_id WHERE ch.identity = ?", identity) == [(64, "42")]
    assert query(server, "SELECT length(id_tag), length(stop_reason) FROM transactions "
                 "WHERE id = ?", tx_id) == [(255, 32)]  # the column holds any version's token
    assert query(server, "SELECT length(raw_value) FROM meter_values WHERE transaction_id = ? "
                 "AND source = 'MeterValues'", tx_id) == [(64,)]
