"""``GET /healthz``: what load balancers, the upgrade command and provisioning check.

``admission`` reports this process's handshake admission counters (transport/admission.py); a
refusing node stays healthy (200): it is busy, not broken.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from . import runtime
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
            "version": current_version(),
            "admission": runtime.admission(current_app).stats()}
    return jsonify(body), status
