"""Start the real server (gunicorn, gevent worker) on a free port with its own database.

The database is the SQLite file in the instance directory, or under TEST_DATABASE=postgresql a
PostgreSQL database of the instance directory's own (tests/support/database.py).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from tests.support.database import database_url, on_postgresql

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(RuntimeError):
    """The port chosen was bound by another process before the server could."""


class LiveServer:
    """A running Constellation: ``url``, ``ws_url``, ``env`` and a CLI runner on its database."""

    def __init__(self, env: dict[str, str] | None = None, instance_dir: str | None = None) -> None:
        self.instance_dir = instance_dir or tempfile.mkdtemp(prefix="constellation-test-")
        self._use_port(free_port())
        self.env = {
            **os.environ,
            "CONSTELLATION_INSTANCE_DIR": self.instance_dir,
            "LOG_LEVEL": "INFO",
            "PUBLIC_BASE_URL": self.url,
            # Tests wait for last-seen times: write them promptly.
            "LAST_SEEN_FLUSH_SECONDS": "0.2",
            # Tests send meter values with fixed past timestamps: keep them raw.
            "METER_VALUE_RAW_DAYS": "0",
            **(env or {}),
        }
        if on_postgresql() and "DATABASE_URL" not in (env or {}):
            self.env["DATABASE_URL"] = database_url(self.instance_dir)
        self.log_path = Path(self.instance_dir) / "server.log"
        self.proc: subprocess.Popen | None = None

    def _use_port(self, port: int) -> None:
        old = getattr(self, "url", None)
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ocpp"
        if old is not None and self.env.get("PUBLIC_BASE_URL") == old:
            self.env["PUBLIC_BASE_URL"] = self.url

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, check=check)

    def start(self) -> LiveServer:
        self.flask("db", "upgrade")
        # free_port can hand out a port another process (a test suite running beside this one)
        # takes before gunicorn binds it: then start again on another.
        for _attempt in range(3):
            try:
                return self._start()
            except PortTaken:
                self._use_port(free_port())
        return self._start()

    def _start(self) -> LiveServer:
        log = open(self.log_path, "ab")
        offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",
             f"127.0.0.1:{self.port}", "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if b"Address already in use" in self.log_path.read_bytes()[offset:]:
                    raise PortTaken(self.port)
                raise RuntimeError(f"server exited: {self.log()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy in 30 s")

    def stop(self, sig: int = signal.SIGQUIT) -> None:
        """Stop the server; SIGQUIT is gunicorn's quick shutdown, SIGKILL a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def create_user(self, name: str, role: str = "admin", password: str = "correct-horse-9") -> str:
        """Create a user through the CLI and return a fresh API token for it."""
        self.flask("users", "create", name, "--password", password, "--role", role)
        out = self.flask("users", "token", name).stdout.strip().splitlines()
        return out[-1].strip()


def json_value(value):
    """A JSON column as ``query`` reads it: SQLite gives its text, PostgreSQL the value."""
    import json

    return json.loads(value) if isinstance(value, str | bytes) else value


def query(srv: LiveServer, sql: str, *params) -> list[tuple]:
    """Read the server's database from outside, as another process would."""
    from sqlalchemy import create_engine, text

    url = srv.env.get("DATABASE_URL") or f"sqlite:///{srv.instance_dir}/constellation.db"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            named = {f"p{i}": v for i, v in enumerate(params)}
            for i in range(len(params)):
                sql = sql.replace("?", f":p{i}", 1)
            return [tuple(r) for r in conn.execute(text(sql), named)]
    finally:
        engine.dispose()
