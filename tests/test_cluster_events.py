"""Two hosts (two servers on different ports) sharing one database and one Redis: what a
charger does on one shows in the other's console, failed logins on one count on the other, and
a Redis restart mid-run heals by itself, without restarting either server. And two web workers
on one socket: every open console stream shows a charger's events."""
from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable

import pytest
import requests
from ocpp.v16 import call

from tests.console.test_access import _csrf, _login
from tests.support.charger import SimCharger
from tests.support.redis_server import RedisServer
from tests.support.server import LiveServer

PASSWORD = "correct-horse-9"


@pytest.fixture(scope="module")
def redis_node():
    srv = RedisServer().start()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def hosts(redis_node, tmp_path_factory):
    shared = tmp_path_factory.mktemp("shared")
    env = {"DATABASE_URL": f"sqlite:///{shared}/constellation.db", "REDIS_URL": redis_node.url,
           "LOGIN_CLIENT_IP_HEADER": "X-Real-IP"}
    started = []
    try:
        for name in ("a", "b"):
            started.append(LiveServer(env=env, instance_dir=str(tmp_path_factory.mktemp(name)))
                           .start())
        started[0].flask("users", "create", "watcher", "--password", PASSWORD,
                         "--role", "viewer")
        yield started
    finally:
        for srv in started:
            srv.stop()


class EventStream:
    """The console's live-event stream, read as the page's EventSource would, in a thread."""

    def __init__(self, srv: LiveServer, user: str) -> None:
        self.session, r = _login(srv.url, user, PASSWORD)
        assert r.status_code == 302
        self.response = self.session.get(srv.url + "/console/events", stream=True,
                                         timeout=(10, None))
        assert self.response.status_code == 200
        self.events: queue.Queue = queue.Queue()
        self.resyncs = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name = "message"
        try:
            for line in self.response.iter_lines(decode_unicode=True):
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    self.events.put((name, json.loads(line[len("data: "):])))
                elif not line:
                    name = "message"
        except (requests.RequestException, AttributeError, ValueError):
            pass  # closed by the test

    def shows(self, wanted: Callable[[dict], bool], wait: float,
              name: str = "message") -> dict | None:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == "resync":
                self.resyncs += 1
            if got == name and wanted(event):
                return event
        return None

    def close(self) -> None:
        self.response.close()


def _seen_on(stream: EventStream, cp: SimCharger, status: str, within: float = 60) -> dict:
    """Send StatusNotifications until the stream shows one: the first ones may go out before
    the other host has heard that someone watches (it hears within a second)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))
        event = stream.shows(lambda e: e["kind"] == "status" and e["charger"] == cp.identity
                             and e["status"] == status, wait=1.0)
        if event is not None:
            return event
    raise AssertionError(f"{status} of {cp.identity} never showed in the other host's console")


def test_a_chargers_events_on_host_a_show_in_host_b_console_and_survive_a_redis_restart(
        hosts, redis_node, identity):
    a, b = hosts
    stream = EventStream(b, "watcher")
    cp = SimCharger(a.ws_url, identity).connect()
    try:
        cp.boot()
        event = _seen_on(stream, cp, "Charging")
        assert event["connector_id"] == 1 and event["error_code"] == "NoError"

        redis_node.stop()
        # Without Redis the charger is still answered at once: publishing never blocks it.
        reply = cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                status="SuspendedEV"), timeout=10)
        assert reply is not None
        redis_node.start()  # empty: the watchers it knew are gone
        _seen_on(stream, cp, "Finishing")
        # The page was told that it may have missed events, so that it fetches them again.
        assert stream.resyncs >= 1
    finally:
        cp.close()
        stream.close()
    assert "unreachable" in b.log() and "reachable again" in b.log()


def _attempt(srv: LiveServer, name: str, password: str, address: str) -> requests.Response:
    s = requests.Session()
    token = _csrf(s.get(srv.url + "/console/login", timeout=30).text)
    return s.post(srv.url + "/console/login", headers={"X-Real-IP": address},
                  data={"csrf_token": token, "name": name, "password": password},
                  allow_redirects=False, timeout=60)


def test_failed_logins_on_host_a_count_on_host_b(hosts):
    a, b = hosts
    statuses = [_attempt(a, "watcher", "guess-guess", "192.0.2.66").status_code
                for _ in range(3)]
    assert statuses == [401, 401, 401]
    refused = _attempt(b, "watcher", PASSWORD, "192.0.2.66")
    assert refused.status_code == 429 and "Too many failed attempts" in refused.text
    # Elsewhere the user logs in on either host: nothing was counted against the name alone.
    assert _attempt(b, "watcher", PASSWORD, "192.0.2.10").status_code == 302
    assert _attempt(a, "watcher", PASSWORD, "192.0.2.11").status_code == 302


def test_every_console_stream_of_two_web_workers_shows_a_chargers_events(tmp_path, redis_url,
                                                                          identity):
    """Two gunicorn workers on one socket: whichever worker holds the charger and whichever
    holds each open page (the test does not choose), every page shows the charger's status."""
    srv = LiveServer(env={"WEB_WORKERS": "2", "REDIS_URL": redis_url},
                     instance_dir=str(tmp_path)).start()
    streams = []
    try:
        srv.flask("users", "create", "watcher", "--password", PASSWORD, "--role", "viewer")
        streams = [EventStream(srv, "watcher") for _ in range(4)]
        with SimCharger(srv.ws_url, identity) as cp:
            cp.boot()
            for n, stream in enumerate(streams):
                _seen_on(stream, cp, ["Preparing", "Charging", "SuspendedEV", "Finishing"][n])
    finally:
        for stream in streams:
            stream.close()
        srv.stop()
