"""Login and logout, with failed attempts slowed down per client address and per user name.

The failure counter lives in this process's memory: with one gunicorn worker that is the whole
server; with several workers or hosts each keeps its own (docs/console.md). A failure makes the
next attempts from the same address or for the same name wait longer (``delay_for``); the wait
is a cooperative ``gevent.sleep``, so other requests keep being served meanwhile.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..services.users import check_password
from . import ConsoleUser, bp

FREE_ATTEMPTS = 3       # failures before any delay
MAX_DELAY = 10.0        # seconds
FORGET_AFTER = 15 * 60  # a quiet quarter of an hour clears the count
_failures: dict[str, tuple[int, float]] = {}
_lock = threading.Lock()


def _keys(name: str) -> list[str]:
    return [f"ip:{request.remote_addr}", f"user:{name.lower()}"]


def delay_for(count: int) -> float:
    """Seconds to wait before checking an attempt after ``count`` recent failures."""
    if count < FREE_ATTEMPTS:
        return 0.0
    return min(MAX_DELAY, 0.5 * 2 ** (count - FREE_ATTEMPTS))


def _recent_failures(keys: list[str]) -> int:
    now = time.monotonic()
    with _lock:
        counts = []
        for key in keys:
            count, last = _failures.get(key, (0, 0.0))
            if now - last > FORGET_AFTER:
                _failures.pop(key, None)
                count = 0
            counts.append(count)
    return max(counts)


def _record(keys: list[str], failed: bool) -> None:
    with _lock:
        for key in keys:
            if failed:
                count, _ = _failures.get(key, (0, 0.0))
                _failures[key] = (count + 1, time.monotonic())
            elif key.startswith("user:"):
                # Success clears the name's count; the address keeps its own until it goes quiet.
                _failures.pop(key, None)


def _sleep(seconds: float) -> None:
    try:
        import gevent
    except ImportError:  # pragma: no cover - gevent is a runtime dependency
        time.sleep(seconds)
    else:
        gevent.sleep(seconds)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would make phishing links look like ours.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("console.dashboard")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    error = None
    name = ""
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        password = request.form.get("password", "")
        keys = _keys(name)
        wait = delay_for(_recent_failures(keys))
        if wait:
            _sleep(wait)
        user = db.session.execute(select(User).where(User.name == name)).scalar_one_or_none()
        if user is not None and user.active and check_password(user, password):
            _record(keys, failed=False)
            login_user(ConsoleUser(user))
            return redirect(_safe_next(request.form.get("next")))
        _record(keys, failed=True)
        # The same words whether the name or the password is wrong: no user enumeration.
        error = "Wrong user name or password, or the account is disabled."
    return render_template("console/login.html", error=error, name=name,
                           next=request.values.get("next", "")), (401 if error else 200)


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("console.login"))
