"""Every documented JSON GET answers what its OpenAPI schema says, strictly: required fields
present, no undocumented ones. A renamed field fails here instead of passing silently."""
from __future__ import annotations

import re

import pytest
import requests
from jsonschema import Draft202012Validator
from ocpp.v16 import call

from tests.api.helpers import poll
from tests.support.charger import SimCharger


@pytest.fixture(scope="module")
def document(server) -> dict:
    return requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()


def _schema_errors(document: dict, schema: dict, instance) -> list[str]:
    root = {**schema, "components": document["components"]}
    return [e.message for e in Draft202012Validator(root).iter_errors(instance)]


# Paths whose answers need more than this module's server has: checked by the test named.
CHECKED_ELSEWHERE = {
    "/alerts": "tests/test_offline_alerts.py (a charger that went silent)",
    "/jobs/{job_id}": "tests/test_scheduled_workers.py (Redis and a worker)",
    "/rfid/scans": "tests/test_rfid.py (a reader service and scans)",
}


def _json_get_paths(document: dict) -> dict[str, dict]:
    """Documented GET paths whose 200 answer is JSON, with that answer's schema."""
    found = {}
    for path, item in document["paths"].items():
        ok = item.get("get", {}).get("responses", {}).get("200", {})
        media = ok.get("content", {}).get("application/json")
        if media:
            found[path] = media["schema"]
    return found


@pytest.fixture
def filled(api, server, charger, identity) -> dict[str, str]:
    """A charger with something of every kind on record: the values for each path parameter."""
    charger.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                         status="Available"))
    started = charger.call(call.StartTransaction(connector_id=1, id_tag="OAR-1", meter_start=0,
                                                 timestamp="2030-01-01T00:00:00Z"))
    charger.call(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                  meter_value=[{"timestamp": "2030-01-01T00:05:00Z",
                                                "sampled_value": [{"value": "120"}]}]))
    charger.call(call.DataTransfer(vendor_id="Acme", message_id="m", data="x"))
    command = api.post(f"/chargers/{identity}/commands",
                       json={"action": "GetConfiguration"}).json()
    reserved = api.post(f"/chargers/{identity}/commands", json={
        "action": "ReserveNow", "payload": {"connectorId": 1, "idTag": "OAR-1",
                                            "expiryDate": "2099-01-01T00:00:00Z"}}).json()
    assert reserved["status"] == "completed", reserved
    assert api.post(f"/chargers/{identity}/commands",
                    json={"action": "GetDiagnostics"}).json()["status"] == "completed"
    firmware = api.post("/firmware", files={"file": ("oa.bin", b"\x7fFW" * 10)}).json()
    assert api.post(f"/chargers/{identity}/commands", json={
        "action": "UpdateFirmware", "payload": {"retrieveDate": "2030-01-01T00:00:00Z"},
        "firmware_file_id": firmware["id"]}).json()["status"] == "completed"
    reservation = api.get("/reservations", params={"charger": identity}).json()["items"][0]
    bulk = api.post("/bulk-operations", json={"operation": "trigger", "chargers": [identity],
                                              "args": {"message": "heartbeat"}}).json()
    assert poll(lambda: api.get(f"/bulk-operations/{bulk['id']}").json()["status"],
                lambda s: s == "finished") == "finished"
    # An operator's close is audited: /audit has an entry.
    assert api.post(f"/transactions/{started.transaction_id}/close").ok
    token = api.post("/tokens", json={"id_tag": f"OAR-{identity[-8:]}", "note": "x"}).json()
    # The same charger reconnects speaking 2.0.1 (the version belongs to the connection) and
    # reports a security event and a device event.
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp2:
        cp2.call(cp2.ocpp.call.SecurityEventNotification(type="StartupOfTheDevice",
                                                         timestamp="2030-01-01T00:00:00Z"))
        cp2.call(cp2.ocpp.call.NotifyEvent(generated_at="2030-01-01T00:00:00Z", seq_no=0,
                                           event_data=[{
            "eventId": 1, "timestamp": "2030-01-01T00:00:00Z", "trigger": "Delta",
            "actualValue": "Faulted", "eventNotificationType": "HardWiredNotification",
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "AvailabilityState"}}]))
        # A device model report: the variables and reports lists have an entry.
        cp2.call(cp2.ocpp.call.NotifyReport(request_id=1, generated_at="2030-01-01T00:00:00Z",
                                            seq_no=0, report_data=[{
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
            "variableAttribute": [{"type": "Actual", "value": "300",
                                   "mutability": "ReadWrite"}],
            "variableCharacteristics": {"dataType": "integer", "unit": "s",
                                        "supportsMonitoring": False}}]))
        cp2.call(cp2.ocpp.call.NotifyDisplayMessages(request_id=2, message_info=[{
            "id": 1, "priority": "NormalCycle",
            "message": {"format": "UTF8", "content": "Welcome"}}]))
    return {"identity": identity, "transaction_id": str(started.transaction_id),
            "command_id": str(command["id"]), "id_tag": token["id_tag"],
            "reservation_id": str(reservation["id"]), "bulk_id": str(bulk["id"])}


def test_every_json_get_matches_its_strict_schema(document, api, server, filled):
    paths = {path: schema for path, schema in _json_get_paths(document).items()
             if path not in CHECKED_ELSEWHERE}
    assert "/chargers/{identity}" in paths
    unfilled = {name for path in paths for name in re.findall(r"{(\w+)}", path)} - set(filled)
    assert unfilled == set(), f"add a value for these path parameters: {unfilled}"
    failures = {}
    for path, schema in sorted(paths.items()):
        url = re.sub(r"{(\w+)}", lambda m: filled[m.group(1)], path)
        reply = api.get(url)
        assert reply.status_code == 200, f"GET {url}: {reply.status_code} {reply.text[:200]}"
        body = reply.json()
        # Lists are checked with at least one item where this charger has one.
        errors = _schema_errors(document, schema, body)
        if errors:
            failures[path] = errors
        if isinstance(body, dict) and "items" in body and path != "/openapi.json":
            assert body["items"], f"GET {url} listed nothing: the check would be empty"
    assert failures == {}


def test_a_renamed_or_missing_field_fails_the_check(document, api, charger, identity):
    schema = _json_get_paths(document)["/chargers/{identity}"]
    body = api.get(f"/chargers/{identity}").json()
    assert _schema_errors(document, schema, body) == []
    renamed = dict(body)
    renamed["vendor_name"] = renamed.pop("vendor")
    errors = _schema_errors(document, schema, renamed)
    assert any("vendor" in e for e in errors) and any("vendor_name" in e for e in errors)
    nested = dict(body, connectors=[{"connector": 1}])
    assert _schema_errors(document, schema, nested)
