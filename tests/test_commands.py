"""Every CSMS to charge point command through the REST API, with its stored effects."""
from __future__ import annotations

import threading
import time

import pytest
import requests
from ocpp.v16 import call

from tests.support.charger import SimCharger
from tests.support.server import query

PAYLOADS = {
    "CancelReservation": {"reservationId": 4242},
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "ChangeConfiguration": {"key": "MeterValueSampleInterval", "value": "30"},
    "ClearCache": {},
    "ClearChargingProfile": {"id": 1},
    "DataTransfer": {"vendorId": "com.acme", "messageId": "ping", "data": "x"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600},
    "GetConfiguration": {"key": ["HeartbeatInterval"]},
    "GetDiagnostics": {},
    "GetLocalListVersion": {},
    "RemoteStartTransaction": {"idTag": "RS1", "connectorId": 1},
    "RemoteStopTransaction": {"transactionId": 1},
    "ReserveNow": {"connectorId": 1, "idTag": "R1", "expiryDate": "2099-01-01T00:00:00Z"},
    "Reset": {"type": "Soft"},
    "SendLocalList": {"updateType": "Full"},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                  "limit": 21.4}]}}},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "UnlockConnector": {"connectorId": 1},
    "UpdateFirmware": {"location": "ftp://fw.example.invalid/v2.bin",
                       "retrieveDate": "2030-01-01T00:00:00Z"},
}


def send(api, identity, action, payload=None, **extra):
    return api.post(f"/chargers/{identity}/commands",
                    json={"action": action, "payload": payload or {}, **extra})


@pytest.mark.parametrize("action", sorted(PAYLOADS))
def test_every_command_reaches_the_charger_and_is_recorded(api, charger, identity, action):
    reply = send(api, identity, action, PAYLOADS[action])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "completed", body
    assert body["action"] == action and body["response"] is not None
    received_action, _ = charger.received[-1]
    assert received_action == action
    again = api.get(f"/commands/{body['id']}").json()
    assert again["status"] == "completed" and again["requested_by"] == "admin-test"
    assert again["duration_ms"] is not None and again["request"] == body["request"]


def test_invalid_payload_is_refused_before_sending(api, charger, identity):
    reply = send(api, identity, "Reset", {"type": "Gentle"})
    assert reply.status_code == 422
    assert "type" in reply.json()["message"]
    assert charger.received == []


def test_unknown_action_and_bad_body_are_4xx(api, charger, identity):
    assert send(api, identity, "MakeCoffee").status_code == 400
    assert api.post(f"/chargers/{identity}/commands", data="nope").status_code == 400
    assert send(api, identity, "Reset", {"type": "Soft"}, timeout="soon").status_code == 400
    assert send(api, "no-such-charger", "Reset", {"type": "Soft"}).status_code == 404
    missing = api.get("/commands/987654321")
    assert missing.status_code == 404 and "no command 987654321" in missing.json()["message"]
    assert api.get(f"/commands/{10**20}").status_code == 404


def test_disconnected_charger_gets_409(api, server, identity):
    with SimCharger(server.ws_url, identity) as cp:
        cp.boot()
    reply = send(api, identity, "Reset", {"type": "Soft"})
    assert reply.status_code == 409 and "not connected" in reply.json()["message"]


def test_callerror_and_timeout_are_reported(api, charger, identity):
    from ocpp.exceptions import NotSupportedError

    charger.replies["UnlockConnector"] = NotSupportedError(description="no lock here")
    body = send(api, identity, "UnlockConnector", {"connectorId": 1}).json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "NotSupported"
    charger.replies["Reset"] = "hang"
    body = send(api, identity, "Reset", {"type": "Hard"}, timeout=0.5).json()
    assert body["status"] == "timeout"
    # The late reply is dropped; the next command works.
    charger.replies.pop("Reset")
    assert send(api, identity, "Reset", {"type": "Soft"}).json()["status"] == "completed"


def test_wait_false_returns_pending_then_completes(api, charger, identity):
    reply = send(api, identity, "ClearCache", wait=False)
    assert reply.status_code == 202 and reply.json()["status"] == "pending"
    deadline = time.monotonic() + 5
    while api.get(f"/commands/{reply.json()['id']}").json()["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api.get(f"/commands/{reply.json()['id']}").json()["status"] == "completed"


def test_one_outstanding_call_per_charger(api, charger, identity):
    """Two commands at once: the second waits for the first's reply before it is sent."""
    results = []

    def fire(payload):
        results.append(send(api, identity, "Reset", payload).json())

    threads = [threading.Thread(target=fire, args=({"type": t},)) for t in ("Soft", "Hard")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["status"] for r in results) == ["completed", "completed"]
    assert len(charger.received) == 2


def test_calls_cross_in_both_directions(api, charger, identity):
    """The charger sends a CALL while ours is outstanding; both are answered."""
    charger.replies["GetLocalListVersion"] = ("delay", 1.0)
    pending = send(api, identity, "GetLocalListVersion", wait=False).json()
    deadline = time.monotonic() + 5
    while not charger.received:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert charger.call(call.Heartbeat()).current_time
    assert api.get(f"/commands/{pending['id']}").json()["status"] == "pending"
    while api.get(f"/commands/{pending['id']}").json()["status"] == "pending":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api.get(f"/commands/{pending['id']}").json()["response"] == {"listVersion": 7}


def test_configuration_effects(server, api, charger, identity):
    send(api, identity, "GetConfiguration")
    send(api, identity, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"})
    charger.replies["ChangeConfiguration"] = {"status": "Rejected"}
    send(api, identity, "ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"})
    charger.replies["GetConfiguration"] = {"configurationKey": [], "unknownKey": ["Foo"]}
    send(api, identity, "GetConfiguration", {"key": ["Foo"]})
    rows = query(server, "SELECT k.key, k.value, k.readonly, k.unknown FROM configuration_keys k "
                 "JOIN chargers c ON c.id = k.charger_id WHERE c.identity = ? ORDER BY k.key",
                 identity)
    assert rows == [("Foo", None, None, 1), ("HeartbeatInterval", "120", 0, 0),
                    ("NumberOfConnectors", "2", 1, 0)]


def test_local_list_is_built_from_stored_tokens(server, api, charger, identity):
    for tag, status in (("LL-OK", "Accepted"), ("LL-NO", "Blocked")):
        api.post("/tokens", json={"id_tag": tag, "status": status})
    body = send(api, identity, "SendLocalList").json()
    entries = {e["idTag"]: e["idTagInfo"]["status"]
               for e in body["request"]["localAuthorizationList"]}
    assert entries["LL-OK"] == "Accepted" and entries["LL-NO"] == "Blocked"
    _, sent = charger.received[-1]
    assert sent["list_version"] == body["request"]["listVersion"] == 1
    assert query(server, "SELECT local_list_version FROM chargers WHERE identity = ?",
                 identity) == [(1,)]
    assert send(api, identity, "SendLocalList").json()["request"]["listVersion"] == 2
    send(api, identity, "GetLocalListVersion")
    assert query(server, "SELECT local_list_version FROM chargers WHERE identity = ?",
                 identity) == [(7,)]


def test_reservations_keep_their_status(server, api, charger, identity):
    made = send(api, identity, "ReserveNow", {"connectorId": 1, "idTag": "RSV",
                                              "expiryDate": "2099-01-01T00:00:00Z"}).json()
    rid = made["request"]["reservationId"]
    assert query(server, "SELECT status FROM reservations WHERE id = ?", rid) == [("Accepted",)]
    send(api, identity, "CancelReservation", {"reservationId": rid})
    assert query(server, "SELECT status FROM reservations WHERE id = ?", rid) == [("cancelled",)]
    charger.replies["ReserveNow"] = {"status": "Occupied"}
    made = send(api, identity, "ReserveNow", {"connectorId": 1, "idTag": "RSV",
                                              "expiryDate": "2099-01-01T00:00:00Z"}).json()
    assert query(server, "SELECT status FROM reservations WHERE id = ?",
                 made["request"]["reservationId"]) == [("Occupied",)]


def test_availability_requested_and_confirmed(server, api, charger, identity):
    charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    charger.call(call.StatusNotification(connector_id=2, error_code="NoError", status="Available"))
    send(api, identity, "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    rows = query(server, "SELECT n.connector_id, n.requested_availability, n.availability, "
                 "n.availability_status FROM connectors n JOIN chargers c ON c.id = n.charger_id "
                 "WHERE c.identity = ? ORDER BY n.connector_id", identity)
    assert rows == [(0, "Inoperative", "Inoperative", "Accepted"),
                    (1, "Inoperative", "Inoperative", "Accepted"),
                    (2, "Inoperative", "Inoperative", "Accepted")]
    charger.replies["ChangeAvailability"] = {"status": "Scheduled"}
    send(api, identity, "ChangeAvailability", {"connectorId": 2, "type": "Operative"})
    assert query(server, "SELECT n.requested_availability, n.availability, n.availability_status "
                 "FROM connectors n JOIN chargers c ON c.id = n.charger_id "
                 "WHERE c.identity = ? AND n.connector_id = 2", identity) == [
        ("Operative", "Inoperative", "Scheduled")]


def test_diagnostics_upload_url_accepts_the_file(server, api, charger, identity):
    body = send(api, identity, "GetDiagnostics").json()
    location = body["request"]["location"]
    assert location.startswith(server.url + "/files/diagnostics/")
    uploaded = requests.put(location + "/diag.zip", data=b"PK\x03\x04log", timeout=10)
    assert uploaded.status_code == 201
    rows = query(server, "SELECT f.filename, f.size FROM diagnostics_files f "
                 "JOIN diagnostics_requests r ON r.id = f.request_id WHERE r.command_id = ?",
                 body["id"])
    assert rows == [("diag.zip", 7)]
    assert requests.post(server.url + "/files/diagnostics/not-a-token", data=b"x",
                         timeout=10).status_code == 404


def test_a_payload_that_cannot_be_sent_is_a_4xx_and_the_charger_stays_usable(api, charger,
                                                                              identity):
    # requests would refuse to encode a lone surrogate: send the JSON escape as an API client can.
    raw = '{"action": "DataTransfer", "payload": {"vendorId": "acme", "data": "x\\ud800"}}'
    response = api.post(f"/chargers/{identity}/commands", data=raw,
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "surrogate" in response.json()["message"]
    after = api.post(f"/chargers/{identity}/commands", json={"action": "ClearCache"})
    assert after.status_code == 200 and after.json()["status"] == "completed"


def test_heartbeat_interval_from_boot_and_get_configuration(server, api, identity):
    from urllib.parse import quote


    path = f"/chargers/{quote(identity, safe='')}"
    api.post("/chargers", json={"identity": identity, "registration_status": "pending"})
    with SimCharger(server.ws_url, identity) as cp:
        # A Pending boot's interval is a retry delay, not the heartbeat interval.
        assert cp.boot().status == "Pending"
        assert api.get(path).json()["heartbeat_interval"] is None
        api.patch(path, json={"registration_status": "accepted"})
        reply = cp.boot()
        assert reply.status == "Accepted"
        assert api.get(path).json()["heartbeat_interval"] == reply.interval
        # What the charger reports wins; a value no column can hold is ignored.
        cp.replies["GetConfiguration"] = {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "45"}]}
        assert send(api, identity, "GetConfiguration").json()["status"] == "completed"
        assert api.get(path).json()["heartbeat_interval"] == 45
        cp.replies["GetConfiguration"] = {"configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "1" + "0" * 20}]}
        assert send(api, identity, "GetConfiguration").json()["status"] == "completed"
        # The reply was processed (its key stored as reported), the interval left as it was.
        assert query(server, "SELECT k.value FROM configuration_keys k JOIN chargers c ON "
                     "c.id = k.charger_id WHERE c.identity = ? AND k.key = 'HeartbeatInterval'",
                     identity) == [("1" + "0" * 20,)]
        assert api.get(path).json()["heartbeat_interval"] == 45


@pytest.mark.parametrize("action, body, status, fragment", [
    ("GetCompositeSchedule", '{"connectorId": 1, "duration": NaN}', 400, "NaN"),
    ("GetCompositeSchedule", '{"connectorId": 1, "duration": Infinity}', 400, "Infinity"),
    ("GetCompositeSchedule", '{"connectorId": 1, "duration": 1e400}', 400, "1e400"),
    ("ChangeAvailability", '{"connectorId": 100000000000000000000, "type": "Operative"}', 400,
     "64-bit"),
    ("ChangeAvailability", '{"connectorId": 1099511627776, "type": "Operative"}', 400,
     "connectorId"),
    ("ChangeAvailability", '{"connectorId": [1], "type": "Operative"}', 422, "connectorId"),
    ("ReserveNow", '{"connectorId": 1, "idTag": "R", "expiryDate": "2099-01-01T00:00:00Z", '
                   '"reservationId": [1]}', 422, "reservationId"),
    ("ReserveNow", '{"connectorId": 1, "idTag": "R", "expiryDate": "2099-01-01T00:00:00Z", '
                   '"reservationId": 9223372036854775807}', 400, "reservationId"),
    ("ReserveNow", '{"connectorId": 1, "idTag": "R", "expiryDate": "2099-01-01"}', 400,
     "expiryDate"),
    ("CancelReservation", '{"reservationId": [1]}', 422, "reservationId"),
    ("CancelReservation", '{"reservationId": 9223372036854775807}', 400, "reservationId"),
    ("SendLocalList", '{"updateType": "Full", "listVersion": 4294967296}', 400, "listVersion"),
    ("Reset", '{"type": "Soft", "x": "\\ud800"}', 400, "surrogate"),
])
def test_payloads_that_cannot_be_stored_or_sent_are_4xx(api, charger, identity, action, body,
                                                        status, fragment):
    reply = api.post(f"/chargers/{identity}/commands", headers={
        "Content-Type": "application/json"},
        data=f'{{"action": "{action}", "payload": {body}}}')
    assert reply.status_code == status, reply.text
    assert fragment in reply.json()["message"]
    assert charger.received == []


@pytest.mark.parametrize("file_id", [[1], 10**20, "1", True])
def test_firmware_file_id_must_be_an_id(api, charger, identity, file_id):
    reply = send(api, identity, "UpdateFirmware", {}, firmware_file_id=file_id)
    assert reply.status_code == 400, reply.text
    assert "firmware_file_id" in reply.json()["message"] or "64-bit" in reply.json()["message"]


def test_replies_with_unstorable_numbers_are_recorded(server, api, charger, identity):
    """A listVersion beyond 64 bits is an invalid reply; an accepted HeartbeatInterval too large
    for the database completes without being stored as the interval. Never pending, never 500."""
    before = query(server, "SELECT local_list_version, heartbeat_interval FROM chargers "
                   "WHERE identity = ?", identity)
    charger.replies["GetLocalListVersion"] = {"listVersion": 10**20}
    reply = send(api, identity, "GetLocalListVersion")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "error" and body["error"]["code"] == "TypeConstraintViolation"
    assert api.get(f"/commands/{body['id']}").json()["status"] == "error"
    reply = send(api, identity, "ChangeConfiguration",
                 {"key": "HeartbeatInterval", "value": str(10**20)})
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "completed"
    assert query(server, "SELECT local_list_version, heartbeat_interval FROM chargers "
                 "WHERE identity = ?", identity) == before
    assert query(server, "SELECT k.value FROM configuration_keys k JOIN chargers c "
                 "ON c.id = k.charger_id WHERE c.identity = ? AND k.key = 'HeartbeatInterval'",
                 identity) == [(str(10**20),)]


def test_reply_with_nan_is_an_invalid_reply_and_the_socket_stays(server, api, identity):
    import json

    from tests.support.charger import RawSocket

    with RawSocket(server.ws_url, identity, compression=None) as raw:
        assert raw.exchange('[2,"b","BootNotification",{"chargePointVendor":"V",'
                            '"chargePointModel":"M"}]')[0] == 3
        pending = send(api, identity, "GetCompositeSchedule",
                       {"connectorId": 1, "duration": 60}, wait=False).json()
        _, unique_id, action, _ = json.loads(raw.recv())
        assert action == "GetCompositeSchedule"
        raw.send(f'[3,"{unique_id}",{{"status":"Accepted","chargingSchedule":{{'
                 '"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,'
                 '"limit":NaN}]}}]')
        deadline = time.monotonic() + 10
        while (command := api.get(f"/commands/{pending['id']}").json())["status"] == "pending":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert command["status"] == "error" and "NaN" in command["error"]["description"]
        limit = command["response"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
        assert limit is None
        assert raw.exchange('[2,"h","Heartbeat",{}]')[0] == 3  # still connected
