"""The node page: role, version and channel, features with their health (admins switch them),
network and services, the LCD's preview and operators' messages to it, and the RFID reader's
cards waiting for approval and recent scans."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..node import status
from ..services import node_features, node_messages
from ..services import rfid as rfid_service
from ..services.errors import DomainError
from . import admin_only, bp, can_write

RECENT_SCANS = 50
_STATES = {"on": True, "off": False, "default": None}


@bp.get("/node")
def node():
    scans = db.session.execute(rfid_service.query().limit(RECENT_SCANS)).scalars()
    return render_template("console/node.html", node=status.node(current_app),
                           messages=[node_messages.to_dict(m) for m in node_messages.active()],
                           pending=rfid_service.pending(),
                           scans=[rfid_service.to_dict(s) for s in scans])


@bp.post("/node/features/<name>")
@admin_only
def node_feature(name: str):
    state = request.form.get("state", "")
    try:
        if state not in _STATES:
            raise node_features.FeatureError("choose on, off or default")
        node_features.switch(name, _STATES[state], current_user.name)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Feature {name}: {state}.")
    return redirect(url_for("console.node"))


@bp.post("/node/cards/<uid>")
@can_write
def node_card(uid: str):
    decision = request.form.get("decision")
    try:
        if decision not in ("approve", "reject"):
            raise rfid_service.ScanError("choose approve or reject")
        rfid_service.decide(uid, decision == "approve", current_user.name)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(f"Card {uid} {'approved' if decision == 'approve' else 'rejected'}.")
    return redirect(url_for("console.node"))


@bp.post("/node/messages")
@can_write
def node_message_post():
    try:
        node_messages.post(request.form.get("text"), request.form.get("minutes"),
                           current_user.name)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("Message sent to the display.")
    return redirect(url_for("console.node"))


@bp.post("/node/messages/<int:message_id>/withdraw")
@can_write
def node_message_withdraw(message_id: int):
    try:
        node_messages.withdraw(message_id)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash("Message withdrawn.")
    return redirect(url_for("console.node"))
