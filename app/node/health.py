"""One health check per feature, behind one small interface: ``check(app) -> Health``.

A check says whether the feature is present (its hardware or program is there), configured
(its settings are there) and working (its service answers), and if not, why. Checks read the
machine (device files, programs, processes, the reader's socket) and never raise: a failure
is a ``Health`` that says so. Nothing hardware-specific is imported.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask


@dataclass(frozen=True)
class Health:
    present: bool
    configured: bool
    working: bool
    detail: str

    @property
    def healthy(self) -> bool:
        return self.present and self.configured and self.working


Check = Callable[[Flask], Health]


def _process_running(name: str) -> bool:
    import psutil

    for proc in psutil.process_iter(["name"]):
        if proc.info.get("name") == name:
            return True
    return False


def _program(*names: str) -> list[str]:
    """The programs of ``names`` that are missing (PATH and /usr/sbin)."""
    return [n for n in names if not (shutil.which(n) or Path("/usr/sbin", n).exists())]


def rfid(app: Flask) -> Health:
    from ..hardware.rfid import ReaderUnavailable, service_status

    configured = bool(app.config["RFID_CHARGER"] and app.config["REDIS_URL"])
    if not app.config["RFID_CHARGER"]:
        why = "; RFID_CHARGER is not set: scans are recorded, no session starts"
    elif not app.config["REDIS_URL"]:
        # The reader service is its own process: its commands reach the charger's socket
        # only through the Redis router.
        why = "; REDIS_URL is not set: the reader service cannot reach the charger"
    else:
        why = ""
    try:
        status = service_status(app.config["RFID_SOCKET"])
    except ReaderUnavailable as exc:
        spi = Path("/dev/spidev0.0").exists()
        return Health(spi, configured, False,
                      f"{exc}{'' if spi else '; no SPI device (/dev/spidev0.0)'}{why}")
    return Health(True, configured, True,
                  f"reader service pid {status['pid']} ({status['backend']}) answers{why}")


# The LCD service rewrites its frame every page (LCD_PAGE_SECONDS); older than this: stopped.
LCD_STALE_SECONDS = 60


def lcd(app: Flask) -> Health:
    import time

    from ..hardware.lcd import read_frame

    path = Path(app.config["LCD_FRAME_FILE"])
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        age = None
    if age is not None and age < LCD_STALE_SECONDS:
        frame = read_frame(str(path)) or {}
        return Health(True, True, True, f"the LCD service ({frame.get('backend', 'simulated')})"
                                        f" shows a frame ({age:.0f} s ago)")
    bus = f"/dev/i2c-{app.config['LCD_I2C_PORT']}"
    present = Path(bus).exists()
    return Health(present, True, False, ("" if present else f"no I2C bus ({bus}); ")
                  + "no LCD service runs (flask lcd run)")


def _access_point(app: Flask, mode: str) -> Health:
    missing = _program("hostapd", "dnsmasq")
    conf = Path("/etc/hostapd/constellation.conf")
    configured = conf.exists()
    working = not missing and _process_running("hostapd")
    parts = []
    if missing:
        parts.append(f"not installed: {', '.join(missing)}")
    if not configured:
        parts.append(f"no {conf} (the access_point role writes it, mode {mode})")
    if not working:
        parts.append("hostapd is not running")
    return Health(not missing, configured, working, "; ".join(parts) or f"hostapd runs ({mode})")


def public_wifi(app: Flask) -> Health:
    return _access_point(app, "public")


def ap_router(app: Flask) -> Health:
    return _access_point(app, "router")


def desktop_notifications(app: Flask) -> Health:
    import os

    missing = _program("notify-send")
    bus = bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) or any(Path("/run/user").glob("*/bus"))
    parts = [f"not installed: {', '.join(missing)}"] if missing else []
    if not bus:
        parts.append("no desktop session bus")
    parts.append("the toast service is not part of this version")
    return Health(not missing, bus, False, "; ".join(parts))


def workers(app: Flask) -> Health:
    from .status import worker_count

    if not app.config["REDIS_URL"]:
        return Health(False, False, False, "REDIS_URL is not set: jobs run in the web process")
    count, error = worker_count(app)
    if error:
        return Health(True, True, False, error)
    return Health(True, True, count > 0,
                  f"{count} worker{'s' if count != 1 else ''} registered with Redis")


def nginx(app: Flask) -> Health:
    missing = _program("nginx")
    running = not missing and _process_running("nginx")
    return Health(not missing, Path("/etc/nginx").is_dir(), running,
                  "nginx runs" if running else
                  ("nginx is not installed" if missing else "nginx is not running"))


CHECKS: dict[str, Check] = {
    "rfid": rfid, "lcd": lcd, "public_wifi": public_wifi, "ap_router": ap_router,
    "desktop_notifications": desktop_notifications, "workers": workers, "nginx": nginx,
}


def check(app: Flask, name: str) -> Health:
    try:
        return CHECKS[name](app)
    except Exception as exc:  # noqa: BLE001 - a broken check is an unhealthy feature, not a 500
        return Health(False, False, False, f"the check failed: {exc}")
