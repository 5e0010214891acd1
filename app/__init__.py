"""Constellation: a charging-station management system (CSMS) for OCPP chargers.

``create_app`` is the application factory; ``wsgi.py`` exposes its result to gunicorn and the
Flask CLI. Each resource binds itself with ``init_app`` and each concern is a blueprint.
"""
from __future__ import annotations

import logging
import os

from flask import Flask

from .config import load_config
from .extensions import db, migrate


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=load_config()["INSTANCE_DIR"])
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from . import models  # noqa: F401 - registers the tables on db.metadata

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
                     render_as_batch=True)
    with app.app_context():
        from .storage.sqlite import configure_sqlite

        configure_sqlite(app, db.engine)

    from . import api, cli, console, files_http, health, worker_cli
    from .transport import websocket

    app.register_blueprint(health.bp)
    app.register_blueprint(worker_cli.bp)
    app.register_blueprint(cli.bp)
    app.register_blueprint(files_http.bp)
    api.init_app(app)
    console.init_app(app)  # operator console: login, CSRF, pages under /console
    websocket.init_app(app)
    return app
