"""The upgrade command against a local bare git remote, with a fake app and health check."""
from __future__ import annotations

import fcntl
import importlib.util
import json
import sys
from pathlib import Path

import pytest

UPGRADE = Path(__file__).resolve().parents[2] / "scripts" / "upgrade.py"
spec = importlib.util.spec_from_file_location("constellation_upgrade", UPGRADE)
upgrade = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = upgrade
spec.loader.exec_module(upgrade)


def test_stable_picks_the_highest_release_tag_by_number_not_by_text():
    listing = "\n".join(f"{sha}\t{ref}" for ref, sha in [
        ("refs/heads/main", "a" * 40),
        ("refs/tags/v1.2.0", "b" * 40),
        ("refs/tags/v1.10.0", "c" * 40),  # an annotated tag object...
        ("refs/tags/v1.10.0^{}", "d" * 40),  # ...and the commit it points at, which wins
        ("refs/tags/v2.0.0-rc1", "e" * 40),  # not a release tag
        ("refs/tags/nightly", "f" * 40),
    ])
    refs = upgrade.parse_ls_remote(listing)
    assert upgrade.newest_for_channel("stable", refs) == upgrade.Target("v1.10.0", "d" * 40)
    assert upgrade.newest_for_channel("latest", refs) == upgrade.Target("main", "a" * 40)
    assert upgrade.newest_for_channel("stable", {"refs/heads/main": "a" * 40}) is None


def test_env_file_is_read_like_systemd_reads_it(tmp_path):
    env = tmp_path / "env"
    env.write_text("# comment\nA=1\nB=\"two words\"\n\nC='x=y'\n")
    assert upgrade.read_env_file(env) == {"A": "1", "B": "two words", "C": "x=y"}


def test_first_install_then_upgrade_to_a_newer_tag(remote, node):
    v1 = remote.commit(revision="r1", tag="v0.1.0")
    result = node.upgrade("--version", "v0.1.0")
    assert result.returncode == 0, result.stderr
    assert node.current_sha() == v1
    assert node.revision() == "r1"

    v2 = remote.commit(revision="r2", tag="v0.2.0")
    remote.commit(revision="r3", message="work in progress on main, no tag")
    result = node.upgrade("--channel", "stable")
    assert result.returncode == 0, result.stderr
    assert node.current_sha() == v2
    assert node.revision() == "r2"
    assert "upgraded from v0.1.0 to v0.2.0" in result.stderr
    assert node.state()["previous"].endswith(v1[:12])

    again = node.upgrade("--channel", "stable")
    assert again.returncode == 0
    assert "already running v0.2.0; nothing to do" in again.stderr


def test_failed_health_check_rolls_back_code_and_database(remote, node):
    v1 = remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    bad = remote.commit(revision="r2", health="broken", tag="v0.2.0")

    result = node.upgrade("--channel", "stable")
    assert result.returncode == 1, result.stderr
    assert "health check failed" in result.stderr
    assert "rolled back: v0.1.0 runs and is healthy" in result.stderr
    assert node.current_sha() == v1
    assert node.revision() == "r1"  # the migration to r2 was undone
    assert bad in node.state()["failed"]
    assert "pending" not in node.state()

    # The channel does not try the same broken commit every night.
    again = node.upgrade("--channel", "stable")
    assert again.returncode == 0
    assert "failed before" in again.stderr
    assert node.current_sha() == v1


def test_failed_migration_rolls_back_before_switching(remote, node):
    v1 = remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    remote.commit(revision="r2", fail_migration=True, tag="v0.2.0")

    result = node.upgrade("--channel", "stable")
    assert result.returncode == 1
    assert "migration failed on purpose" in result.stderr
    assert node.current_sha() == v1
    assert node.revision() == "r1"


def test_without_a_sqlite_backup_the_migration_is_downgraded(remote, node):
    v1 = remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    remote.commit(revision="r2", health="broken", tag="v0.2.0")
    # Pretend the database is not SQLite (as on a Watchtower): no file backup is possible.
    original = upgrade.Upgrader.sqlite_path
    try:
        upgrade.Upgrader.sqlite_path = lambda self: None
        code = upgrade.main(["--config", str(node.config), "--channel", "stable"])
    finally:
        upgrade.Upgrader.sqlite_path = original
    assert code == 1
    assert node.current_sha() == v1
    assert node.revision() == "r1"
    assert "downgrading the database from r2 to r1" in node.log.read_text()


def test_latest_follows_the_head_of_main(remote, node):
    remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    head = remote.commit(revision="r2", message="newer than any tag")
    result = node.upgrade("--channel", "latest")
    assert result.returncode == 0, result.stderr
    assert node.current_sha() == head


def test_stable_never_downgrades_a_node_that_runs_main(remote, node):
    remote.commit(revision="r1", tag="v0.1.0")
    head = remote.commit(revision="r2")
    assert node.upgrade("--channel", "latest").returncode == 0
    result = node.upgrade("--channel", "stable")
    assert result.returncode == 0
    assert "not older than v0.1.0" in result.stderr
    assert node.current_sha() == head


def test_dry_run_and_manual_change_nothing(remote, node):
    remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    v2 = remote.commit(revision="r2", tag="v0.2.0")
    dry = node.upgrade("--channel", "stable", "--dry-run")
    assert dry.returncode == 0
    assert f"would upgrade to v0.2.0 ({v2[:12]})" in dry.stderr
    manual = node.upgrade("--channel", "manual")
    assert manual.returncode == 0
    assert "nothing to do" in manual.stderr
    assert node.revision() == "r1"


def test_a_second_upgrade_does_not_start_while_one_runs(remote, node):
    remote.commit(revision="r1", tag="v0.1.0")
    with open(node.lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = node.upgrade("--channel", "stable")
    assert result.returncode == 3
    assert "another upgrade holds" in result.stderr
    assert not (node.root / "current").exists()


def test_an_interrupted_upgrade_is_rolled_back_by_the_next_run(remote, node):
    v1 = remote.commit(revision="r1", tag="v0.1.0")
    assert node.upgrade("--version", "v0.1.0").returncode == 0
    remote.commit(revision="r2", tag="v0.2.0")
    # Simulate a power cut after the switch: current points at v0.2.0, migrated, pending state.
    assert node.upgrade("--channel", "stable").returncode == 0
    state = node.state()
    state["pending"] = {"target": "v0.2.0", "release": state["current"]["release"],
                        "previous": state["previous"], "revision": "r1", "backup": None}
    (node.root / "upgrade-state.json").write_text(json.dumps(state))

    result = node.upgrade("--version", "v0.1.0")
    assert "was interrupted; rolling back" in result.stderr
    assert node.current_sha() == v1
    assert node.revision() == "r1"


def test_old_releases_are_pruned(remote, node):
    for n in range(1, 5):
        remote.commit(revision=f"r{n}", tag=f"v0.{n}.0")
        assert node.upgrade("--version", f"v0.{n}.0").returncode == 0
    releases = sorted(p.name for p in (node.root / "releases").iterdir())
    assert len(releases) == 2  # keep_releases = 2: current and previous
    assert (node.root / "current").resolve().name in releases


@pytest.mark.parametrize("args", [["--remote", ""], ["--config", "/nonexistent.ini"]])
def test_bad_configuration_is_refused(node, args):
    result = node.upgrade(*args)
    assert result.returncode == 4
