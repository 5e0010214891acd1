"""Access rules checked over plain HTTP (no browser needed): login required, CSRF on every form,
cookie flags, throttled failed logins, the optional public status page."""
from __future__ import annotations

import re
import time

import requests
from ocpp.v16 import call

from tests.support.charger import SimCharger

from .conftest import PASSWORD


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _login(base: str, name: str, password: str = PASSWORD,
           next_: str = "") -> tuple[requests.Session, requests.Response]:
    s = requests.Session()
    token = _csrf(s.get(base + "/console/login", timeout=30).text)
    for cookie in s.cookies:
        cookie.secure = False  # a server with SESSION_COOKIE_SECURE over plain http in tests
    r = s.post(base + "/console/login", data={"csrf_token": token, "name": name,
                                              "password": password, "next": next_},
               allow_redirects=False, timeout=60)
    return s, r


def test_pages_need_a_login(server):
    r = requests.get(server.url + "/console/tokens", allow_redirects=False, timeout=30)
    assert r.status_code == 302
    assert "/console/login?next=/console/tokens" in r.headers["Location"]
    r = requests.post(server.url + "/console/tokens", data={"id_tag": "X"},
                      allow_redirects=False, timeout=30)
    assert r.status_code == 401
    # A page's script gets a 401 rather than the login form to paste into the page.
    r = requests.get(server.url + "/console/fragments/summary",
                     headers={"X-Requested-With": "fetch"}, allow_redirects=False, timeout=30)
    assert r.status_code == 401
    r = requests.get(server.url + "/console/events", allow_redirects=False, timeout=30)
    assert r.status_code == 401


def test_every_form_needs_the_csrf_token(server, console_users):
    s = requests.Session()
    s.get(server.url + "/console/login", timeout=30)
    r = s.post(server.url + "/console/login", data={"name": console_users["operator"],
                                                    "password": PASSWORD}, timeout=30)
    assert r.status_code == 400 and "Form expired" in r.text
    s, r = _login(server.url, console_users["operator"])
    assert r.status_code == 302
    r = s.post(server.url + "/console/chargers/nobody/configuration/fetch", timeout=30)
    assert r.status_code == 400 and "Form expired" in r.text


def test_session_cookie_flags_and_safe_redirects(server, console_users):
    s, r = _login(server.url, console_users["viewer"], next_="//evil.example/x")
    assert r.status_code == 302
    assert r.headers["Location"] == "/console/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = s.get(server.url + "/console/", timeout=30)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_public_status_page_is_off_by_default(server, charger):
    r = requests.get(f"{server.url}/status/{charger.identity}", timeout=30)
    assert r.status_code == 404


def test_failed_logins_slow_down_and_public_pages_can_be_enabled(live_server_factory):
    srv = live_server_factory(PUBLIC_STATUS_PAGES="true", SESSION_COOKIE_SECURE="true",
                              LOGIN_CLIENT_IP_HEADER="X-Real-IP")
    srv.flask("users", "create", "op", "--password", PASSWORD, "--role", "operator")
    responses = [_login(srv.url, "op", password="wrong-password")[1] for _ in range(4)]
    # Three free attempts, then refused (unchecked) until the delay has passed.
    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert "Wrong user name or password" in responses[0].text
    assert "Too many failed attempts" in responses[3].text
    time.sleep(int(responses[3].headers["Retry-After"]))  # the wait the server asks for
    _, r = _login(srv.url, "op")
    assert r.status_code == 302
    assert "Secure" in r.headers["Set-Cookie"]
    # Behind the local proxy, a user at another address is not slowed by these failures.
    s = requests.Session()
    token = _csrf(s.get(srv.url + "/console/login", timeout=30).text)
    for cookie in s.cookies:
        cookie.secure = False
    r = s.post(srv.url + "/console/login", headers={"X-Real-IP": "192.0.2.7"},
               data={"csrf_token": token, "name": "op", "password": "x" * 8},
               allow_redirects=False, timeout=60)
    assert r.status_code == 401

    with SimCharger(srv.ws_url, "PUBLIC-1") as cp:
        cp.boot()
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        cp.call(call.StatusNotification(connector_id=2, error_code="NoError",
                                        status="Available"))
        cp.call(call.StartTransaction(connector_id=1, id_tag="SECRET-TAG", meter_start=0,
                                      timestamp="2026-11-28T10:00:00Z"))
        page = requests.get(srv.url + "/status/PUBLIC-1", timeout=30)
    assert page.status_code == 200
    assert "Connector 1: <strong>In use</strong>" in page.text
    assert "Connector 2: <strong>Available</strong>" in page.text
    assert "SECRET-TAG" not in page.text and "Acme" not in page.text
