#!/usr/bin/env bash
# Provisioning tests: fast pytest checks (the upgrade command, templates, lint) and the molecule
# scenario that converges the roles on real systemd containers (debootstrap + systemd-nspawn).
# Needs root and Debian's packages. Exits non-zero when anything fails.
# Usage: .ci/molecule.sh [molecule scenario name, default: default]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-default}
start=$(date +%s)
step() { echo "==> [molecule.sh +$(( $(date +%s) - start ))s] $*"; }

if [ "$(id -u)" != 0 ]; then
  echo "molecule.sh needs root (debootstrap, systemd-nspawn, nsenter)" >&2
  exit 1
fi

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v zstd >/dev/null || need+=(zstd)
command -v git >/dev/null || need+=(git)
command -v openssl >/dev/null || need+=(openssl)
command -v redis-server >/dev/null || need+=(redis-server)
command -v hostapd >/dev/null || [ -x /usr/sbin/hostapd ] || need+=(hostapd)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  step "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

# The Debian root file system for the test nodes builds (or comes from the cache) meanwhile.
step "building or reusing the cached Debian root file system, in the background"
rootfs_log=$(mktemp)
molecule/scripts/nspawn.sh rootfs >"$rootfs_log" 2>&1 &
rootfs_pid=$!

step "installing the Python packages (requirements-dev.txt, requirements-provisioning.txt)"
scripts/bootstrap.sh requirements-dev.txt
stamp=.venv/.installed-requirements-provisioning.txt
want=$(sha256sum requirements-provisioning.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-provisioning.txt
  echo "$want" > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"

step "pytest tests/provisioning (upgrade command, templates, syntax, ansible-lint)"
PROVISIONING_TESTS_REQUIRED=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/provisioning

step "waiting for the Debian root file system"
if ! wait "$rootfs_pid"; then
  cat "$rootfs_log" >&2
  step "building the root file system FAILED"
  exit 1
fi
cat "$rootfs_log"

step "molecule test -s $scenario (create, converge, idempotence, check, verify, destroy)"
if molecule test -s "$scenario"; then
  step "molecule scenario $scenario passed"
else
  rc=$?
  step "molecule scenario $scenario FAILED (exit $rc)"
  exit "$rc"
fi
step "provisioning tests passed in $(( $(date +%s) - start )) s"
