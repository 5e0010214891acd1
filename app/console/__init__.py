"""The operator console: server-rendered pages for people, on the same services as the API.

``init_app`` binds Flask-Login (the ``users`` table, session cookies) and Flask-WTF's CSRF
protection, and registers the ``console`` blueprint under ``/console`` and the optional public
status pages under ``/status``. Every console view needs a logged-in user; changing anything
needs the ``operator`` or ``admin`` role, users need ``admin`` (``roles``), checked here for every
request and not only hidden in menus.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
public_bp = Blueprint("public", __name__, template_folder="templates")
login_manager = LoginManager()
csrf = CSRFProtect()

WRITE_ROLES = ("admin", "operator")
# Reachable without a session: the login form.
OPEN_ENDPOINTS = {"console.login"}
# Forms anyone logged in may post, whatever the role.
ANY_ROLE_POSTS = {"console.login", "console.logout"}


class ConsoleUser(UserMixin):
    """What Flask-Login keeps per request: a detached copy of the ``User`` row's fields."""

    def __init__(self, user: Any) -> None:
        self.id = user.id
        self.name = user.name
        self.role = user.role
        self.active = user.active
        self.session_version = user.session_version or 0

    def get_id(self) -> str:
        # What the session cookie holds: a cookie made before the version changed (logout,
        # password change) names a version the user no longer has, and no longer logs in.
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@login_manager.user_loader
def _load_user(user_id: str) -> ConsoleUser | None:
    from ..extensions import db
    from ..models import User

    row_id, _, version = user_id.partition(".")
    try:
        user = db.session.get(User, int(row_id))
        version_number = int(version)
    except (ValueError, OverflowError):
        return None
    if user is None or not user.active:
        return None  # a deactivated user is logged out at the next request
    if version_number != (user.session_version or 0):
        return None  # revoked: logged out since, or the password changed
    return ConsoleUser(user)


def roles(*allowed: str) -> Callable:
    """Allow the view only to users with one of ``allowed`` roles (403 otherwise)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403, description=f"This needs the role {' or '.join(allowed)}; "
                                       f"you are {current_user.role}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


can_write = roles(*WRITE_ROLES)
admin_only = roles("admin")


@bp.before_request
def _guard() -> Any:
    """Login, role and CSRF checks for every console request, before any view runs."""
    if request.endpoint in OPEN_ENDPOINTS and request.method == "GET":
        return None
    if request.method in ("GET", "HEAD", "OPTIONS"):
        if not current_user.is_authenticated and request.endpoint not in OPEN_ENDPOINTS:
            # A page's script must not paste the login form into a fragment: it gets a 401.
            if request.headers.get("X-Requested-With") == "fetch" \
                    or request.endpoint == "console.event_stream":
                abort(401, description="Log in again.")
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return None
    # Changing anything: role first (a viewer gets a clear 403), then the CSRF token.
    if request.endpoint not in ANY_ROLE_POSTS:
        if not current_user.is_authenticated:
            abort(401, description="Log in first.")
        if not current_user.can_write:
            abort(403, description="Your role (viewer) can look but not change anything.")
    csrf.protect()
    return None


# Security headers (CSP: everything the console loads is its own) are set app-wide: headers.py.


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError):
    return render_template("console/error.html", code=400, title="Form expired",
                           message="The form was too old or not from this site "
                                   f"({exc.description}). Reload the page and try again."), 400


def _error_page(code: int, title: str):
    def handler(exc: Any):
        return render_template("console/error.html", code=code, title=title,
                               message=getattr(exc, "description", str(exc))), code
    return handler


for _code, _title in ((403, "Not allowed"), (404, "Not found"), (400, "Bad request"),
                      (401, "Log in first")):
    bp.register_error_handler(_code, _error_page(_code, _title))


def _env_bool(name: str) -> bool | None:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    return raw.strip().lower() in ("1", "true", "yes", "on")


def init_app(app: Flask) -> None:
    """Bind login, CSRF and cookie settings; register the console and public blueprints."""
    from . import (  # noqa: F401 - each module adds its routes to bp
        alerts,
        auth,
        bulk,
        chargers,
        dashboard,
        filters,
        node,
        operations,
        public,
        tokens,
        transactions,
        users,
    )

    # CSRF is checked by the console's own guard, so the API (bearer tokens), the OCPP
    # websocket and chargers' file uploads are untouched.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    secure = _env_bool("SESSION_COOKIE_SECURE")
    if secure is not None:
        app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    app.config["REMEMBER_COOKIE_SECURE"] = app.config.get("SESSION_COOKIE_SECURE", False)
    app.config.setdefault("LOGIN_CLIENT_IP_HEADER",
                          os.environ.get("LOGIN_CLIENT_IP_HEADER", "").strip() or None)
    public_pages = _env_bool("PUBLIC_STATUS_PAGES")
    app.config.setdefault("PUBLIC_STATUS_PAGES", bool(public_pages))

    login_manager.login_view = "console.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(public_bp)

    @app.get("/")
    def _home():
        return redirect(url_for("console.dashboard"))

    @app.context_processor
    def _console_globals() -> dict[str, Any]:
        return {"current_user": current_user}
