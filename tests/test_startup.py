"""A wrong setting or an unreachable database or Redis is one clear line and a non-zero exit,
from the Flask CLI (start.sh runs ``flask db upgrade``), gunicorn and the worker command."""
from __future__ import annotations

import subprocess

import pytest

from tests.support.server import ROOT, VENV_BIN, LiveServer, free_port


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize(("url", "says"), [
    ("not a url", "DATABASE_URL is not a database URL"),
    ("mysql://u:hunter2@127.0.0.1/db", "runs on SQLite or PostgreSQL"),
    ("postgresql+pg8000://u:hunter2@127.0.0.1/db", "not installed"),
    ("postgresql+psycopg://u:hunter2@127.0.0.1:{port}/db", "Connection refused"),
    ("sqlite:////nonexistent-dir/x.db", "unable to open database file"),
])
def test_a_bad_database_url_is_one_line(tmp_path, url, says):
    srv = LiveServer(env={"DATABASE_URL": url.format(port=free_port())},
                     instance_dir=str(tmp_path))
    done = srv.flask("db", "upgrade", check=False)
    assert done.returncode == 4  # what docs/configuration.md promises
    assert _lines(done.stderr) == [_lines(done.stderr)[0]], done.stderr
    assert done.stderr.startswith("constellation: error: ") and says in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_gunicorn_stops_with_one_line_when_the_database_is_unreachable(tmp_path):
    env = LiveServer(env={"DATABASE_URL": "sqlite:////nonexistent-dir/x.db"},
                     instance_dir=str(tmp_path)).env
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
                           f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    ours = [line for line in _lines(done.stderr) if "gunicorn" not in line.lower()
            and not line.startswith("[")]
    assert ours == ["constellation: error: cannot use the database "
                    "sqlite:////nonexistent-dir/x.db (DATABASE_URL): unable to open database file"]
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("worker", "--burst"), ("jobs", "ping")])
def test_redis_down_is_one_line(tmp_path, command):
    srv = LiveServer(env={"REDIS_URL": f"redis://:hunter2@127.0.0.1:{free_port()}/0"},
                     instance_dir=str(tmp_path))
    done = srv.flask(*command, check=False)
    assert done.returncode == 1
    assert _lines(done.stderr) == [_lines(done.stderr)[0]], done.stderr
    assert "cannot reach Redis at redis://127.0.0.1:" in done.stderr
    assert "hunter2" not in done.stderr


def test_several_web_workers_without_redis_is_one_clear_line(tmp_path):
    env = LiveServer(env={"WEB_WORKERS": "2", "REDIS_URL": ""}, instance_dir=str(tmp_path)).env
    done = subprocess.run([str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
                           f"127.0.0.1:{free_port()}", "wsgi:app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 4
    assert "WEB_WORKERS=2 needs REDIS_URL" in done.stderr


def test_two_web_workers_share_the_chargers_through_redis(tmp_path, redis_url):
    """Two gunicorn workers on one socket: a command through the API reaches a charger
    whichever worker holds it (the test does not choose)."""
    from tests.conftest import Api
    from tests.support.charger import SimCharger

    srv = LiveServer(env={"WEB_WORKERS": "2", "REDIS_URL": redis_url},
                     instance_dir=str(tmp_path)).start()
    try:
        api = Api(srv.url, srv.create_user("two-workers"))
        chargers = [SimCharger(srv.ws_url, f"W2-{n}").connect() for n in range(6)]
        try:
            for cp in chargers:
                cp.boot()
            for cp in chargers:
                for _ in range(2):  # the API request lands on either worker
                    reply = api.post(f"/chargers/{cp.identity}/commands",
                                     json={"action": "ClearCache"})
                    assert reply.status_code == 200, reply.text
                    assert reply.json()["status"] == "completed", reply.text
            assert all(api.get(f"/chargers/{cp.identity}").json()["connected"]
                       for cp in chargers)
        finally:
            for cp in chargers:
                cp.close()
    finally:
        srv.stop()


def test_a_redis_url_that_is_no_redis_url_is_one_line(tmp_path):
    srv = LiveServer(env={"REDIS_URL": "http://u:hunter2@127.0.0.1:6379/0"},
                     instance_dir=str(tmp_path))
    done = srv.flask("db", "upgrade", check=False)
    assert done.returncode == 4
    assert _lines(done.stderr) == ["constellation: error: REDIS_URL is not a Redis URL; expected "
                                   "redis://host:6379/0, rediss://... or "
                                   "unix:///path/to/redis.sock"]
