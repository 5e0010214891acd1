"""Fixtures for the provisioning tests: a local bare git remote with tagged fake releases.

The fake app in each release is a ``migrate.py`` (records a schema revision in SQLite, or fails)
and a ``HEALTH`` file that says what ``/healthz`` answers once that release runs. A small HTTP
server in the test process plays the app: it reads ``ROOT/current`` at every request, so the
"restart" command can be ``true``.
"""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UPGRADE = REPO / "scripts" / "upgrade.py"

MIGRATE = '''\
import os, sqlite3, sys
REVISION = {revision!r}
FAIL = {fail!r}
db = os.environ["DATABASE_URL"].removeprefix("sqlite:///")
con = sqlite3.connect(db)
con.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num TEXT)")
cmd = sys.argv[1:] or ["upgrade"]
if cmd[0] == "current":
    row = con.execute("SELECT version_num FROM alembic_version").fetchone()
    print("INFO some log line")
    print(f"{{row[0]}} (head)" if row else "")
    sys.exit(0)
if cmd[0] == "downgrade":
    target = cmd[1]
else:
    if FAIL:
        sys.exit("migration failed on purpose")
    target = REVISION
con.execute("DELETE FROM alembic_version")
con.execute("INSERT INTO alembic_version VALUES (?)", (target,))
con.commit()
'''


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


class FakeRemote:
    """A bare repository plus a work tree to commit and tag fake releases in."""

    def __init__(self, base: Path):
        self.bare = base / "remote.git"
        self.work = base / "work"
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=base)
        git("init", "--quiet", "--initial-branch=main", str(self.work), cwd=base)
        for key, value in (("user.name", "Test"), ("user.email", "test@example.invalid")):
            git("config", key, value, cwd=self.work)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    def commit(self, *, revision: str, health: str = "ok", fail_migration: bool = False,
               tag: str | None = None, message: str = "release") -> str:
        (self.work / "migrate.py").write_text(MIGRATE.format(revision=revision,
                                                              fail=fail_migration))
        (self.work / "HEALTH").write_text(health + "\n")
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        if tag:
            git("tag", "-a", tag, "-m", tag, cwd=self.work)
        git("push", "--quiet", "--follow-tags", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)


class FakeApp(http.server.BaseHTTPRequestHandler):
    root: Path

    def do_GET(self):  # noqa: N802 - http.server's name
        current = self.root / "current"
        if not current.exists():
            self.send_error(503)
            return
        health = (current / "HEALTH").read_text().strip()
        version = subprocess.run(["git", "describe", "--tags", "--always", "--dirty"],
                                 cwd=current, capture_output=True, text=True).stdout.strip()
        status = 200 if health == "ok" else 503
        body = json.dumps({"status": "ok" if status == 200 else "unhealthy",
                           "database": "ok", "version": version}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def remote(tmp_path: Path) -> FakeRemote:
    return FakeRemote(tmp_path)


@pytest.fixture
def node(tmp_path: Path, remote: FakeRemote):
    """A node's directories, its upgrade.ini, and a fake app answering /healthz."""
    root = tmp_path / "opt"
    root.mkdir()
    handler = type("Handler", (FakeApp,), {"root": root})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env_file = tmp_path / "constellation.env"
    db = tmp_path / "var" / "constellation.db"
    db.parent.mkdir()
    env_file.write_text(f"# written by the test\nDATABASE_URL=sqlite:///{db}\n")
    config = tmp_path / "upgrade.ini"
    config.write_text(f"""\
[upgrade]
remote = {remote.bare}
root = {root}
env_file = {env_file}
restart_command = true
health_url = http://127.0.0.1:{server.server_address[1]}/healthz
health_timeout = 2
build_command = mkdir -p .venv
migrate_command = {sys.executable} migrate.py
revision_command = {sys.executable} migrate.py current
downgrade_command = {sys.executable} migrate.py downgrade {{revision}}
lock_file = {tmp_path}/upgrade.lock
log_file = {tmp_path}/upgrade.log
keep_releases = 2
""")
    yield Node(root=root, config=config, db=db, log=tmp_path / "upgrade.log",
               lock=tmp_path / "upgrade.lock")
    server.shutdown()
    server.server_close()


class Node:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def upgrade(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(UPGRADE), "--config", str(self.config), *args],
                              capture_output=True, text=True, timeout=120)

    def current_sha(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.root / "current")

    def revision(self) -> str:
        import sqlite3

        with sqlite3.connect(self.db) as con:
            return con.execute("SELECT version_num FROM alembic_version").fetchone()[0]

    def state(self) -> dict:
        return json.loads((self.root / "upgrade-state.json").read_text())
