"""Alerts (active first: what needs a look now) and, for admins, the background jobs RQ ran."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import job_status
from ..extensions import db
from ..models import utcnow
from ..services import alerts as alert_service
from ..services.errors import DomainError
from . import admin_only, bp, can_write

SHOWN = 200


@bp.get("/alerts")
def alerts():
    show_cleared = request.args.get("cleared") == "1"
    active = list(db.session.execute(alert_service.query(active=True).limit(SHOWN)).scalars())
    cleared = (list(db.session.execute(alert_service.query(active=False).limit(SHOWN))
                    .scalars()) if show_cleared else [])
    return render_template("console/alerts.html",
                           active=[alert_service.to_dict(a) for a in active],
                           cleared=[alert_service.to_dict(a) for a in cleared],
                           show_cleared=show_cleared)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@can_write
def alert_acknowledge(alert_id: int):
    try:
        alert_service.acknowledge(alert_id, current_user.name, utcnow())
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Alert {alert_id} acknowledged.")
    return redirect(url_for("console.alerts"))


@bp.get("/jobs")
@admin_only
def jobs():
    rows, scheduled, unavailable = [], [], None
    try:
        rows = job_status.recent(current_app)
        scheduled = job_status.schedule(current_app)
    except job_status.JobsUnavailable as exc:
        unavailable = exc.message
    return render_template("console/jobs.html", jobs=rows, schedule=scheduled,
                           unavailable=unavailable)
