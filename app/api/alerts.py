"""Alerts raised by the scheduled jobs (a charger gone silent), and background job status."""
from __future__ import annotations

from flask import current_app, g

from .. import job_status
from ..models import utcnow
from ..services import alerts
from . import bp
from .args import bool_arg, charger_id_arg, check_id
from .auth import can_write, require_role
from .util import paginate


@bp.get("/alerts")
def list_alerts():
    return paginate(alerts.query(charger_id_arg(), bool_arg("active")), alerts.to_dict)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@can_write
def acknowledge_alert(alert_id: int):
    alert = alerts.acknowledge(check_id(alert_id, "alert"), g.api_user.name, utcnow())
    return alerts.to_dict(alert)


@bp.get("/jobs/<job_id>")
@require_role("admin")
def get_job(job_id: str):
    return job_status.get(current_app, job_id)
