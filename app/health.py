"""``GET /healthz``: what load balancers, the upgrade command and provisioning check."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from .extensions import db
from .version import current_version

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure makes the node unhealthy
        database = "unreachable"
    finally:
        db.session.rollback()
    status = 200 if database == "ok" else 503
    body = {"status": "ok" if status == 200 else "unhealthy", "database": database,
            "version": current_version()}
    return jsonify(body), status
