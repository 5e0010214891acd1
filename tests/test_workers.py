"""Background work: a job goes through a real Redis to an RQ worker and its result comes back."""
from __future__ import annotations

import shutil
import subprocess
import tempfile

import pytest

from tests.support.server import ROOT, VENV_BIN, LiveServer, free_port


@pytest.fixture
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (test.sh installs it)")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="constellation-redis-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--dir", workdir], stdout=subprocess.DEVNULL)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


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
