"""Background work: a job goes through a real Redis to an RQ worker and its result comes back."""
from __future__ import annotations

import subprocess

from tests.support.server import ROOT, VENV_BIN, LiveServer


def test_job_round_trip_through_redis_and_a_worker(redis_url, tmp_path):
    app = LiveServer(env={"REDIS_URL": redis_url}, instance_dir=str(tmp_path))
    app.flask("db", "upgrade")
    worker = subprocess.Popen([str(VENV_BIN / "flask"), "--app", "wsgi", "worker",
                               "--with-scheduler"], cwd=ROOT, env=app.env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = app.flask("jobs", "ping", "--timeout", "30")
        assert result.stdout.startswith("ok: job")
    finally:
        worker.terminate()
        worker.wait(15)


def test_ping_without_a_worker_says_so(redis_url, tmp_path):
    app = LiveServer(env={"REDIS_URL": redis_url}, instance_dir=str(tmp_path))
    result = app.flask("jobs", "ping", "--timeout", "1", check=False)
    assert result.returncode != 0 and "no worker answered" in result.stderr


def test_worker_needs_redis_url(tmp_path):
    app = LiveServer(env={"REDIS_URL": ""}, instance_dir=str(tmp_path))
    result = app.flask("jobs", "ping", check=False)
    assert result.returncode != 0 and "REDIS_URL is not set" in result.stderr
