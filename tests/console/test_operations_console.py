"""The console's version-neutral buttons over plain HTTP: a 2.0.1 charger gets its own
version's commands (configuration, reservations, diagnostics for a mixed fleet)."""
from __future__ import annotations

import time
from urllib.parse import quote

import pytest
import requests

from tests.support.charger import SimCharger

from .test_access import _csrf, _login


@pytest.fixture(scope="module")
def operator(server, console_users) -> requests.Session:
    session, response = _login(server.url, console_users["operator"])
    assert response.status_code == 302
    return session


def _post(session: requests.Session, url: str, page: str, data: dict) -> requests.Response:
    token = _csrf(session.get(page, timeout=30).text)
    return session.post(url, data={"csrf_token": token, **data}, timeout=60)


def _wait_for(fetch, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.05)
    return fetch()


def test_a_2x_charger_gets_its_own_commands(server, operator, charger, identity):
    other = f"{identity}-v2"
    with SimCharger(server.ws_url, other, subprotocols=["ocpp2.0.1"]) as station:
        station.call(station.ocpp.call.Heartbeat())
        page = f"{server.url}/console/chargers/{quote(other, safe='')}"
        response = _post(operator, page + "/configuration/change", page,
                         {"key": "HeartbeatInterval", "value": "90"})
        assert response.status_code == 200
        assert station.received[-1][0] == "SetVariables"
        assert station.received[-1][1]["set_variable_data"][0]["attribute_value"] == "90"

        reservations = f"{server.url}/console/reservations"
        response = _post(operator, reservations, reservations, {
            "charger": other, "connector": "1", "id_tag": "CON-RSV",
            "expiry": "2099-01-01T10:00"})
        assert response.status_code == 200, response.text[:500]
        assert "ReserveNow: the charger answered Accepted." in response.text
        action, fields = station.received[-1]
        assert action == "ReserveNow"
        assert fields["id_token"] == {"id_token": "CON-RSV", "type": "Central"}
        assert fields["evse_id"] == 1

        diagnostics = f"{server.url}/console/diagnostics"
        response = _post(operator, diagnostics + "/request", diagnostics,
                         {"chargers": [charger.identity, other]})
        assert response.status_code == 200
        assert (f"GetDiagnostics/GetLog sent to {charger.identity}, {other}" in response.text
                or f"GetLog/GetDiagnostics sent to {charger.identity}, {other}" in response.text)
        assert _wait_for(lambda: [a for a, _ in station.received if a == "GetLog"])
        assert _wait_for(lambda: [a for a, _ in charger.received if a == "GetDiagnostics"])


def test_a_2x_charger_page_shows_its_device_model_security_events_and_faults(
        server, operator, identity):
    other = f"{identity}-dm"
    page = f"{server.url}/console/chargers/{quote(other, safe='')}"
    with SimCharger(server.ws_url, other, subprotocols=["ocpp2.0.1"]) as station:
        station.boot()
        station.call(station.ocpp.call.NotifyReport(
            request_id=7, generated_at="2030-01-01T00:00:00Z", seq_no=0, report_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
                 "variableAttribute": [{"type": "Actual", "value": "300",
                                        "mutability": "ReadWrite"}],
                 "variableCharacteristics": {"dataType": "integer", "unit": "s",
                                             "supportsMonitoring": False}},
                {"component": {"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
                 "variable": {"name": "ConnectorType"},
                 "variableAttribute": [{"type": "Actual", "value": "cType2",
                                        "mutability": "ReadOnly"}],
                 "variableCharacteristics": {"dataType": "string",
                                             "supportsMonitoring": False}}]))
        station.call(station.ocpp.call.SecurityEventNotification(
            type="TamperDetectionActivated", timestamp="2030-01-01T00:01:00Z",
            tech_info="lid opened"))
        station.call(station.ocpp.call.NotifyEvent(
            generated_at="2030-01-01T00:02:00Z", seq_no=0, event_data=[{
                "eventId": 3, "timestamp": "2030-01-01T00:02:00Z", "trigger": "Delta",
                "actualValue": "Faulted", "eventNotificationType": "HardWiredNotification",
                "component": {"name": "EVSE", "evse": {"id": 2}},
                "variable": {"name": "AvailabilityState"}}]))
        html = operator.get(page, timeout=30).text
        assert "Device model (OCPP 2.0.1)" in html
        assert 'data-variable="OCPPCommCtrlr/HeartbeatInterval"' in html
        assert "2 variables" in html
        # A read-write variable off any EVSE can be set here; the EVSE's read-only one cannot.
        assert 'value="OCPPCommCtrlr/HeartbeatInterval"' in html
        assert "cType2" in html and "EVSE 2 · #1" in html
        assert 'value="Connector/ConnectorType"' not in html
        assert "TamperDetectionActivated" in html and "lid opened" in html
        assert "AvailabilityState = Faulted" in html

        searched = operator.get(page, params={"vq": "connectortype"}, timeout=30).text
        assert "1 variable matching" in searched and "HeartbeatInterval" not in searched.split(
            'id="variables-table"')[1].split("</table>")[0]

        response = _post(operator, page + "/configuration/change", page,
                         {"key": "OCPPCommCtrlr/HeartbeatInterval", "value": "120"})
        assert response.status_code == 200
        assert station.received[-1][0] == "SetVariables"
        # The charger said Accepted: the page shows the new value.
        assert 'name="value" value="120"' in operator.get(page, timeout=30).text


def test_a_2x_session_shows_on_its_own_evses_connector(server, operator, identity):
    other = f"{identity}-tx"
    with SimCharger(server.ws_url, other, subprotocols=["ocpp2.0.1"]) as station:
        station.boot()
        for evse_id in (1, 2):
            station.call(station.ocpp.call.StatusNotification(
                timestamp="2030-01-01T00:00:00Z", connector_status="Available",
                evse_id=evse_id, connector_id=1))
        station.call(station.ocpp.call.TransactionEvent(
            event_type="Started", timestamp="2030-01-01T00:00:00Z", trigger_reason="Authorized",
            seq_no=0, transaction_info={"transaction_id": "EVSE2-TX"},
            evse={"id": 2, "connector_id": 1},
            id_token={"id_token": "EVSE2-CARD", "type": "ISO14443"}))
        live = operator.get(f"{server.url}/console/fragments/charger-live/"
                            f"{quote(other, safe='')}", timeout=30).text
    # The session is on EVSE 2's connector 1, not on EVSE 1's (both are "connector 1").
    rows = {row.split('data-evse="')[1].split('"')[0]: row
            for row in live.split('<tr data-connector="1"')[1:]}
    assert "EVSE2-CARD" in rows["2"] and "EVSE2-CARD" not in rows["1"]


def test_a_bulk_operation_from_the_console_shows_its_progress_and_results(server, operator,
                                                                        identity):
    names = [f"{identity}-bulk-{n}" for n in range(3)]
    fleet = [SimCharger(server.ws_url, names[0]).connect(),
             SimCharger(server.ws_url, names[1], subprotocols=["ocpp2.0.1"]).connect(),
             SimCharger(server.ws_url, names[2]).connect()]
    try:
        for cp in fleet:
            cp.boot()
        fleet[2].replies["ChangeConfiguration"] = lambda req: {"status": "Rejected"}
        page = f"{server.url}/console/bulk"
        assert _wait_for(lambda: all(n in operator.get(page, timeout=30).text for n in names))
        response = _post(operator, page, page, {
            "operation": "set_configuration", "target": "chosen", "chargers": names,
            "args": '{"key": "HeartbeatInterval", "value": "600"}', "max_in_flight": "2"})
        assert response.status_code == 200 and "/console/bulk/" in response.url
        fragment = response.url.replace("/console/bulk/", "/console/fragments/bulk/")
        done = _wait_for(lambda: "finished" in (t := operator.get(fragment, timeout=30).text)
                         and t)
        assert 'value="3"' in done and 'max="3"' in done  # the progress bar is full
        assert "completed: <strong>2</strong>" in done and "rejected: <strong>1</strong>" in done
        assert [a for a, _ in fleet[1].received] == ["SetVariables"]
        assert [a for a, _ in fleet[0].received] == ["ChangeConfiguration"]
        # A finished one cannot be cancelled; the page says why.
        cancel = _post(operator, response.url + "/cancel", response.url, {})
        assert "has already finished" in cancel.text
        # Bad input is explained, nothing started.
        response = _post(operator, page, page, {"operation": "set_configuration",
                                                "target": "chosen", "chargers": names,
                                                "args": "{not json"})
        assert "The arguments are not JSON" in response.text
    finally:
        for cp in fleet:
            cp.close()
