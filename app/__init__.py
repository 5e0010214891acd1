"""Constellation: a charging-station management system (CSMS) for OCPP chargers.

``create_app`` is the application factory; ``wsgi.py`` exposes its result to gunicorn and the
Flask CLI. Each resource binds itself with ``init_app`` and each concern is a blueprint.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.engine import make_url

from . import strictjson
from .config import load_config
from .extensions import db, migrate, sock
from .params import row_id_converter


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON (``strictjson``): request bodies in strict JSON, else
    ``request.get_json`` fails as for any bad JSON; responses never with NaN or Infinity."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strictjson.loads_text(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return strictjson.dumps(obj, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    """The app; raises ``startup.StartupError`` when the settings or the database are unusable."""
    from .config import ConfigError
    from .startup import StartupError, check_database

    try:
        config = load_config()
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    app = Flask(__name__, instance_path=config["INSTANCE_DIR"])
    app.json = StrictJSONProvider(app)
    app.config.update(config)
    if overrides:
        app.config.update(overrides)
    # Every <int:...> in a route is a row id: beyond what a primary key holds in this database
    # (int64 on SQLite, int32 on PostgreSQL) it matches no row (404), not a 500.
    app.url_map.converters["int"] = row_id_converter(
        make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name())
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import models  # noqa: F401 - registers the tables on db.metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True)
    sock.init_app(app)
    from .console.throttle import make_throttle
    from .events import make_bus
    from .ocpp.supported import build_registry
    from .transport.registry import Registry

    # Process-wide resources, wired here and found through ``runtime`` (never module globals).
    app.extensions["ocpp_versions"] = build_registry()
    app.extensions["constellation.registry"] = Registry()
    app.extensions["constellation.router"] = _router(app, app.extensions["constellation.registry"])
    app.extensions["constellation.admission"] = _admission(app)
    # In-process without REDIS_URL; with it, shared by every process and host (Redis).
    app.extensions["constellation.events"] = make_bus(app.config)
    app.extensions["constellation.login_throttle"] = make_throttle(app.config)
    with app.app_context():
        from .storage.sqlite import configure_sqlite

        configure_sqlite(app, db.engine)
        check_database(db.engine)  # every command and the server need it: fail in one line

    from . import api, cli, console, files_http, headers, health, lcd_cli, rfid_cli, worker_cli
    from .transport import websocket

    app.register_blueprint(health.bp)
    app.register_blueprint(worker_cli.bp)
    app.register_blueprint(cli.bp)
    app.register_blueprint(rfid_cli.bp)
    app.register_blueprint(lcd_cli.bp)
    app.register_blueprint(files_http.bp)
    api.init_app(app)
    console.init_app(app)  # operator console: login, CSRF, pages under /console
    websocket.init_app(app)
    headers.init_app(app)  # CSP, framing, nosniff, referrer on every response
    return app


def _admission(app: Flask):
    """Handshake admission, reading this process's writer backlog (docs/configuration.md)."""
    from . import runtime
    from .transport.admission import AdmissionPolicy

    return AdmissionPolicy(max_backlog=app.config["OCPP_ADMISSION_MAX_BACKLOG"],
                           max_pending=app.config["OCPP_ADMISSION_MAX_PENDING_HANDSHAKES"],
                           retry_after=app.config["OCPP_ADMISSION_RETRY_AFTER"],
                           backlog=lambda: runtime.writer_backlog(app))


def _router(app: Flask, registry):
    """Through Redis when ``REDIS_URL`` is set (several processes or hosts), else in-process."""
    from .services.routing import LocalRouter

    if app.config.get("REDIS_URL"):
        from .services.redis_routing import RedisRouter

        return RedisRouter(app, registry, app.config["REDIS_URL"])
    return LocalRouter(app, registry)
