#!/usr/bin/env bash
# Create .venv if missing and install a requirements file into it (skipped when unchanged).
# Usage: scripts/bootstrap.sh [requirements-file]
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null; then
      echo "$py"; return
    fi
  done
  echo "Python 3.11 or newer is needed (Debian 12: apt-get install python3)" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(pick_python)
  if ! "$py" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> installing python3-venv"
      apt-get install -y -qq python3-venv >/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
      "$py" -m venv .venv
    else
      echo "cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  echo "==> created .venv with $("$py" --version)"
fi

stamp=".venv/.installed-$(basename "$req")"
want=$(cat "$req" requirements*.txt | sha256sum | cut -d" " -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing $req into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
