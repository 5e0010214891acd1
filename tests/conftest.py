"""Fixtures: a live server (real gunicorn + gevent, real SQLite), API clients, chargers."""
from __future__ import annotations

import itertools
import os

import pytest
import requests

from tests.support.charger import SimCharger
from tests.support.redis_server import RedisServer
from tests.support.server import LiveServer

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def server():
    srv = LiveServer().start()
    yield srv
    srv.stop()


@pytest.fixture
def live_server_factory():
    """Start extra servers with their own settings: ``live_server_factory(OCPP_...="...")``."""
    started: list[LiveServer] = []

    def start(instance_dir: str | None = None, **env: str) -> LiveServer:
        srv = LiveServer(env=env, instance_dir=instance_dir).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()


class Api:
    """requests with the base URL and a bearer token."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base + "/api/v1"
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def __getattr__(self, method: str):
        def request(path: str, **kwargs):
            kwargs.setdefault("timeout", 60)
            return self.session.request(method.upper(), self.base + path, **kwargs)

        return request


@pytest.fixture(scope="session")
def admin_token(server) -> str:
    return server.create_user("admin-test", role="admin")


@pytest.fixture
def api(server, admin_token) -> Api:
    return Api(server.url, admin_token)


@pytest.fixture
def identity(request) -> str:
    """A charger identity no other test uses."""
    return f"T{os.getpid() % 1000}-{next(_ids)}-{request.node.name[:20]}"


@pytest.fixture
def charger(server, identity):
    """A connected, booted simulated charger."""
    cp = SimCharger(server.ws_url, identity).connect()
    cp.boot()
    yield cp
    cp.close()


@pytest.fixture(scope="session")
def postgres():
    from tests.support.postgres import PostgresServer

    pg = PostgresServer().start()
    yield pg
    pg.stop()


@pytest.fixture
def redis_server():
    """A real redis-server of its own (test.sh installs it); ``.stop()``/``.start()`` restart it."""
    srv = RedisServer().start()
    yield srv
    srv.close()


@pytest.fixture
def redis_url(redis_server):
    return redis_server.url
