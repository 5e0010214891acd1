"""The RFID reader with its simulated backend, end to end: a real server with Redis, the
reader service (``flask rfid run --simulated``) and a simulated charger. A card scanned with
``flask rfid scan`` starts a session on the node's charger and the same card stops it; an
unknown card waits for approval in the API and the console; blocked and expired cards are
refused; every scan is in ``GET /api/v1/rfid/scans``."""
from __future__ import annotations

import re
import subprocess

import pytest
import requests
from jsonschema import Draft202012Validator
from ocpp.v16 import call

from app.hardware.rfid import Debouncer, ReaderUnavailable, normalise, service_status
from tests.api.helpers import poll
from tests.conftest import Api
from tests.support.charger import SimCharger
from tests.support.server import ROOT, VENV_BIN, LiveServer, query

PASSWORD = "correct-horse-9"
CHARGER = "CP-RFID"


def test_uids_are_normalised_to_upper_case_hex_of_4_7_or_10_bytes():
    assert normalise("04:a2:b3:c4") == "04A2B3C4"
    assert normalise(" 04-a2-b3-c4-d5-e6-f7 ") == "04A2B3C4D5E6F7"
    assert normalise("0x0102030405060708090a") == "0102030405060708090A"
    for bad in ("04A2B3", "04A2B3C4D5", "ZZZZZZZZ", "", "04A2B3C"):
        with pytest.raises(ValueError, match="no card UID"):
            normalise(bad)


def test_a_card_held_on_the_reader_is_one_scan():
    now = [0.0]
    debounce = Debouncer(2.0, clock=lambda: now[0])
    assert debounce.fresh("04A2B3C4")
    for _ in range(5):  # read again and again while it lies there
        now[0] += 0.5
        assert not debounce.fresh("04A2B3C4")
    assert debounce.fresh("04FFFFFF")  # another card at once
    now[0] += 2.5  # taken away, presented again
    assert debounce.fresh("04A2B3C4")


def test_scan_without_a_reader_service_says_so(tmp_path):
    srv = LiveServer(instance_dir=str(tmp_path))
    srv.flask("db", "upgrade")
    result = srv.flask("rfid", "scan", "04A2B3C4", check=False)
    assert result.returncode != 0 and "no RFID reader service answers" in result.stderr
    result = srv.flask("rfid", "scan", "not-a-card", check=False)
    assert result.returncode != 0 and "no card UID" in result.stderr
    result = srv.flask("rfid", "run", check=False)
    assert result.returncode != 0 and "--simulated" in result.stderr


@pytest.fixture
def node(live_server_factory, redis_url, tmp_path):
    """A Control node: server, Redis, the reader service, and its charger connected."""
    srv = live_server_factory(instance_dir=str(tmp_path), REDIS_URL=redis_url,
                              NODE_ROLE="control", RFID_CHARGER=CHARGER, RFID_CONNECTOR="1",
                              RFID_DEBOUNCE_SECONDS="0")
    reader = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "rfid", "run",
                               "--simulated"], cwd=ROOT, env=srv.env,
                              stdout=open(tmp_path / "rfid.log", "ab"), stderr=subprocess.STDOUT)
    socket_path = str(tmp_path / "rfid.sock")

    def answers():
        try:
            return service_status(socket_path)
        except ReaderUnavailable:
            return None

    try:
        status = poll(answers, lambda s: s is not None, timeout=30)
        assert status and status["backend"] == "simulated", (tmp_path / "rfid.log").read_text()
        srv.admin = Api(srv.url, srv.create_user("rfid-admin", role="admin"))
        with SimCharger(srv.ws_url, CHARGER) as cp:
            cp.boot()
            yield srv, cp
    finally:
        reader.terminate()
        reader.wait(15)


def _scan(srv: LiveServer, uid: str) -> dict:
    """Present ``uid`` and wait for its scan to be recorded; the newest scan."""
    before = srv.admin.get("/rfid/scans").json()["total"]
    assert srv.flask("rfid", "scan", uid).stdout.startswith("sent ")
    scans = poll(lambda: srv.admin.get("/rfid/scans").json(),
                 lambda page: page["total"] > before, timeout=30)
    assert scans["total"] == before + 1
    return scans["items"][0]


def test_a_card_starts_and_stops_a_session_on_the_nodes_charger(node):
    srv, cp = node
    api = srv.admin
    assert api.post("/tokens", json={"id_tag": "04A2B3C4"}).status_code == 201
    assert api.post("/tokens", json={"id_tag": "04BBBBBB", "status": "Blocked"}).ok
    assert api.post("/tokens", json={"id_tag": "04EEEEEE",
                                     "expiry_date": "2020-01-01T00:00:00Z"}).ok

    started = _scan(srv, "04:a2:b3:c4")
    assert started["uid"] == "04A2B3C4" and started["result"] == "started", started
    assert started["charger"] == CHARGER and started["connector_id"] == 1
    remote = [kw for action, kw in cp.received if action == "RemoteStartTransaction"]
    assert remote == [{"id_tag": "04A2B3C4", "connector_id": 1}]
    command = api.get(f"/commands/{started['command_id']}").json()
    assert command["source"] == "rfid" and command["status"] == "completed"

    # The charger starts the session the card asked for; the same card then stops it.
    tx = cp.call(call.StartTransaction(connector_id=1, id_tag="04A2B3C4", meter_start=0,
                                       timestamp="2030-01-01T00:00:00Z"))
    stopped = _scan(srv, "04a2b3c4")
    assert stopped["result"] == "stopped", stopped
    csms_tx = api.get("/transactions", params={"charger": CHARGER}).json()["items"][0]
    assert stopped["transaction_id"] == csms_tx["id"]
    remote_stop = [kw for action, kw in cp.received if action == "RemoteStopTransaction"]
    assert remote_stop == [{"transaction_id": tx.transaction_id}]

    blocked = _scan(srv, "04BBBBBB")
    assert blocked["result"] == "refused" and "blocked" in blocked["detail"]
    expired = _scan(srv, "04EEEEEE")
    assert expired["result"] == "refused" and "expired" in expired["detail"]
    # Refused cards sent nothing to the charger.
    assert len([a for a, _ in cp.received if a.startswith("Remote")]) == 2

    document = requests.get(srv.url + "/api/v1/openapi.json", timeout=10).json()
    schema = {"$ref": "#/components/schemas/RfidScanPage",
              "components": document["components"]}
    page = api.get("/rfid/scans").json()
    assert [e.message for e in Draft202012Validator(schema).iter_errors(page)] == []
    assert [s["result"] for s in page["items"]] == ["refused", "refused", "stopped", "started"]
    assert api.get("/rfid/scans", params={"result": "nope"}).status_code == 400
    assert api.get("/rfid/scans", params={"uid": "04bbbbbb"}).json()["total"] == 1

    # The node page's health check reaches the reader service.
    rfid = {f["name"]: f for f in api.get("/node").json()["features"]}["rfid"]
    assert rfid["healthy"] and "(simulated) answers" in rfid["detail"]

    # Switched off by an admin, the reader records scans and acts on none.
    assert api.put("/node/features/rfid", json={"enabled": False}).ok
    off = _scan(srv, "04A2B3C4")
    assert off["result"] == "ignored" and "rfid feature is off" in off["detail"]
    assert len([a for a, _ in cp.received if a.startswith("Remote")]) == 2


def test_an_unknown_card_waits_for_approval_in_the_console(node):
    srv, cp = node
    pending = _scan(srv, "04776655443322")
    assert pending["result"] == "pending" and "approval" in pending["detail"]
    assert not [a for a, _ in cp.received if a.startswith("Remote")]
    assert srv.admin.get("/rfid/scans", params={"result": "pending"}).json()["total"] == 1

    srv.create_user("rfid-operator", role="operator")
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      session.get(srv.url + "/console/login", timeout=30).text).group(1)
    session.post(srv.url + "/console/login", data={"csrf_token": token, "name": "rfid-operator",
                                                    "password": PASSWORD, "next": ""},
                 timeout=60)
    page = session.get(srv.url + "/console/node", timeout=30).text
    row = re.search(r'<tr data-card="04776655443322">.*?</tr>', page, re.S).group(0)
    assert "Approve" in row and "Reject" in row
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = session.post(srv.url + "/console/node/cards/04776655443322",
                         data={"csrf_token": token, "decision": "approve"}, timeout=30)
    assert "Card 04776655443322 approved." in reply.text
    assert 'data-card="04776655443322"' not in reply.text
    card = srv.admin.get("/tokens/04776655443322").json()
    assert card["status"] == "Accepted" and "approved" in card["note"]
    # Approved, the card now starts a session.
    assert _scan(srv, "04776655443322")["result"] == "started"
    # A rejected card is blocked: refused from then on.
    assert _scan(srv, "04DDDDDD")["result"] == "pending"
    page = session.get(srv.url + "/console/node", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = session.post(srv.url + "/console/node/cards/04DDDDDD",
                         data={"csrf_token": token, "decision": "reject"}, timeout=30)
    assert "Card 04DDDDDD rejected." in reply.text
    assert srv.admin.get("/tokens/04DDDDDD").json()["status"] == "Blocked"
    assert _scan(srv, "04DDDDDD")["result"] == "refused"


def test_the_simulated_reader_takes_uids_from_a_file(tmp_path):
    """Without a charger configured (a Satellite) scans are recorded and start nothing; a line
    that is no UID is skipped; an unknown card is accepted with RFID_UNKNOWN_CARDS=accept."""
    srv = LiveServer(env={"RFID_UNKNOWN_CARDS": "accept", "NODE_ROLE": "satellite"},
                     instance_dir=str(tmp_path))
    srv.flask("db", "upgrade")
    uids = tmp_path / "uids.txt"
    uids.write_text("# cards\n04a2b3c4\nnot a card\n04:11:22:33:44:55:66\n")
    reader = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "rfid", "run",
                               "--simulated", "--file", str(uids)], cwd=ROOT, env=srv.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rows = poll(lambda: query(srv, "SELECT uid, result, detail FROM rfid_scans ORDER BY id"),
                    lambda r: len(r) >= 2, timeout=30)
    finally:
        reader.terminate()
        reader.wait(15)
    assert [(uid, result) for uid, result, _ in rows] == [("04A2B3C4", "ignored"),
                                                          ("04112233445566", "ignored")]
    assert "RFID_CHARGER is not set" in rows[0][2]
    tokens = query(srv, "SELECT id_tag, status FROM id_tokens ORDER BY id")
    assert tokens == [("04A2B3C4", "Accepted"), ("04112233445566", "Accepted")]
