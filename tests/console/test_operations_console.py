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
