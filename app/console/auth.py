"""Login and logout, with password guessing throttled per client address and per (address, name).

After ``FREE_ATTEMPTS`` failures for one name from one address (or ``FREE_ADDRESS_ATTEMPTS``
for any names from one address), the next attempt from there is refused with 429 and a
``Retry-After`` until ``delay_for`` has passed since the last failure; it is not checked at all,
so waiting out the delay in parallel gains nothing. Failures are never counted per name alone:
a stranger elsewhere cannot make a user wait. Attempts being checked at the same time are capped
(``MAX_IN_FLIGHT``) per (address, name), per address and per name; beyond it, a 429 too.

The counters are the app's login throttle (``runtime.login_throttle``, console/throttle.py): in
this process's memory without ``REDIS_URL``, in Redis with it, so that failures on one host
count on every other (docs/console.md).
"""
from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from .. import runtime
from ..services import users as user_service
from . import ConsoleUser, bp


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
    throttle = runtime.login_throttle(current_app)
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
