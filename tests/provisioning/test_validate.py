"""The configuration validator that the roles' templates run before installing a file."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROLES = Path(__file__).resolve().parents[2] / "roles"
VALIDATE = ROLES / "common" / "files" / "constellation-validate"

GOOD_UNIT = "[Unit]\nDescription=x\n\n[Service]\nExecStart=/bin/true\n"


def validate(tmp_path: Path, kind: str, text: str, *extra: str) -> subprocess.CompletedProcess:
    path = tmp_path / "candidate"
    path.write_text(text)
    return subprocess.run(["sh", str(VALIDATE), kind, str(path), *extra], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is missing")
@pytest.mark.parametrize(("text", "ok"), [
    (GOOD_UNIT, True),
    (GOOD_UNIT + "BogusKey=1\n", False),
    (GOOD_UNIT.replace("/bin/true", "relative/path"), False),
])
def test_unit_files(tmp_path, text, ok):
    result = validate(tmp_path, "unit", text, "constellation-test.service")
    assert (result.returncode == 0) is ok, result.stderr


@pytest.mark.parametrize(("text", "ok"), [
    ("# comment\nSECRET_KEY='abc def'\nEMPTY=''\n\n", True),
    ("SECRET_KEY=unquoted\n", False),
    ("SECRET_KEY='it's'\n", False),
    ("lower-case='x'\n", False),
])
def test_environment_files(tmp_path, text, ok):
    assert (validate(tmp_path, "env", text).returncode == 0) is ok


@pytest.mark.parametrize(("text", "ok"), [
    ("# x\nport = 5432\nlisten_addresses = 'localhost'\nshared_buffers = 128MB\n", True),
    ("port 5432\n", False),
    ("port = '5432\n", False),
])
def test_postgresql_snippets(tmp_path, text, ok):
    assert (validate(tmp_path, "pgconf", text).returncode == 0) is ok


def test_unknown_kind_is_an_error(tmp_path):
    assert validate(tmp_path, "nonsense", "").returncode == 2
