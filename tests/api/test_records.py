"""Records: message log, status history, configuration, reservations, data transfers,
firmware upload and deployment, diagnostics upload and download."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import requests
from ocpp.v16 import call

from tests.api.helpers import poll
from tests.conftest import Api


def _path(identity: str) -> str:
    return f"/chargers/{quote(identity, safe='')}"


def test_message_log_has_the_boot_exchange(api, charger, identity):
    def fetch():
        return api.get(f"{_path(identity)}/messages").json()

    body = poll(fetch, lambda b: b.get("total", 0) >= 2)
    boot_in = [m for m in body["items"] if m["direction"] == "in"
               and m["action"] == "BootNotification"]
    assert len(boot_in) == 1
    assert boot_in[0]["message_type"] == 2
    assert '"Acme"' in boot_in[0]["frame"]
    reply = [m for m in body["items"] if m["direction"] == "out"
             and m["message_id"] == boot_in[0]["message_id"]]
    assert len(reply) == 1 and reply[0]["message_type"] == 3
    assert "Accepted" in reply[0]["frame"]
    ids = [m["id"] for m in body["items"]]
    assert ids == sorted(ids, reverse=True)  # newest first

    only_out = api.get(f"{_path(identity)}/messages", params={"direction": "out"}).json()
    assert {m["direction"] for m in only_out["items"]} == {"out"}
    boot = api.get(f"{_path(identity)}/messages", params={"action": "BootNotification"}).json()
    assert {m["id"] for m in boot["items"]} == {boot_in[0]["id"], reply[0]["id"]}
    later = api.get(f"{_path(identity)}/messages", params={"since": "2999-01-01T00:00:00Z"})
    assert later.json()["total"] == 0
    bad = api.get(f"{_path(identity)}/messages", params={"direction": "sideways"})
    assert bad.status_code == 400 and "direction" in bad.json()["message"]


def test_status_history(api, charger, identity):
    for status in ("Preparing", "Charging"):
        charger.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))
    charger.call(call.StatusNotification(connector_id=2, error_code="NoError",
                                         status="Available"))
    body = api.get(f"{_path(identity)}/status-history", params={"connector_id": 1}).json()
    assert [s["status"] for s in body["items"]] == ["Charging", "Preparing"]
    assert body["items"][0]["received_at"].endswith("Z")
    assert api.get(f"{_path(identity)}/status-history").json()["total"] == 3
    page = api.get(f"{_path(identity)}/status-history", params={"per_page": 1}).json()
    assert (page["total"], len(page["items"])) == (3, 1)
    for bad in ("one", str(10**20)):
        assert api.get(f"{_path(identity)}/status-history",
                       params={"connector_id": bad}).status_code == 400


def test_configuration_after_get_configuration(api, charger, identity):
    assert api.get(f"{_path(identity)}/configuration").json()["items"] == []
    sent = api.post(f"{_path(identity)}/commands", json={"action": "GetConfiguration"})
    assert sent.status_code == 200, sent.text
    keys = api.get(f"{_path(identity)}/configuration").json()["items"]
    assert [(k["key"], k["value"], k["readonly"], k["unknown"]) for k in keys] == [
        ("HeartbeatInterval", "300", False, False), ("NumberOfConnectors", "2", True, False)]
    assert api.get("/chargers/nope/configuration").status_code == 404


def test_reservations(api, charger, identity):
    expiry = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    sent = api.post(f"{_path(identity)}/commands", json={"action": "ReserveNow", "payload": {
        "connectorId": 1, "idTag": "RES-1", "expiryDate": expiry.isoformat()}})
    assert sent.status_code == 200, sent.text
    reservation_id = sent.json()["request"]["reservationId"]
    listed = api.get("/reservations", params={"charger": identity}).json()
    assert [r["id"] for r in listed["items"]] == [reservation_id]
    item = api.get(f"/reservations/{reservation_id}").json()
    assert (item["charger"], item["connector_id"], item["id_tag"], item["status"]) == (
        identity, 1, "RES-1", "Accepted")
    assert item["expiry_date"] == expiry.isoformat().replace("+00:00", "Z")
    assert api.get("/reservations/987654321").status_code == 404
    assert api.get(f"/reservations/{10**20}").status_code == 404


def test_data_transfers(api, charger, identity):
    charger.call(call.DataTransfer(vendor_id="com.acme", message_id="ping", data="hello"))
    api.post(f"{_path(identity)}/commands", json={"action": "DataTransfer",
                                                   "payload": {"vendorId": "com.acme"}})
    body = poll(lambda: api.get("/data-transfers", params={"charger": identity}).json(),
                lambda b: b["total"] >= 2)
    assert [t["direction"] for t in body["items"]] == ["out", "in"]
    incoming = body["items"][1]
    assert (incoming["vendor_id"], incoming["message_id"], incoming["data"]) == (
        "com.acme", "ping", "hello")
    assert body["items"][0]["response_data"] == "pong"
    assert api.get("/data-transfers", params={"charger": identity,
                                              "direction": "in"}).json()["total"] == 1


def test_firmware_upload_and_deployment(api, viewer, charger, identity):
    blob = b"\x7fFIRMWARE" + identity.encode() * 100
    denied = viewer.post("/firmware", files={"file": ("fw.bin", blob)})
    assert denied.status_code == 403
    uploaded = api.post("/firmware", files={"file": ("volt 1.2.bin", blob)},
                        data={"description": "1.2"})
    assert uploaded.status_code == 201, uploaded.text
    fw = uploaded.json()
    assert (fw["size"], fw["sha256"]) == (len(blob), hashlib.sha256(blob).hexdigest())
    assert fw["filename"] == "volt_1.2.bin"
    assert fw["id"] in [f["id"] for f in api.get("/firmware").json()["items"]]
    missing = api.post("/firmware", data={"description": "no file"})
    assert missing.status_code == 400 and "file" in missing.json()["message"]

    sent = api.post(f"{_path(identity)}/commands", json={
        "action": "UpdateFirmware", "payload": {"retrieveDate": "2030-01-01T00:00:00Z"},
        "firmware_file_id": fw["id"]})
    assert sent.status_code == 200, sent.text
    location = sent.json()["request"]["location"]
    download = requests.get(location, timeout=10)
    assert download.status_code == 200
    assert download.content == blob

    deployments = api.get("/firmware-deployments", params={"charger": identity}).json()
    assert deployments["total"] == 1
    deployment = deployments["items"][0]
    assert (deployment["charger"], deployment["firmware_file_id"], deployment["location"]) == (
        identity, fw["id"], location)
    assert deployment["retrieve_date"] == "2030-01-01T00:00:00Z"
    assert deployment["downloads"] == 1
    assert deployment["status"] == "accepted"

    charger.call(call.FirmwareStatusNotification(status="Downloaded"))
    deployment = poll(
        lambda: api.get("/firmware-deployments", params={"charger": identity}).json()["items"][0],
        lambda d: d["status_history"])
    assert [s["status"] for s in deployment["status_history"]] == ["Downloaded"]
    assert [f["id"] for f in api.get("/firmware", params={"charger": identity}).json()["items"]
            ] == [fw["id"]]


def test_diagnostics_upload_and_download(api, charger, identity):
    # Without a location the server hands the charger its own upload URL.
    sent = api.post(f"{_path(identity)}/commands", json={"action": "GetDiagnostics"})
    assert sent.status_code == 200, sent.text
    location = sent.json()["request"]["location"]
    blob = b"log line\n" * 50
    put = requests.put(location, data=blob, timeout=10)
    assert put.status_code == 201, put.text

    listed = api.get("/diagnostics", params={"charger": identity}).json()
    assert listed["total"] == 1
    diag = listed["items"][0]
    assert (diag["charger"], diag["file_name"], diag["location"]) == (identity, "diag.zip",
                                                                       location)
    assert diag["status"] == "Uploaded"
    assert len(diag["files"]) == 1
    assert diag["files"][0]["size"] == len(blob)
    download = api.get(f"/diagnostics/files/{diag['files'][0]['id']}")
    assert download.status_code == 200
    assert download.content == blob
    assert api.get("/diagnostics/files/987654321").status_code == 404
    assert Api(api.base[:-len("/api/v1")], None).get(
        f"/diagnostics/files/{diag['files'][0]['id']}").status_code == 401


def test_unknown_charger_filter_is_404(api):
    for path in ("/reservations", "/firmware-deployments", "/diagnostics", "/data-transfers"):
        response = api.get(path, params={"charger": "no-such-charger"})
        assert response.status_code == 404, path
        assert "no-such-charger" in response.json()["message"]
