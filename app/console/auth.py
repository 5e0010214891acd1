"""Login and logout, with password guessing throttled per client address and per (address, name).

After ``FREE_ATTEMPTS`` failures for one name from one address (or ``FREE_ADDRESS_ATTEMPTS``
for any names from one address), the next attempt from there is refused with 429 and a
``Retry-After`` until ``delay_for`` has passed since the last failure; it is not checked at all,
so waiting out the delay in parallel gains nothing. Failures are never counted per name alone:
a stranger elsewhere cannot make a user wait. Attempts being checked at the same time are capped
(``MAX_IN_FLIGHT``) per (address, name), per address and per name; beyond it, a 429 too.

The counters live in this process's memory: with one gunicorn worker that is the whole server;
with several workers or hosts each keeps its own (docs/console.md).
"""
from __future__ import annotations

import math
import threading
import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from ..services import users as user_service
from . import ConsoleUser, bp

FREE_ATTEMPTS = 3           # failures for one name from one address before any delay
FREE_ADDRESS_ATTEMPTS = 10  # failures from one address, whatever the names, before any delay
MAX_DELAY = 10.0            # seconds
FORGET_AFTER = 15 * 60      # a quiet quarter of an hour clears a count
# Attempts checked at once. Per name it is above what one address may hold, and a held slot
# lasts one password check, so strangers cannot keep a user out by holding them.
MAX_IN_FLIGHT = {"pair": 1, "address": 2, "name": 4}
MAX_TRACKED = 100_000       # counters kept before quiet ones are pruned


class LoginThrottle:
    """Failure counts with their last time, and attempts in flight, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}
        self._in_flight: dict[str, int] = {}

    def retry_after(self, keys: dict[str, str]) -> float:
        """Seconds before an attempt with these keys may be checked (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for kind, free in (("pair", FREE_ATTEMPTS), ("address", FREE_ADDRESS_ATTEMPTS)):
                count, last = self._failures.get(keys[kind], (0, 0.0))
                if now - last > FORGET_AFTER:
                    self._failures.pop(keys[kind], None)
                    continue
                wait = max(wait, last + delay_for(count, free) - now)
        return wait

    def enter(self, keys: dict[str, str]) -> bool:
        """Take an in-flight slot for each key, or none and False when one is full."""
        with self._lock:
            if any(self._in_flight.get(keys[kind], 0) >= limit
                   for kind, limit in MAX_IN_FLIGHT.items()):
                return False
            for kind in MAX_IN_FLIGHT:
                self._in_flight[keys[kind]] = self._in_flight.get(keys[kind], 0) + 1
            return True

    def leave(self, keys: dict[str, str]) -> None:
        with self._lock:
            for kind in MAX_IN_FLIGHT:
                left = self._in_flight.get(keys[kind], 1) - 1
                if left > 0:
                    self._in_flight[keys[kind]] = left
                else:
                    self._in_flight.pop(keys[kind], None)

    def record(self, keys: dict[str, str], failed: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if failed:
                for kind in ("pair", "address"):
                    count, _ = self._failures.get(keys[kind], (0, 0.0))
                    self._failures[keys[kind]] = (count + 1, now)
                if len(self._failures) > MAX_TRACKED:
                    self._failures = {k: v for k, v in self._failures.items()
                                      if now - v[1] <= FORGET_AFTER}
            else:
                # Success clears the name's count here; the address keeps its own.
                self._failures.pop(keys["pair"], None)


throttle = LoginThrottle()


def client_address() -> str:
    """The client's address; behind a local reverse proxy, from the header it is told to trust.

    ``LOGIN_CLIENT_IP_HEADER`` (e.g. ``X-Real-IP``, which our nginx sets) is only believed on
    connections from the loopback address, where the proxy is: otherwise anyone could send the
    header and pick their own counter.
    """
    header = current_app.config.get("LOGIN_CLIENT_IP_HEADER")
    remote = request.remote_addr or ""
    if header and remote in ("127.0.0.1", "::1") and request.headers.get(header):
        return request.headers[header].split(",")[-1].strip()
    return remote


def _keys(name: str) -> dict[str, str]:
    address, folded = client_address(), name.lower()
    return {"pair": f"pair:{address}\0{folded}", "address": f"address:{address}",
            "name": f"name:{folded}"}


def delay_for(count: int, free: int = FREE_ATTEMPTS) -> float:
    """Seconds to wait after the last of ``count`` recent failures before the next check."""
    if count < free:
        return 0.0
    return min(MAX_DELAY, 2.0 ** (count - free))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would make phishing links look like ours.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("console.dashboard")


def _form(error: str | None, name: str, status: int, headers: dict | None = None):
    return render_template("console/login.html", error=error, name=name,
                           next=request.values.get("next", "")), status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return _form(None, "", 200)
    name = request.form.get("name", "").strip()
    password = request.form.get("password", "")
    keys = _keys(name)
    wait = throttle.retry_after(keys)
    if wait > 0:
        seconds = math.ceil(wait)
        return _form(f"Too many failed attempts: try again in {seconds} s.", name, 429,
                     {"Retry-After": str(seconds)})
    if not throttle.enter(keys):
        return _form("Another login attempt is being checked: try again in a moment.", name,
                     429, {"Retry-After": "1"})
    try:
        user = user_service.authenticate(name, password)
    finally:
        throttle.leave(keys)
    throttle.record(keys, failed=user is None)
    if user is None:
        # The same words whether the name or the password is wrong: no user enumeration.
        return _form("Wrong user name or password, or the account is disabled.", name, 401)
    login_user(ConsoleUser(user))
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        # Ends every session of the user: a copy of this cookie must not log in again.
        user_service.end_sessions(current_user.id)
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("console.login"))
