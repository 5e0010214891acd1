"""Bulk operations in the console: start one operation on many chargers, follow its progress
bar and per-charger results live, cancel it (``services/bulk_operations.py``, as the API)."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Charger
from ..services import bulk_operations as bulk_service
from ..services import operations
from ..services.errors import DomainError
from . import bp, can_write


def _connected() -> list[str]:
    return list(db.session.execute(
        select(Charger.identity).where(Charger.session_owner.is_not(None),
                                       Charger.decommissioned_at.is_(None))
        .order_by(Charger.identity)).scalars())


@bp.get("/bulk")
def bulk_operations():
    recent = [bulk_service.to_dict(b) for b in db.session.execute(
        bulk_service.list_query().limit(50)).scalars()]
    return render_template("console/bulk.html", recent=recent, chargers=_connected(),
                           operations=operations.catalogue())


@bp.post("/bulk")
@can_write
def bulk_start():
    raw_args = request.form.get("args", "").strip() or "{}"
    try:
        args = json.loads(raw_args)
    except ValueError as exc:
        flash(f"The arguments are not JSON: {exc}", "error")
        return redirect(url_for("console.bulk_operations"))
    if request.form.get("target") == "all":
        selection: dict = {"filter": {"connected": True}}
    else:
        selection = {"chargers": request.form.getlist("chargers")}
    try:
        in_flight = int(request.form.get("max_in_flight") or bulk_service.DEFAULT_IN_FLIGHT)
    except ValueError:
        in_flight = 0  # refused below, with the reason
    try:
        bulk = bulk_service.create(request.form.get("operation", ""), args, selection,
                                   max_in_flight=in_flight, requested_by=current_user.name,
                                   source="console")
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("console.bulk_operations"))
    bulk_service.start(bulk)
    return redirect(url_for("console.bulk_operation", bulk_id=bulk.id))


def _detail(bulk_id: int) -> dict:
    try:
        bulk = bulk_service.get(bulk_id)
    except DomainError:
        abort(404)
    results = list(db.session.execute(bulk_service.results_query(bulk_id).limit(500)).scalars())
    return {"bulk": bulk_service.to_dict(bulk), "results": results}


@bp.get("/bulk/<int:bulk_id>")
def bulk_operation(bulk_id: int):
    return render_template("console/bulk_operation.html", **_detail(bulk_id))


@bp.get("/fragments/bulk/<int:bulk_id>")
def bulk_fragment(bulk_id: int):
    return render_template("console/_bulk_progress.html", **_detail(bulk_id))


@bp.post("/bulk/<int:bulk_id>/cancel")
@can_write
def bulk_cancel(bulk_id: int):
    try:
        bulk_service.cancel(bulk_id)
        flash("Cancelled: no new charger is started; commands already sent finish.")
    except DomainError as exc:
        flash(exc.message, "error")
    return redirect(url_for("console.bulk_operation", bulk_id=bulk_id))
