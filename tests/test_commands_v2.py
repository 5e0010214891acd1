"""Every CSMS-to-station command of 2.0.1 and 2.1 that operators use, sent raw through the API
to a real 2.x charger (the ocpp package's v201/v21 ChargePoint): schema-checked, delivered,
answered and recorded."""
from __future__ import annotations

import pytest

from tests.support.charger import SimCharger

PAYLOADS = {
    "CancelReservation": {"reservationId": 4242},
    "ChangeAvailability": {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    "ClearCache": {},
    "ClearChargingProfile": {"chargingProfileId": 1},
    "ClearDisplayMessage": {"id": 3},
    "CostUpdated": {"totalCost": 4.2, "transactionId": "TX-1"},
    "CustomerInformation": {"requestId": 9, "report": True, "clear": False,
                            "idToken": {"idToken": "CUST-1", "type": "ISO14443"}},
    "DataTransfer": {"vendorId": "com.acme", "messageId": "ping", "data": {"x": 1}},
    "GetBaseReport": {"reportBase": "FullInventory"},
    "GetChargingProfiles": {"requestId": 5, "chargingProfile": {"chargingProfilePurpose":
                                                                 "TxDefaultProfile"}},
    "GetCompositeSchedule": {"duration": 3600, "evseId": 1},
    "GetDisplayMessages": {"requestId": 6},
    "GetLocalListVersion": {},
    "GetLog": {"logType": "DiagnosticsLog"},
    "GetReport": {"componentVariable": [{"component": {"name": "OCPPCommCtrlr"}}]},
    "GetTransactionStatus": {"transactionId": "TX-1"},
    "GetVariables": {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                          "variable": {"name": "HeartbeatInterval"}}]},
    "RequestStartTransaction": {"idToken": {"idToken": "RS-1", "type": "Central"},
                                "remoteStartId": 11, "evseId": 1},
    "RequestStopTransaction": {"transactionId": "TX-1"},
    "ReserveNow": {"expiryDateTime": "2099-01-01T00:00:00Z",  # the id is filled in
                   "idToken": {"idToken": "R-1", "type": "ISO14443"}, "evseId": 1},
    "Reset": {"type": "OnIdle"},
    "SendLocalList": {"versionNumber": 3, "updateType": "Full"},
    "SetChargingProfile": {"evseId": 1, "chargingProfile": {
        "id": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": [{
            "id": 1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}},
    "SetDisplayMessage": {"message": {"id": 3, "priority": "NormalCycle", "message": {
        "format": "UTF8", "content": "Welcome"}}},
    "SetNetworkProfile": {"configurationSlot": 2, "connectionData": {
        "ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": "wss://csms.invalid/",
        "messageTimeout": 30, "securityProfile": 2, "ocppInterface": "Wired0"}},
    "SetVariables": {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                          "variable": {"name": "HeartbeatInterval"},
                                          "attributeValue": "120"}]},
    "TriggerMessage": {"requestedMessage": "StatusNotification",
                       "evse": {"id": 1, "connectorId": 1}},
    "UnlockConnector": {"evseId": 1, "connectorId": 1},
    "UpdateFirmware": {"requestId": 21, "firmware": {
        "location": "https://fw.example.invalid/v2.bin",
        "retrieveDateTime": "2030-01-01T00:00:00Z"}},
}


@pytest.fixture(params=["ocpp2.0.1", "ocpp2.1"])
def station(request, server, identity):
    cp = SimCharger(server.ws_url, identity, subprotocols=[request.param]).connect()
    cp.call(cp.ocpp.call.Heartbeat())
    yield cp
    cp.close()


def test_every_2x_command_reaches_the_charger_and_is_recorded(api, station, identity):
    for action, payload in PAYLOADS.items():
        reply = api.post(f"/chargers/{identity}/commands",
                         json={"action": action, "payload": payload})
        assert reply.status_code == 200, (action, reply.text)
        body = reply.json()
        assert body["status"] == "completed", (action, body)
        received, fields = station.received[-1]
        assert received == action
        stored = api.get(f"/commands/{body['id']}").json()
        assert stored["response"] == body["response"] and stored["request"] == body["request"]


def test_a_2x_command_breaking_its_schema_is_refused_before_sending(api, station, identity):
    reply = api.post(f"/chargers/{identity}/commands",
                     json={"action": "Reset", "payload": {"type": "Soft"}})  # a 1.6 value
    assert reply.status_code == 422 and "type" in reply.json()["message"]
    reply = api.post(f"/chargers/{identity}/commands",
                     json={"action": "RemoteStartTransaction", "payload": {"idTag": "X"}})
    assert reply.status_code == 400 and "RemoteStartTransaction" in reply.json()["message"]
    assert [a for a, _ in station.received] == []


def _welcome(message_id: int, content: str) -> dict:
    return {"message": {"id": message_id, "priority": "InFront", "state": "Charging",
                        "message": {"format": "UTF8", "content": content}}}


def test_display_messages_follow_set_clear_and_what_the_station_reports(api, station, identity):
    def shown(**params):
        reply = api.get(f"/chargers/{identity}/display-messages", params=params)
        assert reply.status_code == 200, reply.text
        return {m["message_id"]: m for m in reply.json()["items"]}

    def command(action, payload):
        reply = api.post(f"/chargers/{identity}/commands",
                         json={"action": action, "payload": payload})
        assert reply.status_code == 200 and reply.json()["status"] == "completed", reply.text

    command("SetDisplayMessage", _welcome(7, "Welcome"))
    station.replies["SetDisplayMessage"] = lambda req: {"status": "NotSupportedPriority"}
    command("SetDisplayMessage", _welcome(8, "Refused"))
    now = shown()
    assert list(now) == [7]  # a refused message is not on the station
    assert now[7]["source"] == "csms" and now[7]["last_status"] == "Accepted"
    assert now[7]["message"]["message"]["content"] == "Welcome"
    assert (now[7]["priority"], now[7]["state"]) == ("InFront", "Charging")

    station.call(station.ocpp.call.NotifyDisplayMessages(request_id=6, message_info=[
        {"id": 9, "priority": "NormalCycle", "message": {"format": "ASCII", "content": "Hi"}}]))
    assert set(shown()) == {7, 9} and shown()[9]["source"] == "station"

    command("ClearDisplayMessage", {"id": 7})
    assert list(shown()) == [9]
    cleared = shown(cleared="true")[7]
    assert cleared["cleared_at"] is not None and cleared["last_status"] == "Accepted"
    assert api.get(f"/chargers/{identity}/display-messages",
                   params={"cleared": "maybe"}).status_code == 400
    assert api.get("/chargers/nope/display-messages").status_code == 404
