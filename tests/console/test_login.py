"""Login hardening: unknown names cost a password check like real ones, guessing is throttled
per (address, name) and per address and capped while in flight, a stranger cannot slow a user
down, and a session cookie stops working after logout or a password change."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import PASSWORD
from .test_access import _csrf, _login


def test_unknown_and_disabled_names_cost_a_password_check(tmp_path, monkeypatch):
    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    from app import create_app
    from app.extensions import db
    from app.services import users

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/users.db"})
    with app.app_context():
        db.create_all()
        real = users.create_user("real-user", PASSWORD, "viewer")
        users.set_active(users.create_user("gone-user", PASSWORD, "viewer"), False)
        for name, password, expected in (("no-such-user", PASSWORD, None),
                                         ("gone-user", PASSWORD, None),
                                         ("real-user", "wrong-password", None),
                                         ("real-user", PASSWORD, real.id)):
            before = users.password_checks
            user = users.authenticate(name, password)
            assert users.password_checks == before + 1, name  # one scrypt check each
            assert (user.id if user else None) == expected


@pytest.fixture(params=["in-process", "redis"])
def make_throttle(request):
    """Throttles that share their counts: the same object in-process, or two on one Redis."""
    from app.console.throttle import LoginThrottle, RedisLoginThrottle

    if request.param == "in-process":
        shared = LoginThrottle()
        return lambda: shared
    redis_server = request.getfixturevalue("redis_server")
    return lambda: RedisLoginThrottle(redis_server.url)


def _keys(address: str, name: str = "victim") -> dict[str, str]:
    return {"pair": f"p:{address}:{name}", "address": f"a:{address}", "name": f"n:{name}"}


def test_in_flight_attempts_are_capped_per_name_without_one_address_holding_them(make_throttle):
    from app.console.throttle import MAX_IN_FLIGHT

    throttle, elsewhere = make_throttle(), make_throttle()
    assert throttle.enter(_keys("192.0.2.1"))
    assert not elsewhere.enter(_keys("192.0.2.1"))  # one check at a time per address and name
    held = [_keys(f"198.51.100.{n}") for n in range(MAX_IN_FLIGHT["name"] - 1)]
    assert all(throttle.enter(k) for k in held)
    assert not elsewhere.enter(_keys("203.0.113.9"))  # the name's cap
    throttle.leave(held[0])
    assert elsewhere.enter(_keys("203.0.113.9"))


def test_failures_counted_by_one_throttle_hold_for_the_other(make_throttle):
    from app.console.throttle import FREE_ATTEMPTS

    here, there = make_throttle(), make_throttle()
    for _ in range(FREE_ATTEMPTS - 1):
        here.record(_keys("192.0.2.5"), failed=True)
    assert there.retry_after(_keys("192.0.2.5")) == 0
    here.record(_keys("192.0.2.5"), failed=True)
    assert 0.5 < there.retry_after(_keys("192.0.2.5")) <= 1.0  # 2 ** 0 s after the last one
    assert there.retry_after(_keys("192.0.2.6")) == 0  # another address
    there.record(_keys("192.0.2.5"), failed=False)  # success clears the name's count there
    assert here.retry_after(_keys("192.0.2.5")) == 0


def test_the_redis_throttle_counts_in_this_process_while_redis_is_away():
    from app.console.throttle import FREE_ATTEMPTS, RedisLoginThrottle
    from tests.support.server import free_port

    throttle = RedisLoginThrottle(f"redis://127.0.0.1:{free_port()}/0")
    assert throttle.enter(_keys("192.0.2.7"))
    assert not throttle.enter(_keys("192.0.2.7"))
    throttle.leave(_keys("192.0.2.7"))
    for _ in range(FREE_ATTEMPTS):
        throttle.record(_keys("192.0.2.7"), failed=True)
    assert throttle.retry_after(_keys("192.0.2.7")) > 0


def _attempt(srv, name: str, password: str, address: str) -> requests.Response:
    s = requests.Session()
    token = _csrf(s.get(srv.url + "/console/login", timeout=30).text)
    return s.post(srv.url + "/console/login", headers={"X-Real-IP": address},
                  data={"csrf_token": token, "name": name, "password": password},
                  allow_redirects=False, timeout=60)


@pytest.fixture
def throttled(live_server_factory):
    srv = live_server_factory(LOGIN_CLIENT_IP_HEADER="X-Real-IP")
    srv.flask("users", "create", "victim", "--password", PASSWORD, "--role", "viewer")
    return srv


def test_a_stranger_cannot_slow_a_user_down(throttled):
    statuses = [_attempt(throttled, "victim", "guess-guess", "192.0.2.66").status_code
                for _ in range(5)]
    # Three free failures, then refused without a check until the delay has passed.
    assert statuses == [401, 401, 401, 429, 429]
    refused = _attempt(throttled, "victim", PASSWORD, "192.0.2.66")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed attempts" in refused.text
    # The user, elsewhere, logs in at once: nothing was counted against the name alone.
    assert _attempt(throttled, "victim", PASSWORD, "192.0.2.10").status_code == 302
    # Guessing other names from the stranger's address adds up there, not for anyone else.
    for n in range(10):
        _attempt(throttled, f"other-{n}", "guess-guess", "192.0.2.77")
    assert _attempt(throttled, "victim", PASSWORD, "192.0.2.77").status_code == 429
    assert _attempt(throttled, "victim", PASSWORD, "192.0.2.11").status_code == 302


def test_parallel_guesses_get_no_more_checks(throttled):
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(
            lambda n: _attempt(throttled, "victim", f"guess-{n}", "192.0.2.99").status_code,
            range(8)))
    # At most the free failures were checked; the rest were refused while one was in flight
    # or during the delay the failures earned.
    assert 1 <= statuses.count(401) <= 3, statuses  # checked, but not all eight
    assert statuses.count(429) == 8 - statuses.count(401), statuses


def _logout(srv, session: requests.Session) -> None:
    token = _csrf(session.get(srv.url + "/console/", timeout=30).text)
    r = session.post(srv.url + "/console/logout", data={"csrf_token": token},
                     allow_redirects=False, timeout=30)
    assert r.status_code == 302


def _replay(srv, cookies) -> requests.Response:
    replay = requests.Session()
    replay.cookies.update(cookies)
    return replay.get(srv.url + "/console/", allow_redirects=False, timeout=30)


def test_a_session_cookie_is_revoked_by_logout_and_password_change(server):
    server.flask("users", "create", "replay-user", "--password", PASSWORD, "--role", "viewer")
    session, r = _login(server.url, "replay-user")
    assert r.status_code == 302
    copied = requests.utils.dict_from_cookiejar(session.cookies)
    assert _replay(server, copied).status_code == 200
    _logout(server, session)
    again = _replay(server, copied)
    assert again.status_code == 302 and "/console/login" in again.headers["Location"]

    session, r = _login(server.url, "replay-user")
    copied = requests.utils.dict_from_cookiejar(session.cookies)
    assert _replay(server, copied).status_code == 200
    out = server.flask("users", "password", "replay-user", "--password", "new-password-1")
    assert "console sessions have ended" in out.stdout
    assert _replay(server, copied).status_code == 302
    assert _login(server.url, "replay-user")[1].status_code == 401
    assert _login(server.url, "replay-user", password="new-password-1")[1].status_code == 302
    short = server.flask("users", "password", "replay-user", "--password", "short", check=False)
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
    assert re.search(r"replay-user\tviewer\tactive", server.flask("users", "list").stdout)
