#!/usr/bin/env bash
# Boot and remove Debian 12 containers with a real systemd for molecule, without Docker:
# debootstrap makes a root file system (cached as a tarball), systemd-nspawn boots it, and
# Ansible reaches it through community.docker.nsenter with the container's init PID.
# The containers share the host's network: their services must use ports the host does not.
#
#   nspawn.sh start NAME    boot container NAME; prints its init PID
#   nspawn.sh stop NAME     shut it down and delete its files
#   nspawn.sh rootfs        only build the cached root file system
set -euo pipefail

CACHE_DIR=${CONSTELLATION_MOLECULE_CACHE:-/var/cache/constellation-molecule}
STATE_DIR=${CONSTELLATION_MOLECULE_STATE:-/var/lib/constellation-molecule}
RUN_DIR=/run/constellation-molecule
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INCLUDE=python3,systemd,systemd-sysv,dbus,ca-certificates
PIP_CACHE=${PIP_CACHE_DIR:-$HOME/.cache/pip}
TARBALL="$CACHE_DIR/$SUITE-minbase-$(printf '%s' "$INCLUDE" | sha256sum | cut -c1-8).tar.zst"

say() { echo "[nspawn] $*" >&2; }

rootfs() {
  [ -f "$TARBALL" ] && return
  mkdir -p "$CACHE_DIR"
  local tmp
  tmp=$(mktemp -d "$CACHE_DIR/debootstrap.XXXXXX")
  say "debootstrap $SUITE into $tmp (once; cached as $TARBALL)"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$tmp" "$MIRROR" >"$tmp.log" 2>&1 \
    || { tail -20 "$tmp.log" >&2; rm -rf "$tmp"; exit 1; }
  chmod 755 "$tmp"  # mktemp made it 0700: as the container's / that locks every user but root out
  tar -C "$tmp" -I 'zstd -T0 -3' -cf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
  rm -rf "$tmp" "$tmp.log"
}

start() {
  local name=$1 dir="$STATE_DIR/$1" pidfile="$RUN_DIR/$1.pid" leader=""
  rootfs
  stop "$name" 2>/dev/null || true
  mkdir -p "$dir" "$RUN_DIR"
  say "unpacking the root file system for $name"
  tar -C "$dir" -I zstd -xf "$TARBALL"
  chmod 755 "$dir"
  echo "$name" > "$dir/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost\n' "$name" > "$dir/etc/hosts"
  # The host's extra CA certificates (pip and apt over TLS go through them here).
  cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$dir" update-ca-certificates >/dev/null 2>&1 || true
  printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$dir/etc/pip.conf"
  # Packages must not start their services with default settings on the shared network (two
  # nodes' redis-server on port 6379 collide): the roles start them once configured.
  printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
  chmod 755 "$dir/usr/sbin/policy-rc.d"
  # Downloaded packages outlive the container. pip shares the host's cache, which already holds
  # the app's pinned wheels from the host's .venv (pip's cache is safe to share); apt's cache is
  # per container because apt locks it.
  mkdir -p "$PIP_CACHE" "$CACHE_DIR/apt/$name/partial"
  say "booting $name"
  setsid systemd-nspawn -b --register=no --keep-unit -M "$name" -D "$dir" --console=passive \
    --bind="$PIP_CACHE:/root/.cache/pip" --bind="$CACHE_DIR/apt/$name:/var/cache/apt/archives" \
    >"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! > "$RUN_DIR/$name.nspawn.pid"
  for _ in $(seq 1 120); do
    leader=$(pgrep -P "$(cat "$RUN_DIR/$name.nspawn.pid")" 2>/dev/null | head -1 || true)
    if [ -n "$leader" ]; then
      state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) break ;; esac
    fi
    sleep 0.5
  done
  [ -n "$leader" ] || { say "$name did not boot"; cat "$RUN_DIR/$name.log" >&2; exit 1; }
  say "$name is up (init PID $leader, systemd: ${state:-unknown})"
  echo "$leader" > "$pidfile"
  echo "$leader"
}

stop() {
  local name=$1 pid
  if [ -f "$RUN_DIR/$name.nspawn.pid" ]; then
    pid=$(cat "$RUN_DIR/$name.nspawn.pid")
    if kill -0 "$pid" 2>/dev/null; then
      say "shutting $name down"
      kill "$pid"
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$RUN_DIR/$name.pid" "$RUN_DIR/$name.nspawn.pid"
  rm -rf "${STATE_DIR:?}/$name"
}

case "${1:-}" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  rootfs) rootfs ;;
  *) echo "usage: $0 start NAME | stop NAME | rootfs" >&2; exit 2 ;;
esac
