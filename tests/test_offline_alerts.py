"""Offline detection end to end, without Redis: the web process runs the schedule itself. A
real charger goes silent, the alert appears in the API and the console, and clears once the
charger talks again."""
from __future__ import annotations

import re

import requests
from ocpp.v16 import call

from tests.api.helpers import wait_for
from tests.api.test_openapi_responses import _json_get_paths, _schema_errors
from tests.conftest import Api
from tests.support.charger import SimCharger

PASSWORD = "correct-horse-9"


def _wait(check, what: str, timeout: float = 40):
    return wait_for(check, what, timeout, 0.2)


def _console(srv, name: str) -> requests.Session:
    session = requests.Session()
    page = session.get(srv.url + "/console/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(srv.url + "/console/login", timeout=30, data={
        "name": name, "password": PASSWORD, "csrf_token": token, "next": "/console/"})
    assert response.ok
    return session


def test_a_silent_charger_raises_an_alert_that_clears_when_it_talks(live_server_factory):
    # The boot reply gives a heartbeat interval of 1 s; silence beyond 1 x 1 + 1 s is offline.
    srv = live_server_factory(OCPP_HEARTBEAT_INTERVAL="1", OFFLINE_FACTOR="1",
                              OFFLINE_GRACE_SECONDS="1",
                              SCHEDULE_INTERVALS="offline_detection=0.5")
    admin = srv.create_user("alerts-admin")
    api = Api(srv.url, admin)
    document = api.get("/openapi.json").json()
    schema = _json_get_paths(document)["/alerts"]
    with SimCharger(srv.ws_url, "SILENT-1") as cp:
        cp.boot()
        # It sends nothing more: a heartbeat is due every second.
        raised = _wait(lambda: api.get("/alerts", params={"charger": "SILENT-1",
                                                              "active": "true"}).json()["items"],
                           "no offline alert")
        [alert] = raised
        assert (alert["kind"], alert["active"], alert["cleared_at"]) == ("offline", True, None)
        assert "heartbeat interval 1 s" in alert["detail"]
        body = api.get("/alerts").json()
        assert _schema_errors(document, schema, body) == []
        page = _console(srv, "alerts-admin").get(srv.url + "/console/alerts", timeout=30).text
        assert "SILENT-1" in page and "offline" in page

        acknowledged = api.post(f"/alerts/{alert['id']}/acknowledge").json()
        assert (acknowledged["acknowledged_by"], acknowledged["active"]) == ("alerts-admin", True)

        def talks_and_is_cleared():
            cp.call(call.Heartbeat())  # back to a heartbeat a second, as it was told
            return [a for a in api.get("/alerts", params={"charger": "SILENT-1",
                                                          "active": "false"}).json()["items"]
                    if a["id"] == alert["id"]]

        cleared = _wait(talks_and_is_cleared, "the alert did not clear")
        assert cleared[0]["cleared_at"] is not None and not cleared[0]["active"]
    assert api.get("/alerts", params={"active": "maybe"}).status_code == 400
    assert api.get("/alerts", params={"charger": "nobody"}).status_code == 404
    assert api.post(f"/alerts/{2**63}/acknowledge").status_code == 404
    # No Redis: the jobs run in the web process and have no RQ status.
    reply = api.get("/jobs/some-id")
    assert reply.status_code == 503 and "REDIS_URL is not set" in reply.json()["message"]
    admin_page = _console(srv, "alerts-admin").get(srv.url + "/console/jobs", timeout=30)
    assert admin_page.status_code == 200 and "REDIS_URL is not set" in admin_page.text
    srv.create_user("alerts-viewer", role="viewer")
    viewer = _console(srv, "alerts-viewer")
    assert viewer.get(srv.url + "/console/jobs", timeout=30).status_code == 403
    assert viewer.get(srv.url + "/console/alerts", timeout=30).status_code == 200
    assert viewer.post(srv.url + f"/console/alerts/{alert['id']}/acknowledge",
                       timeout=30).status_code == 403
    assert Api(srv.url, srv.create_user("jobs-viewer", role="viewer")).get(
        "/jobs/some-id").status_code == 403
