"""The device model over real websockets: NotifyReport parts (out of order) from a 2.0.1 and a
2.1 charger, then GetVariables / SetVariables sent through the API, stored and listed."""
from __future__ import annotations

import pytest

from tests.api.helpers import poll
from tests.support.charger import SimCharger

GENERATED = "2026-12-03T10:00:00Z"


def _item(component, variable, value, mutability="ReadWrite", data_type="integer", evse=None,
          instance=None):
    comp = {"name": component, **({"evse": evse} if evse else {})}
    var = {"name": variable, **({"instance": instance} if instance else {})}
    return {"component": comp, "variable": var,
            "variable_attribute": [{"type": "Actual", "value": value, "mutability": mutability}],
            "variable_characteristics": {"data_type": data_type, "supports_monitoring": False}}


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
def test_notify_report_in_two_parts_then_get_and_set_variables(api, server, identity,
                                                               subprotocol):
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        assert cp.subprotocol == subprotocol
        # 2.x BootNotification is another branch's; the auto-enrolled charger is accepted.
        call = cp.ocpp.call
        # The second part first: the report is complete only once both are in.
        assert cp.call(call.NotifyReport(request_id=5, generated_at=GENERATED, seq_no=1,
                                         tbc=False, report_data=[
            _item("Connector", "AvailabilityState", "Available", "ReadOnly", "string",
                  {"id": 1, "connector_id": 1})])) is not None
        reports = api.get(f"/chargers/{identity}/reports").json()["items"]
        assert reports[0]["request_id"] == 5 and reports[0]["complete"] is False
        cp.call(call.NotifyReport(request_id=5, generated_at=GENERATED, seq_no=0, tbc=True,
                                  report_data=[
            _item("OCPPCommCtrlr", "HeartbeatInterval", "300"),
            _item("DeviceDataCtrlr", "ItemsPerMessage", "4", "ReadOnly",
                  instance="GetVariables")]))
        reports = api.get(f"/chargers/{identity}/reports").json()["items"]
        assert reports[0]["complete"] is True and reports[0]["parts_received"] == 2
        listed = api.get(f"/chargers/{identity}/variables").json()
        assert listed["total"] == 3
        connector = api.get(f"/chargers/{identity}/variables",
                            params={"component": "connector"}).json()["items"][0]
        assert connector["component"]["evse_id"] == 1
        assert connector["component"]["connector_id"] == 1
        assert connector["attributes"][0]["value"] == "Available"

        cp.replies["GetVariables"] = lambda req: {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "120",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"attributeStatus": "UnknownVariable", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "NoSuchThing"}}]}
        reply = api.post(f"/chargers/{identity}/commands", json={
            "action": "GetVariables", "payload": {"getVariableData": [
                {"component": {"name": "OCPPCommCtrlr"},
                 "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NoSuchThing"}}]}})
        assert reply.status_code == 200, reply.text
        assert reply.json()["status"] == "completed" and "effect_error" not in reply.json()
        hb = api.get(f"/chargers/{identity}/variables",
                     params={"variable": "HeartbeatInterval"}).json()["items"][0]
        assert hb["attributes"][0]["value"] == "120"
        assert hb["attributes"][0]["last_status"] == "Accepted"
        assert hb["characteristics"]["data_type"] == "integer"
        assert api.get(f"/chargers/{identity}/variables",
                       params={"q": "nosuch"}).json()["total"] == 0

        # SetVariables (default reply Accepted): the stored Actual value follows.
        reply = api.post(f"/chargers/{identity}/commands", json={
            "action": "SetVariables", "payload": {"setVariableData": [
                {"component": {"name": "OCPPCommCtrlr"},
                 "variable": {"name": "HeartbeatInterval"}, "attributeValue": "60"}]}})
        assert reply.status_code == 200 and reply.json()["status"] == "completed", reply.text
        hb = poll(lambda: api.get(f"/chargers/{identity}/variables",
                                  params={"q": "heartbeat"}).json()["items"][0],
                  lambda v: v["attributes"][0]["value"] == "60")
        assert hb["attributes"][0]["value"] == "60"

        # More items than the charger's reported ItemsPerMessage (4): refused before sending.
        too_many = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": f"V{i}"}}
                    for i in range(5)]
        reply = api.post(f"/chargers/{identity}/commands", json={
            "action": "GetVariables", "payload": {"getVariableData": too_many}})
        assert reply.status_code == 422 and "ItemsPerMessage" in reply.json()["message"]


def test_get_base_report_gets_a_request_id_and_its_report_is_listed(api, server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        assert cp.subprotocol == "ocpp2.0.1"
        # The connection's version is stored as it opens (group commit): wait for it.
        assert poll(lambda: api.get(f"/chargers/{identity}").json().get("ocpp_version"),
                    lambda v: v == "2.0.1") == "2.0.1"
        # 2.x BootNotification is another branch's; the auto-enrolled charger is accepted.
        reply = api.post(f"/chargers/{identity}/commands", json={
            "action": "GetBaseReport", "payload": {"reportBase": "FullInventory"}})
        assert reply.status_code == 200 and reply.json()["status"] == "completed", reply.text
        request_id = reply.json()["request"]["requestId"]
        report = api.get(f"/chargers/{identity}/reports").json()["items"][0]
        assert report["request_id"] == request_id and report["report_base"] == "FullInventory"
        assert report["request_status"] == "Accepted" and report["complete"] is False


def test_unknown_charger_is_404_with_a_message(api):
    for path in ("variables", "reports"):
        reply = api.get(f"/chargers/no-such-charger/{path}")
        assert reply.status_code == 404 and "no-such-charger" in reply.json()["message"]


def test_a_value_that_needs_a_reboot_is_pending_until_the_charger_boots(api, server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        assert poll(lambda: api.get(f"/chargers/{identity}").json().get("ocpp_version"),
                    lambda v: v == "2.0.1") == "2.0.1"
        cp.replies["SetVariables"] = lambda req: {"setVariableResult": [
            {"attributeStatus": "RebootRequired", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}]}
        reply = api.post(f"/chargers/{identity}/commands", json={
            "action": "SetVariables", "payload": {"setVariableData": [
                {"component": {"name": "OCPPCommCtrlr"},
                 "variable": {"name": "HeartbeatInterval"}, "attributeValue": "90"}]}})
        assert reply.status_code == 200 and reply.json()["status"] == "completed", reply.text
        attribute = api.get(f"/chargers/{identity}/variables",
                            params={"q": "heartbeat"}).json()["items"][0]["attributes"][0]
        assert (attribute["value"], attribute["pending_value"]) == (None, "90")
        assert cp.boot(reason="RemoteReset").status == "Accepted"
        attribute = api.get(f"/chargers/{identity}/variables",
                            params={"q": "heartbeat"}).json()["items"][0]["attributes"][0]
        assert (attribute["value"], attribute["pending_value"]) == ("90", None)
