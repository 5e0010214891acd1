"""The LCD with its simulated display: the service (``flask lcd run --simulated``) shows the
running session's power and energy on the node's charger, and says when a card is refused;
``GET /api/v1/node`` and the node page show the frame."""
from __future__ import annotations

import re
import subprocess

from ocpp.v16 import call

from app.hardware.lcd import COLS, frames, pages
from tests.api.helpers import poll
from tests.conftest import Api
from tests.support.charger import SimCharger
from tests.support.server import ROOT, VENV_BIN
from tests.test_node import _login


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

CHARGER = "CP-LCD"


def test_text_longer_than_the_display_is_paged():
    assert pages("Refused: card is blocked") == ["Refused: card is", "blocked"]
    assert pages("0123456789ABCDEFGHIJ") == ["0123456789ABCDEF", "GHIJ"]
    screen = frames("Card 04BBBBBB", "Refused: card is blocked (lost)")
    assert screen == [("Card 04BBBBBB", "Refused: card is"), ("Card 04BBBBBB", "blocked (lost)")]
    assert all(len(line) <= COLS for frame in screen for line in frame)


def test_the_real_display_needs_its_bus(tmp_path):
    from tests.support.server import LiveServer

    srv = LiveServer(instance_dir=str(tmp_path))
    srv.flask("db", "upgrade")
    result = srv.flask("lcd", "run", check=False)  # no smbus2 / no I2C bus on this machine
    assert result.returncode != 0
    assert "smbus2" in result.stderr or "no display answers" in result.stderr
    bad = LiveServer(env={"LCD_I2C_ADDRESS": "0x99"}, instance_dir=str(tmp_path))
    result = bad.flask("lcd", "run", check=False)
    assert result.returncode != 0 and "LCD_I2C_ADDRESS must be a 7-bit" in result.stderr


def _service(srv, tmp_path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                            env=srv.env, stdout=open(tmp_path / f"{args[0]}.log", "ab"),
                            stderr=subprocess.STDOUT)


def test_the_display_shows_the_sessions_power_and_a_refused_card(live_server_factory,
                                                                  tmp_path):
    srv = live_server_factory(instance_dir=str(tmp_path), NODE_ROLE="control",
                              RFID_CHARGER=CHARGER, LCD_PAGE_SECONDS="0.2")
    api = Api(srv.url, srv.create_user("lcd-admin", role="admin"))
    assert api.post("/tokens", json={"id_tag": "04BBBBBB", "status": "Blocked"}).ok
    lcd = _service(srv, tmp_path, "lcd", "run", "--simulated")
    try:
        with SimCharger(srv.ws_url, CHARGER) as cp:
            cp.boot()
            tx = cp.call(call.StartTransaction(connector_id=1, id_tag="04A2B3C4",
                                               meter_start=0,
                                               timestamp="2030-01-01T00:00:00Z"))
            cp.call(call.MeterValues(connector_id=1, transaction_id=tx.transaction_id,
                                     meter_value=[{"timestamp": "2030-01-01T00:10:00Z",
                                                   "sampled_value": [
                {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "1500", "measurand": "Energy.Active.Import.Register",
                 "unit": "Wh"}]}]))

            def display():
                return (api.get("/node").json()["display"] or {}).get("lines")

            assert poll(display, lambda lines: lines == [f"{CHARGER} charging",
                                                         "7.4 kW 1.50 kWh"],
                        timeout=30) == [f"{CHARGER} charging", "7.4 kW 1.50 kWh"]
            lcd_health = {f["name"]: f for f in api.get("/node").json()["features"]}["lcd"]
            assert lcd_health["working"] and "simulated" in lcd_health["detail"]

            uids = tmp_path / "uids.txt"
            uids.write_text("04BBBBBB\n")
            rfid = _service(srv, tmp_path, "rfid", "run", "--simulated", "--file", str(uids))
            try:
                assert poll(display, lambda lines: lines == ["Card 04BBBBBB",
                                                             "Refused: card is"],
                            timeout=30) == ["Card 04BBBBBB", "Refused: card is"]
            finally:
                rfid.terminate()
                rfid.wait(15)
        srv.create_user("lcd-viewer", role="viewer")
        page = _login(srv.url, "lcd-viewer").get(srv.url + "/console/node", timeout=30).text
        assert 'id="lcd-preview"' in page and "<pre" in page
        assert 'id="lcd-message-form"' not in page  # viewers send nothing

        # An operator's message comes first on the display, paged, until withdrawn.
        srv.create_user("lcd-operator", role="operator")
        operator = _login(srv.url, "lcd-operator")
        token = _csrf(operator.get(srv.url + "/console/node", timeout=30).text)
        refused = operator.post(srv.url + "/console/node/messages", timeout=30, data={
            "csrf_token": token, "text": "x", "minutes": "0"})
        assert "shown for 1 to" in refused.text
        sent = operator.post(srv.url + "/console/node/messages", timeout=30, data={
            "csrf_token": token, "text": "Use the cable on the left", "minutes": "30"})
        assert "Message sent to the display." in sent.text
        assert poll(display, lambda lines: lines == ["Message", "Use the cable on"],
                    timeout=30) == ["Message", "Use the cable on"]
        message_id = re.search(r'data-message="(\d+)"', sent.text).group(1)
        withdrawn = operator.post(srv.url + f"/console/node/messages/{message_id}/withdraw",
                                  data={"csrf_token": token}, timeout=30)
        assert "Message withdrawn." in withdrawn.text and "data-message=" not in withdrawn.text
        # Switched off by an admin, the display goes blank.
        assert api.put("/node/features/lcd", json={"enabled": False}).ok
        assert poll(display, lambda lines: lines == ["", ""], timeout=30) == ["", ""]
    finally:
        lcd.terminate()
        lcd.wait(15)
