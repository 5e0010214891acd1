"""The REST API under ``/api/v1``: JSON in and out, bearer-token authentication.

Each resource is a module registering routes on ``bp``; errors are JSON ``{"error", "message"}``;
lists are paginated with ``?page=&per_page=`` and answer ``{"items", "page", "per_page", "total"}``.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def init_app(app: Flask) -> None:
    from . import (  # noqa: F401 - hooks and handlers
        auth,
        commands,  # noqa: F401 - routes
        errors,
    )

    for name in ("chargers", "transactions", "tokens", "records", "operations",
                 "station_events", "device_model", "bulk_operations", "alerts", "node", "rfid",
                 "openapi"):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    app.register_blueprint(bp)

    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def _json_for_api_paths(exc: HTTPException):
        # Routing errors (unknown path, wrong method) never reach the blueprint's handlers.
        from flask import jsonify, request

        if request.path.startswith(bp.url_prefix + "/"):
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return exc
