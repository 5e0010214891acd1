#!/usr/bin/env python3
"""Upgrade a Constellation node to the newest version of its channel, or roll back.

Standard library only, so that it runs whatever state the app's own code is in. Cron runs it
(see roles/upgrade_channel) and so does ``playbooks/upgrade.yml``:

    constellation-upgrade --channel stable      # newest release tag vX.Y.Z in the git remote
    constellation-upgrade --channel latest      # head of main
    constellation-upgrade --version v1.4.0      # one given tag, branch or commit

Layout on the node (the same one the Ansible role ``constellation`` creates)::

    ROOT/releases/<sha12>/        one git checkout per version, each with its own .venv
    ROOT/current -> releases/...  the version that runs; systemd units start from here
    ROOT/upgrade-state.json       what ran before, commits that failed, an interrupted upgrade

An upgrade prepares the new release beside the running one (clone, virtual environment,
requirements), backs up an SQLite database, migrates, switches ``current`` atomically,
restarts the services and checks ``/healthz``. When any step fails it puts the database and
``current`` back, restarts the previous version and checks its health. A commit that failed is
not tried again by the channel unless ``--force`` is given. An flock on ``lock_file`` keeps two
upgrades from overlapping; an upgrade interrupted halfway (power cut, kill) is rolled back by
the next run before it decides anything else.

Exit codes: 0 nothing to do or upgraded, 1 upgrade failed and rolled back (node healthy on the
previous version), 2 rollback failed too (node needs an operator), 3 another upgrade is running,
4 bad usage or configuration.
"""
from __future__ import annotations

import argparse
import configparser
import fcntl
import json
import logging
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("constellation-upgrade")

DEFAULT_CONFIG = "/etc/constellation/upgrade.ini"
TAG_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
REVISION_RE = re.compile(r"^(\w+)(?: \(.*\))?\s*$", re.MULTILINE)
MAIN_BRANCH = "main"

DEFAULTS = {
    "remote": "",
    "channel": "manual",
    "root": "/opt/constellation",
    "env_file": "/etc/constellation/constellation.env",
    "restart_command": "systemctl restart constellation.target",
    "health_url": "http://127.0.0.1:8888/healthz",
    "health_timeout": "90",
    "health_check_version": "true",
    "build_command": "/usr/bin/python3 -m venv .venv && .venv/bin/pip install --quiet "
                     "--disable-pip-version-check -r requirements.txt",
    "migrate_command": ".venv/bin/flask --app wsgi db upgrade",
    "revision_command": ".venv/bin/flask --app wsgi db current",
    "downgrade_command": ".venv/bin/flask --app wsgi db downgrade {revision}",
    "keep_releases": "3",
    "lock_file": "/run/lock/constellation-upgrade.lock",
    "state_file": "",
    "log_file": "/var/log/constellation/upgrade.log",
    "command_timeout": "900",
}


class UpgradeError(Exception):
    """A step failed; the message says which and why."""


@dataclass(frozen=True)
class Target:
    label: str  # what the operator would call it: v1.2.3, main, a commit
    sha: str

    @property
    def dirname(self) -> str:
        return self.sha[:12]


# --------------------------------------------------------------------------- configuration
@dataclass
class Config:
    remote: str
    channel: str
    root: Path
    env_file: Path
    restart_command: str
    health_url: str
    health_timeout: float
    health_check_version: bool
    build_command: str
    migrate_command: str
    revision_command: str
    downgrade_command: str
    keep_releases: int
    lock_file: Path
    state_file: Path
    log_file: str
    command_timeout: float

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    @property
    def current(self) -> Path:
        return self.root / "current"


def load_config(path: str | None, overrides: dict[str, str]) -> Config:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict({"upgrade": DEFAULTS})
    if path:
        if not os.path.exists(path):
            if path != DEFAULT_CONFIG:
                raise UpgradeError(f"configuration file {path} does not exist")
        else:
            parser.read(path)
    section = parser["upgrade"]
    for key, value in overrides.items():
        if value is not None:
            section[key] = value
    root = Path(section["root"])
    return Config(
        remote=section["remote"],
        channel=section["channel"],
        root=root,
        env_file=Path(section["env_file"]),
        restart_command=section["restart_command"],
        health_url=section["health_url"],
        health_timeout=float(section["health_timeout"]),
        health_check_version=section.getboolean("health_check_version"),
        build_command=section["build_command"],
        migrate_command=section["migrate_command"],
        revision_command=section["revision_command"],
        downgrade_command=section["downgrade_command"],
        keep_releases=max(2, int(section["keep_releases"])),
        lock_file=Path(section["lock_file"]),
        state_file=Path(section["state_file"] or root / "upgrade-state.json"),
        log_file=section["log_file"],
        command_timeout=float(section["command_timeout"]),
    )


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them (comments, optional quotes)."""
    env: dict[str, str] = {}
    if not path.exists():
        return env
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


# --------------------------------------------------------------------------- small helpers
def run(cmd: str | list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """Run a command (a list, or a shell string from the configuration) and log its output."""
    shell = isinstance(cmd, str)
    shown = cmd if shell else shlex.join(cmd)
    log.debug("running: %s (in %s)", shown, cwd or os.getcwd())
    try:
        proc = subprocess.run(cmd, shell=shell, cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise UpgradeError(f"{shown} did not finish within {timeout:g} s") from exc
    output = (proc.stdout + proc.stderr).strip()
    if check and proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise UpgradeError(f"{shown} exited with {proc.returncode}:\n{tail}")
    if output:
        log.debug("output of %s:\n%s", shown, output)
    return proc


def git(*args: str, cwd: Path | None = None) -> str:
    return run(["git", *args], cwd=cwd).stdout.strip()


def version_tuple(tag: str) -> tuple[int, int, int] | None:
    match = TAG_RE.match(tag)
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def remote_refs(remote: str) -> dict[str, str]:
    """Every tag and branch of the remote, mapped to the commit it points at (tags peeled)."""
    return parse_ls_remote(git("ls-remote", "--tags", "--heads", remote))


def parse_ls_remote(text: str) -> dict[str, str]:
    refs: dict[str, str] = {}
    for line in text.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.endswith("^{}"):
            refs[ref[:-3]] = sha  # the commit an annotated tag points at wins over the tag object
        else:
            refs.setdefault(ref, sha)
    return refs


def newest_for_channel(channel: str, refs: dict[str, str]) -> Target | None:
    if channel == "stable":
        tags = {ref.removeprefix("refs/tags/"): sha for ref, sha in refs.items()
                if ref.startswith("refs/tags/") and version_tuple(ref.removeprefix("refs/tags/"))}
        if not tags:
            return None
        newest = max(tags, key=version_tuple)  # type: ignore[arg-type]
        return Target(newest, tags[newest])
    if channel == "latest":
        sha = refs.get(f"refs/heads/{MAIN_BRANCH}")
        return Target(MAIN_BRANCH, sha) if sha else None
    raise UpgradeError(f"channel {channel!r} has no automatic version (use stable or latest, "
                       "or --version)")


def resolve_version(ref: str, refs: dict[str, str]) -> Target:
    for candidate in (ref, f"refs/tags/{ref}", f"refs/heads/{ref}"):
        if candidate in refs:
            return Target(ref, refs[candidate])
    if re.fullmatch(r"[0-9a-f]{7,40}", ref):
        matches = {sha for sha in refs.values() if sha.startswith(ref)}
        if len(matches) == 1:
            return Target(ref, matches.pop())
        if len(ref) == 40:
            return Target(ref, ref)
    raise UpgradeError(f"the remote has no tag, branch or commit named {ref!r}")


# --------------------------------------------------------------------------- the upgrader
class Upgrader:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.env = {**os.environ, **read_env_file(cfg.env_file)}
        self.state = self._load_state()

    # state -------------------------------------------------------------------------------
    def _load_state(self) -> dict:
        try:
            return json.loads(self.cfg.state_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable state file %s: %s", self.cfg.state_file, exc)
            return {}

    def _save_state(self) -> None:
        tmp = self.cfg.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, self.cfg.state_file)

    # releases ----------------------------------------------------------------------------
    def current_release(self) -> Path | None:
        if not self.cfg.current.is_symlink():
            return None
        return self.cfg.current.resolve()

    def describe(self, release: Path) -> str:
        proc = run(["git", "describe", "--tags", "--always", "--dirty"], cwd=release, check=False)
        return proc.stdout.strip() or "unknown"

    def release_sha(self, release: Path) -> str:
        return git("rev-parse", "HEAD", cwd=release)

    def release_version(self, release: Path) -> tuple[int, int, int] | None:
        proc = run(["git", "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*.[0-9]*.[0-9]*"],
                   cwd=release, check=False)
        return version_tuple(proc.stdout.strip())

    def prepare(self, target: Target) -> Path:
        """Clone and build the target beside the running release; reuse a finished one."""
        release = self.cfg.releases / target.dirname
        marker = release / ".constellation-ready"
        if marker.exists():
            log.info("release %s for %s is already built; reusing it", release, target.label)
            return release
        if release.exists():
            log.info("removing the unfinished release directory %s", release)
            shutil.rmtree(release)
        self.cfg.releases.mkdir(parents=True, exist_ok=True)
        log.info("cloning %s at %s (%s) into %s", self.cfg.remote, target.label,
                 target.sha[:12], release)
        try:
            run(["git", "clone", "--quiet", "--no-checkout", self.cfg.remote, str(release)])
            run(["git", "checkout", "--quiet", "--detach", target.sha], cwd=release)
            log.info("building the release: %s", self.cfg.build_command)
            run(self.cfg.build_command, cwd=release, env=self.env,
                timeout=self.cfg.command_timeout)
        except UpgradeError:
            shutil.rmtree(release, ignore_errors=True)
            raise
        marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%S%z\n"))
        return release

    def switch(self, release: Path) -> None:
        """Point ``current`` at ``release`` atomically (a new symlink renamed over the old)."""
        tmp = self.cfg.root / ".current.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(release.relative_to(self.cfg.root))
        os.replace(tmp, self.cfg.current)
        log.info("current now points at %s", release)

    def prune(self, keep: set[Path]) -> None:
        """Remove old releases: keep those in ``keep`` and the newest up to keep_releases."""
        others = sorted((p for p in self.cfg.releases.iterdir() if p.is_dir() and p not in keep),
                        key=lambda p: p.stat().st_mtime, reverse=True)
        for release in others[max(0, self.cfg.keep_releases - len(keep)):]:
            log.info("removing the old release %s", release)
            shutil.rmtree(release, ignore_errors=True)

    # database ----------------------------------------------------------------------------
    def sqlite_path(self) -> Path | None:
        url = self.env.get("DATABASE_URL", "")
        if url.startswith("sqlite:///"):
            return Path(url.removeprefix("sqlite:///").split("?")[0])
        if not url and self.env.get("CONSTELLATION_INSTANCE_DIR"):
            return Path(self.env["CONSTELLATION_INSTANCE_DIR"]) / "constellation.db"
        return None

    def backup_database(self, label: str) -> Path | None:
        db = self.sqlite_path()
        if db is None or not db.exists():
            log.info("no SQLite database to back up (migrations are undone with downgrade)")
            return None
        backup = db.with_name(f"{db.name}.before-{label}")
        try:
            with sqlite3.connect(db) as src, sqlite3.connect(backup) as dst:
                src.backup(dst)
        except (sqlite3.Error, OSError) as exc:
            raise UpgradeError(f"could not back up the database {db}: {exc}") from exc
        log.info("backed up the database %s to %s", db, backup)
        return backup

    def restore_database(self, backup: Path) -> None:
        db = self.sqlite_path()
        assert db is not None
        owner = db.stat()
        with sqlite3.connect(backup) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
        # This runs as root: files SQLite created beside the database must stay the app's.
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            if path.exists():
                os.chown(path, owner.st_uid, owner.st_gid)
        log.info("restored the database %s from %s", db, backup)

    def revision(self, release: Path) -> str | None:
        proc = run(self.cfg.revision_command, cwd=release, env=self.env, check=False)
        if proc.returncode != 0:
            return None
        found = REVISION_RE.findall(proc.stdout)  # "0001 (head)"; log lines do not match
        return found[-1] if found else None

    # services ----------------------------------------------------------------------------
    def restart(self) -> None:
        log.info("restarting the services: %s", self.cfg.restart_command)
        run(self.cfg.restart_command, env=self.env, timeout=self.cfg.command_timeout)

    def healthy(self, expected_version: str | None) -> bool:
        """Poll /healthz until it answers 200 with status ok (and the expected version)."""
        deadline = time.monotonic() + self.cfg.health_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.cfg.health_url, timeout=5) as resp:
                    body = json.loads(resp.read().decode() or "{}")
                if body.get("status") != "ok":
                    last = f"status {body.get('status')!r}"
                elif expected_version and self.cfg.health_check_version \
                        and body.get("version") != expected_version:
                    last = f"version {body.get('version')!r}, expected {expected_version!r}"
                else:
                    log.info("health check passed: %s", body)
                    return True
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (OSError, ValueError) as exc:
                last = str(exc)
            time.sleep(1)
        log.error("health check failed after %g s: %s", self.cfg.health_timeout, last)
        return False

    # the whole thing ---------------------------------------------------------------------
    def recover_interrupted(self) -> None:
        pending = self.state.get("pending")
        if not pending:
            return
        previous = Path(pending["previous"])
        log.warning("an upgrade to %s was interrupted; rolling back to %s first",
                    pending["target"], previous)
        backup = Path(pending["backup"]) if pending.get("backup") else None
        self.rollback(previous, Path(pending["release"]), pending.get("revision"), backup)

    def decide(self, channel: str, version: str | None, force: bool) -> Target | None:
        """Return the version to install, or None (and say why) when there is nothing to do."""
        current = self.current_release()
        refs = remote_refs(self.cfg.remote)
        if version:
            target = resolve_version(version, refs)
            log.info("asked for version %s (%s)", target.label, target.sha[:12])
        else:
            target = newest_for_channel(channel, refs)
            if target is None:
                log.info("channel %s: the remote offers no version yet; nothing to do", channel)
                return None
            log.info("channel %s: the newest version is %s (%s)", channel, target.label,
                     target.sha[:12])
        if current is not None:
            current_sha = self.release_sha(current)
            log.info("running %s (%s)", self.describe(current), current_sha[:12])
            if current_sha == target.sha:
                log.info("already running %s; nothing to do", target.label)
                return None
            if not version and channel == "stable":
                running = self.release_version(current)
                if running is not None and running >= version_tuple(target.label):
                    log.info("the running version v%s is not older than %s; nothing to do",
                             ".".join(map(str, running)), target.label)
                    return None
        else:
            log.info("no release is installed yet")
        failed = self.state.get("failed", {})
        if target.sha in failed and not force:
            log.warning("%s (%s) failed before (%s); skipping it (use --force to retry)",
                        target.label, target.sha[:12], failed[target.sha])
            return None
        return target

    def upgrade(self, target: Target) -> int:
        previous = self.current_release()
        try:
            release = self.prepare(target)
        except UpgradeError as exc:
            log.error("could not prepare %s: %s", target.label, exc)
            log.info("the running version was not touched")
            self._mark_failed(target, "build failed")
            return 1
        expected = self.describe(release)
        if previous is None:
            log.info("first installation of %s", expected)
            run(self.cfg.migrate_command, cwd=release, env=self.env,
                timeout=self.cfg.command_timeout)
            self.switch(release)
            self.restart()
            if not self.healthy(expected):
                log.critical("%s is installed but not healthy, with nothing to roll back to",
                             expected)
                return 2
            self._record_current(release, expected)
            return 0

        old_revision = self.revision(previous)
        log.info("database revision before the upgrade: %s", old_revision or "unknown")
        try:
            backup = self.backup_database(expected)
        except UpgradeError as exc:
            log.error("%s; the running version was not touched", exc)
            return 1
        self.state["pending"] = {"target": target.label, "release": str(release),
                                 "previous": str(previous), "revision": old_revision,
                                 "backup": str(backup) if backup else None}
        self._save_state()
        try:
            log.info("migrating the database with %s", expected)
            run(self.cfg.migrate_command, cwd=release, env=self.env,
                timeout=self.cfg.command_timeout)
            self.switch(release)
            self.restart()
            if not self.healthy(expected):
                raise UpgradeError(f"{expected} is not healthy")
        except UpgradeError as exc:
            log.error("upgrade to %s failed: %s", expected, exc)
            self._mark_failed(target, str(exc).splitlines()[0])
            return 1 if self.rollback(previous, release, old_revision, backup) else 2
        self.state.pop("pending", None)
        self.state["previous"] = str(previous)
        self._record_current(release, expected)
        log.info("upgraded from %s to %s", self.describe(previous), expected)
        self.prune({release, previous})
        return 0

    def rollback(self, previous: Path, failed: Path, old_revision: str | None,
                 backup: Path | None) -> bool:
        version = self.describe(previous)
        log.warning("rolling back to %s", version)
        ok = True
        if backup is not None and backup.exists():
            self.restore_database(backup)
        elif old_revision:
            new_revision = self.revision(failed)
            if new_revision and new_revision != old_revision:
                log.info("downgrading the database from %s to %s", new_revision, old_revision)
                try:
                    run(self.cfg.downgrade_command.format(revision=old_revision), cwd=failed,
                        env=self.env, timeout=self.cfg.command_timeout)
                except UpgradeError as exc:
                    log.error("database downgrade failed: %s", exc)
                    ok = False
        self.switch(previous)
        try:
            self.restart()
        except UpgradeError as exc:
            log.error("%s", exc)
            ok = False
        ok = self.healthy(version) and ok
        self.state.pop("pending", None)
        self._save_state()
        if ok:
            log.warning("rolled back: %s runs and is healthy", version)
        else:
            log.critical("rollback to %s did not leave a healthy node; an operator is needed",
                         version)
        return ok

    def _record_current(self, release: Path, version: str) -> None:
        self.state["current"] = {"release": str(release), "version": version,
                                 "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self._save_state()

    def _mark_failed(self, target: Target, reason: str) -> None:
        self.state.setdefault("failed", {})[target.sha] = f"{target.label}: {reason}"
        self._save_state()


# --------------------------------------------------------------------------- entry point
def setup_logging(log_file: str, verbose: bool) -> None:
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.INFO)
    console.setFormatter(fmt)
    root.addHandler(console)
    if log_file:
        try:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(log_file)
        except OSError as exc:
            log.warning("cannot write the log file %s: %s", log_file, exc)
        else:
            handler.setLevel(logging.DEBUG)
            handler.setFormatter(fmt)
            root.addHandler(handler)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="INI file ([upgrade] section)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--channel", choices=["stable", "latest", "manual"],
                       help="follow this channel (default: the configuration's)")
    which.add_argument("--version", help="install this tag, branch or commit")
    parser.add_argument("--remote", help="git remote (default: the configuration's)")
    parser.add_argument("--root", help="installation root (default: /opt/constellation)")
    parser.add_argument("--force", action="store_true", help="retry a version that failed before")
    parser.add_argument("--dry-run", action="store_true", help="decide and say, change nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="log commands and output")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = load_config(args.config, {"remote": args.remote, "root": args.root})
    except (UpgradeError, ValueError, configparser.Error) as exc:
        print(f"constellation-upgrade: {exc}", file=sys.stderr)
        return 4
    setup_logging(cfg.log_file, args.verbose)
    if not cfg.remote:
        log.error("no git remote configured (remote= in %s or --remote)", args.config)
        return 4
    channel = args.channel or cfg.channel
    if channel == "manual" and not args.version:
        log.info("channel manual: upgrades only with --version; nothing to do")
        return 0
    cfg.lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(cfg.lock_file, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another upgrade holds %s; not starting a second one", cfg.lock_file)
            return 3
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            upgrader = Upgrader(cfg)
            upgrader.recover_interrupted()
            target = upgrader.decide(channel, args.version, args.force)
            if target is None:
                return 0
            if args.dry_run:
                log.info("dry run: would upgrade to %s (%s)", target.label, target.sha[:12])
                return 0
            return upgrader.upgrade(target)
        except UpgradeError as exc:
            log.error("%s", exc)
            return 2 if upgrader_pending(cfg) else 1
        except Exception:  # noqa: BLE001 - log the traceback where operators look
            log.exception("unexpected error")
            return 2


def upgrader_pending(cfg: Config) -> bool:
    try:
        return bool(json.loads(cfg.state_file.read_text()).get("pending"))
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
