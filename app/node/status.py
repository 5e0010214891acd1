"""The machine under the app: network interfaces (psutil), the uplink, uptime, disk, Redis,
RQ workers, and the version with the upgrade channel and its last result.

psutil and not netifaces: netifaces is unmaintained (archived, no wheels for current Python),
and psutil gives addresses, MACs and up/down in one maintained package (docs/hardware.md).
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from typing import Any

from flask import Flask

from ..hardware.lcd import read_frame
from ..services import node_features
from ..version import current_version
from . import health

_FAMILIES = {socket.AF_INET: "ipv4", socket.AF_INET6: "ipv6"}


def interfaces() -> list[dict[str, Any]]:
    """Every interface: ``name``, ``up``, ``addresses`` (IPv4/IPv6 without scope) and ``mac``."""
    import psutil

    stats = psutil.net_if_stats()
    out = []
    for name, addrs in sorted(psutil.net_if_addrs().items()):
        mac = next((a.address for a in addrs if a.family == psutil.AF_LINK), None)
        out.append({
            "name": name,
            "up": bool(stats[name].isup) if name in stats else False,
            "addresses": [a.address.split("%", 1)[0] for a in addrs if a.family in _FAMILIES],
            "mac": mac,
        })
    return out


def uplink() -> str | None:
    """The interface of the default route (``ip -j route show default``), if any."""
    try:
        out = subprocess.run(["ip", "-j", "route", "show", "default"], capture_output=True,
                             text=True, timeout=2, check=True).stdout
        routes = json.loads(out or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return routes[0].get("dev") if routes else None


def uptime_seconds() -> float:
    import psutil

    return max(0.0, time.time() - psutil.boot_time())


def disk(path: str) -> dict[str, Any]:
    usage = shutil.disk_usage(path)
    return {"path": path, "total_bytes": usage.total, "free_bytes": usage.free,
            "used_percent": round(100 * usage.used / usage.total, 1) if usage.total else 0.0}


def _redis(app: Flask):
    from ..job_status import redis  # this process's client, made once

    return redis(app)


def redis_status(app: Flask) -> dict[str, Any]:
    if not app.config["REDIS_URL"]:
        return {"configured": False, "ok": False, "detail": "REDIS_URL is not set"}
    try:
        _redis(app).ping()
    except Exception as exc:  # noqa: BLE001 - any failure is "not answering", said in words
        return {"configured": True, "ok": False, "detail": f"Redis does not answer: {exc}"}
    return {"configured": True, "ok": True, "detail": "answers"}


def worker_count(app: Flask) -> tuple[int, str | None]:
    """RQ workers registered in Redis, or an error in words."""
    if not app.config["REDIS_URL"]:
        return 0, "REDIS_URL is not set"
    try:
        from rq import Worker

        return Worker.count(connection=_redis(app)), None
    except Exception as exc:  # noqa: BLE001
        return 0, f"Redis does not answer: {exc}"


def last_upgrade(path: str) -> dict[str, Any] | None:
    """What scripts/upgrade.py recorded: the version it installed and when, and how many
    versions failed (None where no upgrade ran on this node)."""
    try:
        with open(path) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    current = state.get("current") or {}
    failed = state.get("failed") or {}
    return {"version": current.get("version"), "since": current.get("since"),
            "failed": sorted(failed.values()) if isinstance(failed, dict) else []}


def node(app: Flask) -> dict[str, Any]:
    """Everything the node page and ``GET /api/v1/node`` show."""
    features = []
    for state in node_features.states(app.config):
        result = health.check(app, state["name"])
        features.append({"name": state["name"], "description": state["description"],
                         "enabled": state["enabled"], "default": state["default"],
                         "switched_by": state["switched_by"],
                         "healthy": result.healthy, "present": result.present,
                         "configured": result.configured, "working": result.working,
                         "detail": result.detail})
    count, error = worker_count(app)
    return {
        "role": app.config["NODE_ROLE"],
        "hostname": socket.gethostname(),
        "version": current_version(),
        "channel": app.config["UPGRADE_CHANNEL"],
        "last_upgrade": last_upgrade(app.config["UPGRADE_STATE_FILE"]),
        "features": features,
        "interfaces": interfaces(),
        "uplink": uplink(),
        "uptime_seconds": round(uptime_seconds()),
        "disk": disk(app.instance_path),
        "redis": redis_status(app),
        "workers": {"count": count, "detail": error or f"{count} registered"},
        "display": read_frame(app.config["LCD_FRAME_FILE"]),
    }
