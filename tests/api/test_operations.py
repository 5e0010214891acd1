"""Version-neutral operations over real websockets: the same request to a 1.6, a 2.0.1 and a
2.1 charger, each receiving its version's command."""
from __future__ import annotations

import re

import pytest
from ocpp.v16 import call

from tests.support.charger import SimCharger

VERSIONS = ["ocpp1.6", "ocpp2.0.1"]


def _snake(value):
    """The ocpp package hands handlers snake_case fields, nested too."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


@pytest.fixture(params=VERSIONS)
def station(request, server, identity):
    cp = SimCharger(server.ws_url, identity, subprotocols=[request.param]).connect()
    if request.param == "ocpp1.6":
        cp.boot()
    else:  # a 2.x boot is another change's; any answered CALL shows the session is up
        cp.call(cp.ocpp.call.Heartbeat())
    yield cp
    cp.close()


def run(api, identity, name, args=None, **params):
    return api.post(f"/chargers/{identity}/operations/{name}", json=args or {}, params=params)


def sent(api, station, identity, name, args=None) -> dict:
    """Run an operation; check the answer and that the charger got exactly what was sent."""
    reply = run(api, identity, name, args)
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["operation"] == name
    assert body["status"] == "completed", body
    assert station.received[-1] == (body["action"], _snake(body["request"]))
    return body


# (operation, arguments, 1.6 command and payload, 2.x command and payload)
CASES = [
    ("start", {"token": "OP-1", "connector_id": 2},
     ("RemoteStartTransaction", {"idTag": "OP-1", "connectorId": 2}),
     ("RequestStartTransaction", {"idToken": {"idToken": "OP-1", "type": "Central"},
                                  "evseId": 2})),
    ("start", {"token": "OP-2", "token_type": "ISO14443", "evse_id": 1},
     ("RemoteStartTransaction", {"idTag": "OP-2", "connectorId": 1}),
     ("RequestStartTransaction", {"idToken": {"idToken": "OP-2", "type": "ISO14443"},
                                  "evseId": 1})),
    ("reset", {}, ("Reset", {"type": "Soft"}), ("Reset", {"type": "OnIdle"})),
    ("reset", {"hard": True}, ("Reset", {"type": "Hard"}), ("Reset", {"type": "Immediate"})),
    ("unlock", {"connector_id": 2},
     ("UnlockConnector", {"connectorId": 2}),
     ("UnlockConnector", {"evseId": 2, "connectorId": 1})),
    ("unlock", {"evse_id": 3, "connector_id": 2},
     ("UnlockConnector", {"connectorId": 2}),
     ("UnlockConnector", {"evseId": 3, "connectorId": 2})),
    ("availability", {"operative": False},
     ("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}),
     ("ChangeAvailability", {"operationalStatus": "Inoperative"})),
    ("availability", {"operative": True, "evse_id": 1},
     ("ChangeAvailability", {"connectorId": 1, "type": "Operative"}),
     ("ChangeAvailability", {"operationalStatus": "Operative", "evse": {"id": 1}})),
    ("availability", {"operative": True, "evse_id": 1, "connector_id": 2},
     ("ChangeAvailability", {"connectorId": 2, "type": "Operative"}),
     ("ChangeAvailability", {"operationalStatus": "Operative",
                             "evse": {"id": 1, "connectorId": 2}})),
    ("set_configuration", {"key": "HeartbeatInterval", "value": 120},
     ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}),
     ("SetVariables", {"setVariableData": [{
         "attributeValue": "120", "component": {"name": "OCPPCommCtrlr"},
         "variable": {"name": "HeartbeatInterval"}}]})),
    ("get_configuration", {"keys": ["HeartbeatInterval"]},
     ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
     ("GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                            "variable": {"name": "HeartbeatInterval"}}]})),
    ("trigger", {"message": "status", "evse_id": 1},
     ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}),
     ("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 1}})),
    ("trigger", {"message": "log_status"},
     ("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}),
     ("TriggerMessage", {"requestedMessage": "LogStatusNotification"})),
]


@pytest.mark.parametrize("name,args,v16,v2x", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_version_receives_its_command(api, station, identity, name, args, v16, v2x):
    body = sent(api, station, identity, name, args)
    action, payload = v16 if station.subprotocol == "ocpp1.6" else v2x
    assert body["action"] == action
    request = dict(body["request"])
    if action == "RequestStartTransaction":
        remote_start_id = request.pop("remoteStartId")
        assert isinstance(remote_start_id, int) and 0 < remote_start_id < 2**31
    assert request == payload


def test_get_configuration_without_keys(api, station, identity):
    body = sent(api, station, identity, "get_configuration")
    if station.subprotocol == "ocpp1.6":
        assert (body["action"], body["request"]) == ("GetConfiguration", {})
        keys = api.get(f"/chargers/{identity}/configuration").json()["items"]
        assert {k["key"] for k in keys} >= {"HeartbeatInterval", "NumberOfConnectors"}
    else:
        assert body["action"] == "GetBaseReport"
        assert body["request"]["reportBase"] == "FullInventory"
        assert body["request"]["requestId"] > 0


def test_reserve_and_cancel(api, station, identity):
    body = sent(api, station, identity, "reserve", {
        "token": "RSV-OP", "expires_at": "2099-01-01T10:00:00Z", "evse_id": 1})
    if station.subprotocol == "ocpp1.6":
        reservation_id = body["request"]["reservationId"]
        assert body["request"] == {"connectorId": 1, "idTag": "RSV-OP",
                                   "expiryDate": "2099-01-01T10:00:00.000Z",
                                   "reservationId": reservation_id}
    else:
        reservation_id = body["request"]["id"]
        assert body["request"] == {"idToken": {"idToken": "RSV-OP", "type": "Central"},
                                   "expiryDateTime": "2099-01-01T10:00:00.000Z",
                                   "evseId": 1, "id": reservation_id}
    listed = api.get("/reservations", params={"charger": identity}).json()["items"]
    assert [(r["id"], r["connector_id"], r["status"]) for r in listed] == [
        (reservation_id, 1, "Accepted")]

    cancelled = sent(api, station, identity, "cancel_reservation",
                     {"reservation_id": reservation_id})
    assert (cancelled["action"], cancelled["request"]) == (
        "CancelReservation", {"reservationId": reservation_id})
    listed = api.get("/reservations", params={"charger": identity}).json()["items"]
    assert [r["status"] for r in listed] == ["cancelled"]


def test_publish_local_list(api, station, identity):
    tag = "LL-" + "-".join(identity.split("-")[:2])
    assert api.post("/tokens", json={"id_tag": tag, "status": "Blocked"}).status_code == 201
    body = sent(api, station, identity, "publish_local_list")
    assert body["action"] == "SendLocalList"
    request = body["request"]
    assert request["updateType"] == "Full"
    if station.subprotocol == "ocpp1.6":
        assert request["listVersion"] == 1
        entries = {e["idTag"]: e["idTagInfo"] for e in request["localAuthorizationList"]}
        assert entries[tag] == {"status": "Blocked"}
    else:
        assert request["versionNumber"] == 1
        entries = {e["idToken"]["idToken"]: e for e in request["localAuthorizationList"]}
        assert entries[tag] == {"idToken": {"idToken": tag, "type": "ISO14443"},
                                "idTokenInfo": {"status": "Blocked"}}
    charger = api.get(f"/chargers/{identity}").json()
    assert charger["local_list_version"] == 1
    again = sent(api, station, identity, "publish_local_list", {"full": False})
    assert again["request"]["updateType"] == "Differential"
    assert again["request"].get("listVersion", again["request"].get("versionNumber")) == 2


def test_upload_logs_and_firmware(api, station, identity):
    logs = sent(api, station, identity, "upload_logs", {"since": "2030-01-01T00:00:00Z"})
    if station.subprotocol == "ocpp1.6":
        assert logs["action"] == "GetDiagnostics"
        assert logs["request"]["startTime"] == "2030-01-01T00:00:00.000Z"
        location = logs["request"]["location"]
    else:
        assert logs["action"] == "GetLog"
        assert logs["request"]["logType"] == "DiagnosticsLog"
        assert logs["request"]["requestId"] > 0
        assert logs["request"]["log"]["oldestTimestamp"] == "2030-01-01T00:00:00.000Z"
        location = logs["request"]["log"]["remoteLocation"]
    assert "/files/diagnostics/" in location or location.startswith("http")
    listed = api.get("/diagnostics", params={"charger": identity}).json()["items"]
    assert [d["status"] for d in listed] == ["accepted"]

    firmware = sent(api, station, identity, "update_firmware", {
        "location": "https://fw.example.invalid/v2.bin", "retrieve_at": "2030-01-01T00:00:00Z"})
    if station.subprotocol == "ocpp1.6":
        assert firmware["request"] == {"location": "https://fw.example.invalid/v2.bin",
                                       "retrieveDate": "2030-01-01T00:00:00.000Z"}
    else:
        assert firmware["request"]["firmware"] == {
            "location": "https://fw.example.invalid/v2.bin",
            "retrieveDateTime": "2030-01-01T00:00:00.000Z"}
        assert firmware["request"]["requestId"] > 0
    deployments = api.get("/firmware-deployments", params={"charger": identity}).json()["items"]
    assert [d["status"] for d in deployments] == ["accepted"]


def test_stop(api, station, identity):
    if station.subprotocol == "ocpp1.6":
        started = station.call(call.StartTransaction(connector_id=1, id_tag="OP-STOP",
                                                     meter_start=0,
                                                     timestamp="2030-01-01T00:00:00Z"))
        body = sent(api, station, identity, "stop", {"transaction_id": started.transaction_id})
        assert (body["action"], body["request"]) == (
            "RemoteStopTransaction", {"transactionId": started.transaction_id})
    missing = run(api, identity, "stop", {"transaction_id": 2**31 - 1})
    assert missing.status_code == 404
    assert "no transaction" in missing.json()["message"]


@pytest.mark.parametrize("name,args,word", [
    ("start", {}, "token"),
    ("start", {"token": 7}, "token"),
    ("start", {"token": "A", "evse_id": "one"}, "evse_id"),
    ("start", {"token": "A", "colour": "red"}, "colour"),
    ("reset", {"hard": "yes"}, "hard"),
    ("unlock", {}, "connector_id"),
    ("availability", {"operative": True, "connector_id": -1}, "connector_id"),
    ("reserve", {"token": "A", "expires_at": "soon"}, "expires_at"),
    ("set_configuration", {"key": "HeartbeatInterval"}, "value"),
    ("get_configuration", {"keys": []}, "keys"),
    ("trigger", {"message": "coffee"}, "message"),
    ("update_firmware", {}, "firmware_file_id"),
    ("stop", {"transaction_id": 0}, "transaction_id"),
])
def test_argument_errors_are_400_naming_the_argument(api, station, identity, name, args, word):
    reply = run(api, identity, name, args)
    assert reply.status_code == 400, reply.text
    assert word in reply.json()["message"]
    assert station.received == []


def test_version_specific_refusals(api, station, identity):
    if station.subprotocol == "ocpp1.6":
        long_token = run(api, identity, "start", {"token": "T" * 21})
        assert long_token.status_code == 400 and "token" in long_token.json()["message"]
        cannot = run(api, identity, "trigger", {"message": "transaction_event"})
        assert cannot.status_code == 422
    else:
        bad_type = run(api, identity, "start", {"token": "A", "token_type": "Card"})
        assert bad_type.status_code == 400 and "token_type" in bad_type.json()["message"]
        bad_key = run(api, identity, "set_configuration", {"key": "NoSuchKey", "value": "1"})
        assert bad_key.status_code == 400 and "Component" in bad_key.json()["message"]
        assert run(api, identity, "trigger", {"message": "transaction_event"}
                   ).status_code == 200
    assert station.received[-1:] == [] or station.received[-1][0] == "TriggerMessage"


def test_unknown_operation_charger_and_not_connected(api, server, station, identity):
    unknown = run(api, identity, "make_coffee")
    assert unknown.status_code == 404
    assert "make_coffee" in unknown.json()["message"]
    assert run(api, "no-such-charger", "reset").status_code == 404
    station.close()
    assert run(api, identity, "reset").status_code == 409


def test_wait_false_answers_202(api, station, identity):
    reply = run(api, identity, "reset", wait="false")
    assert reply.status_code == 202, reply.text
    assert reply.json()["operation"] == "reset"
    assert run(api, identity, "reset", wait="maybe").status_code == 400


def test_viewer_cannot_run_operations(viewer, station, identity):
    assert viewer.post(f"/chargers/{identity}/operations/reset", json={}).status_code == 403


def test_a_21_charger_starts(api, server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.1"]) as station:
        station.call(station.ocpp.call.Heartbeat())
        long_token = "L" * 100  # 2.1 allows longer tokens of any type
        body = sent(api, station, identity, "start", {"token": long_token,
                                                      "token_type": "PaymentCard"})
        assert body["action"] == "RequestStartTransaction"
        assert body["request"]["idToken"] == {"idToken": long_token, "type": "PaymentCard"}


def test_operations_are_listed(api):
    body = api.get("/operations").json()
    by_name = {op["name"]: op for op in body["items"]}
    assert set(by_name) >= {"start", "stop", "reset", "unlock", "availability", "reserve",
                            "cancel_reservation", "publish_local_list", "get_configuration",
                            "set_configuration", "update_firmware", "upload_logs", "trigger"}
    start = by_name["start"]
    assert start["versions"] == ["2.1", "2.0.1", "1.6"]
    token = next(a for a in start["arguments"] if a["name"] == "token")
    assert token["required"] is True and token["type"] == "string"
    reset = next(a for a in by_name["reset"]["arguments"] if a["name"] == "hard")
    assert reset["default"] is False


def test_availability_is_kept_per_evse(api, station, identity):
    sent(api, station, identity, "availability", {"operative": False, "evse_id": 1})
    connectors = api.get(f"/chargers/{identity}").json()["connectors"]
    one = next(c for c in connectors if c["connector_id"] == 1)
    assert (one["requested_availability"], one["availability"]) == ("Inoperative", "Inoperative")


def test_answers_match_the_openapi_schemas(server, api, station, identity):
    import requests

    from tests.api.test_openapi import _validate

    document = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    _validate(document, "OperationList", api.get("/operations").json())
    _validate(document, "OperationResult", run(api, identity, "reset").json())
    _validate(document, "Error", run(api, identity, "reset", {"hard": 1}).json())


def test_update_firmware_serves_an_uploaded_file(api, station, identity):
    import requests

    blob = b"\x7fFW" + identity.encode() * 10
    uploaded = api.post("/firmware", files={"file": ("op.bin", blob)})
    assert uploaded.status_code == 201, uploaded.text
    body = sent(api, station, identity, "update_firmware",
                {"firmware_file_id": uploaded.json()["id"]})
    request = body["request"]
    location = (request["location"] if station.subprotocol == "ocpp1.6"
                else request["firmware"]["location"])
    assert requests.get(location, timeout=10).content == blob
    deployment = api.get("/firmware-deployments", params={"charger": identity}).json()["items"]
    assert [(d["firmware_file_id"], d["location"]) for d in deployment] == [
        (uploaded.json()["id"], location)]
    if station.subprotocol != "ocpp1.6":
        assert request["requestId"] == deployment[0]["id"]


def test_raw_2x_local_list_commands_keep_the_version(api, server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as station:
        station.call(station.ocpp.call.Heartbeat())
        path = f"/chargers/{identity}/commands"
        got = api.post(path, json={"action": "GetLocalListVersion"})
        assert got.status_code == 200, got.text
        assert api.get(f"/chargers/{identity}").json()["local_list_version"] == 7
        full = api.post(path, json={"action": "SendLocalList", "payload": {"updateType": "Full"}})
        assert full.status_code == 200, full.text
        assert full.json()["request"]["versionNumber"] == 8
        for entry in full.json()["request"].get("localAuthorizationList", []):
            assert set(entry) == {"idToken", "idTokenInfo"}
        assert api.get(f"/chargers/{identity}").json()["local_list_version"] == 8


def test_2x_availability_of_one_evse_leaves_the_other_evses_connector_1_alone(
        server, api, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        cp.boot()
        for evse_id in (1, 2):
            cp.call(cp.ocpp.call.StatusNotification(
                timestamp="2030-01-01T00:00:00Z", connector_status="Available",
                evse_id=evse_id, connector_id=1))
        reply = run(api, identity, "availability", {"operative": False, "evse_id": 2})
        assert reply.status_code == 200, reply.text
        assert cp.received[-1][1]["evse"] == {"id": 2}
    connectors = {(c["evse_id"], c["connector_id"]): c["availability"]
                  for c in api.get(f"/chargers/{identity}").json()["connectors"]}
    assert connectors == {(1, 1): "Operative", (2, 1): "Inoperative"}


def test_a_local_list_leaves_out_tokens_longer_than_the_version_carries(server, api, identity):
    medium, long = f"M{identity}".ljust(30, "M")[:30], f"L{identity}".ljust(100, "L")[:100]
    for tag in (medium, long):
        assert api.post("/tokens", json={"id_tag": tag}).status_code == 201
    for subprotocol, expected in (("ocpp1.6", set()), ("ocpp2.0.1", {medium}),
                                  ("ocpp2.1", {medium, long})):
        with SimCharger(server.ws_url, f"{identity}-{subprotocol}",
                        subprotocols=[subprotocol]) as cp:
            cp.call(cp.ocpp.call.Heartbeat())
            reply = run(api, cp.identity, "publish_local_list")
            assert reply.status_code == 200, reply.text
            entries = cp.received[-1][1].get("local_authorization_list") or []
            sent = {e.get("id_tag") or e["id_token"]["id_token"] for e in entries}
            assert sent & {medium, long} == expected, subprotocol
