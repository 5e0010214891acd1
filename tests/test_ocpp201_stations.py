"""OCPP 2.0.1 and 2.1 BootNotification, StatusNotification and Authorize over real websockets:
what the charger is answered, and what the operator then sees through the API."""
from __future__ import annotations

import pytest
from ocpp.exceptions import PropertyConstraintViolationError

from tests.support.charger import SimCharger

VERSIONS = pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])


def _status(cp: SimCharger, evse_id: int, connector_id: int, status: str):
    return cp.call(cp.ocpp.call.StatusNotification(
        timestamp="2026-12-03T10:00:00Z", connector_status=status, evse_id=evse_id,
        connector_id=connector_id))


def _authorize(cp: SimCharger, value: str, type_: str = "ISO14443") -> dict:
    reply = cp.call(cp.ocpp.call.Authorize(id_token={"id_token": value, "type": type_}))
    return reply.id_token_info


@VERSIONS
def test_boot_is_stored_with_its_reason(server, api, identity, subprotocol):
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        reply = cp.boot(charging_station={
            "vendor_name": "Acme", "model": "Volt-2", "serial_number": "SN-9",
            "firmware_version": "2.4.1", "modem": {"iccid": "8944", "imsi": "2620"}},
            reason="RemoteReset")
        assert reply.status == "Accepted" and reply.interval > 0
        assert reply.current_time.endswith("Z")
    charger = api.get(f"/chargers/{identity}").json()
    assert (charger["vendor"], charger["model"], charger["serial_number"],
            charger["firmware_version"], charger["iccid"], charger["imsi"]) == (
        "Acme", "Volt-2", "SN-9", "2.4.1", "8944", "2620")
    assert charger["last_boot_reason"] == "RemoteReset"


@VERSIONS
def test_a_pending_charger_is_told_pending(server, api, identity, subprotocol):
    assert api.post("/chargers", json={"identity": identity,
                                       "registration_status": "pending"}).status_code == 201
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        reply = cp.boot()
        assert reply.status == "Pending" and reply.interval > 0


@VERSIONS
def test_connectors_are_keyed_by_evse_and_connector(server, api, identity, subprotocol):
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        cp.boot()
        _status(cp, 2, 1, "Occupied")
        _status(cp, 1, 1, "Unavailable")
        _status(cp, 2, 1, "Available")
    connectors = api.get(f"/chargers/{identity}").json()["connectors"]
    assert [(c["evse_id"], c["connector_id"], c["status"], c["availability"])
            for c in connectors] == [(1, 1, "Unavailable", "Inoperative"),
                                     (2, 1, "Available", "Operative")]


@VERSIONS
def test_an_impossible_connector_is_refused_and_the_connection_goes_on(server, api, identity,
                                                                       subprotocol):
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        cp.boot()
        with pytest.raises(PropertyConstraintViolationError):
            _status(cp, 1, 500, "Available")
        _status(cp, 1, 1, "Available")  # still usable
    connectors = api.get(f"/chargers/{identity}").json()["connectors"]
    assert [(c["evse_id"], c["connector_id"]) for c in connectors] == [(1, 1)]


@VERSIONS
def test_authorize_answers_in_2x_words(server, api, identity, subprotocol):
    known, blocked = f"OK-{identity}"[:36], f"NO-{identity}"[:36]
    assert api.post("/tokens", json={"id_tag": known, "type": "ISO14443",
                                     "parent_id_tag": "FLEET-1"}).status_code == 201
    assert api.post("/tokens", json={"id_tag": blocked, "status": "Blocked"}).status_code == 201
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        cp.boot()
        ok = _authorize(cp, known.lower())  # case-insensitive, whatever the type
        assert ok["status"] == "Accepted"
        assert ok["group_id_token"] == {"id_token": "FLEET-1", "type": "Central"}
        assert _authorize(cp, f"UNKNOWN-{identity}"[:36])["status"] == "Unknown"
        assert _authorize(cp, blocked, "KeyCode")["status"] == "Blocked"
    assert api.get(f"/tokens/{known}").json()["type"] == "ISO14443"


@VERSIONS
def test_a_16_id_tag_and_a_2x_token_of_the_same_value_are_one_token(server, api, identity,
                                                                    subprotocol):
    value = f"S{abs(hash(identity)) % 10**9}"
    assert api.post("/tokens", json={"id_tag": value}).status_code == 201
    assert api.patch(f"/tokens/{value}", json={"status": "Blocked"}).status_code == 200
    with SimCharger(server.ws_url, f"{identity}-16") as old:
        old.boot()
        assert old.call(old.ocpp.call.Authorize(id_tag=value.lower())).id_tag_info[
            "status"] == "Blocked"
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        cp.boot()
        assert _authorize(cp, value, "ISO14443")["status"] == "Blocked"
    assert [t["id_tag"] for t in api.get("/tokens", params={"q": value}).json()["items"]] == [
        value]


def test_the_token_api_takes_and_checks_the_type(api):
    created = api.post("/tokens", json={"id_tag": "E" * 255, "type": "eMAID"})
    assert created.status_code == 201 and created.json()["type"] == "eMAID"
    assert api.patch(f"/tokens/{'E' * 255}", json={"type": None}).json()["type"] is None
    bad = api.post("/tokens", json={"id_tag": "BAD-TYPE-1", "type": "Magic"})
    assert bad.status_code == 400 and "type" in bad.json()["message"]
