"""HTTP edges of the console over plain HTTP: out-of-range numbers in URLs are 4xx with a
message (not 500), every page and error page carries the security headers, and CSV exports
neutralise cells a spreadsheet would run as formulas."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest
import requests
from ocpp.v16 import call

from .test_access import _csrf, _login


@pytest.fixture(scope="module")
def operator(server, console_users) -> requests.Session:
    session, response = _login(server.url, console_users["operator"])
    assert response.status_code == 302
    return session


def test_page_numbers_are_bounded(server, operator):
    for path in ("/console/", "/console/transactions", "/console/commands",
                 "/console/fragments/charger-rows"):
        for page in (10**17, 10**20, "x", 0):
            response = operator.get(server.url + path, params={"page": page}, timeout=30)
            assert response.status_code == 400, (path, page)
            assert "page must be" in response.text
        assert operator.get(server.url + path, params={"page": 2}, timeout=30).status_code == 200


def test_ids_beyond_int64_are_404(server, operator):
    for path in (f"/console/transactions/{2**63}", f"/console/diagnostics/files/{10**20}",
                 f"/console/transactions/{2**63 - 1}"):
        assert operator.get(server.url + path, timeout=30).status_code == 404, path


def test_message_bounds_and_the_last_day(server, operator, charger, identity):
    base = f"{server.url}/console/chargers/{quote(identity, safe='')}/messages"
    response = operator.get(base, params={"before": 10**20}, timeout=30)
    assert response.status_code == 400 and "before must be at most" in response.text
    assert operator.get(base, params={"before": 2**63 - 1}, timeout=30).status_code == 200
    # The whole last day there is: no end to bound, not an overflow.
    response = operator.get(server.url + "/console/transactions",
                            params={"until": "9999-12-31", "since": "0001-01-01"}, timeout=30)
    assert response.status_code == 200
    response = operator.get(server.url + "/console/transactions.csv",
                            params={"until": "9999-12-31"}, timeout=30)
    assert response.status_code == 200


def test_security_headers_on_console_pages_and_errors(server, operator):
    for response in (operator.get(server.url + "/console/", timeout=30),
                     operator.get(server.url + "/console/no-such-page", timeout=30),
                     requests.get(server.url + "/console/login", timeout=30),
                     requests.get(server.url + "/no-such-page", timeout=30)):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.url
        assert "unsafe-inline" not in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert operator.get(server.url + "/console/no-such-page", timeout=30).status_code == 404


FORMULA = '=HYPERLINK("x")'


def test_csv_exports_neutralise_formulas(server, operator, api, charger, identity):
    for tag in (FORMULA, "@SUM(1)", "+1", "-1"):
        charger.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=-5,
                                           timestamp="2026-11-28T10:00:00Z"))
    tx = operator.get(server.url + "/console/transactions.csv", params={"charger": identity},
                      timeout=30)
    assert tx.status_code == 200
    rows = list(csv.DictReader(io.StringIO(tx.text)))
    assert sorted(r["id_tag"] for r in rows) == ["'+1", "'-1", "'=HYPERLINK(\"x\")", "'@SUM(1)"]
    assert {r["meter_start"] for r in rows} == {"-5"}  # a number stays a number
    assert {r["charger"] for r in rows} == {identity}

    tag = "=" + identity[-18:]
    assert api.post("/tokens", json={"id_tag": tag, "note": "\tnote"}).status_code == 201
    tokens = operator.get(server.url + "/console/tokens.csv", timeout=30)
    row = next(r for r in csv.DictReader(io.StringIO(tokens.text)) if r["id_tag"] == "'" + tag)
    assert row["note"] == "'\tnote" and row["status"] == "Accepted"


def test_form_ids_beyond_int64_are_refused_with_a_message(server, operator):
    token = _csrf(operator.get(server.url + "/console/firmware", timeout=30).text)
    response = operator.post(server.url + "/console/firmware/deploy",
                             data={"csrf_token": token, "firmware_file_id": str(10**20),
                                   "chargers": "nobody"}, timeout=30)
    assert response.status_code == 200  # back on the firmware page
    assert "Choose a firmware file to deploy." in response.text


def test_a_download_is_not_a_page_whatever_its_name(server, operator, api, charger, identity):
    sent = api.post(f"/chargers/{quote(identity, safe='')}/commands",
                    json={"action": "GetDiagnostics"})
    location = sent.json()["request"]["location"]
    put = requests.put(location + "/report.html", data=b"<script>alert(1)</script>",
                       timeout=30)
    assert put.status_code == 201, put.text
    download = operator.get(f"{server.url}/console/diagnostics/files/{put.json()['id']}",
                            timeout=30)
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_the_charger_page_names_the_evse_of_a_2x_connector(server, operator, identity):
    from tests.support.charger import SimCharger

    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        cp.boot()
        cp.call(cp.ocpp.call.StatusNotification(
            timestamp="2026-12-03T10:00:00Z", connector_status="Occupied", evse_id=2,
            connector_id=1))
        page = operator.get(f"{server.url}/console/chargers/{quote(identity, safe='')}",
                            timeout=30)
    assert page.status_code == 200
    assert 'data-evse="2"' in page.text and "EVSE 2 · #1" in page.text
