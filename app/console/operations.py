"""Fleet-wide operations: reservations, firmware (upload, deploy, follow), diagnostics
(request, download) and status and security events.

Every action is a command through ``services.commands`` (with its stored effects in
``command_effects``) or a file through ``services.files``, as in the API. Reservations,
firmware deployments and diagnostics requests are version-neutral operations
(``services.operations``): each charger gets its own version's command.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import Charger, DiagnosticsFile, FirmwareFile
from ..models.command import COMMAND_STATUSES
from ..params import int64, page_arg
from ..services import audit, bulk_operations, files, records
from ..services.commands import actions as command_actions
from ..services.errors import DomainError
from . import bp, can_write, queries
from .chargers import describe, run_operation, send


def _identities() -> dict[int, str]:
    return dict(db.session.execute(select(Charger.id, Charger.identity)).all())


def _chargers(connected_only: bool = False) -> list[Charger]:
    stmt = select(Charger).where(Charger.decommissioned_at.is_(None)).order_by(Charger.identity)
    if connected_only:
        stmt = stmt.where(Charger.session_owner.is_not(None))
    return list(db.session.execute(stmt).scalars())


def send_to_many(identities: list[str], action: str, payload: dict, *,
                 options: dict | None = None) -> tuple[list[str], list[str]]:
    """Send one command to several chargers without waiting; return sent and refused lines."""
    sent, refused = [], []
    for identity in identities:
        command, error = send(identity, action, dict(payload), wait=False, options=options)
        if command is None:
            refused.append(f"{identity}: {error}")
        else:
            sent.append(identity)
    return sent, refused


def run_on_many(identities: list[str], name: str, args: dict) -> tuple[str, list[str],
                                                                       list[str]]:
    """Run one operation on several chargers without waiting; return the actions it was
    worded as (one per version in the fleet, e.g. "GetDiagnostics/GetLog"), and the sent and
    refused lines."""
    actions: list[str] = []
    sent, refused = [], []
    for identity in identities:
        command, error = run_operation(identity, name, dict(args), wait=False)
        if command is None:
            refused.append(f"{identity}: {error}")
            continue
        sent.append(identity)
        if command.action not in actions:
            actions.append(command.action)
    return "/".join(actions) or name, sent, refused


def flash_many(action: str, sent: list[str], refused: list[str]) -> None:
    if sent:
        flash(f"{action} sent to {', '.join(sent)}; the outcome shows below as it arrives.")
    for line in refused:
        flash(f"{action} not sent to {line}.", "error")


# Reservations ------------------------------------------------------------------------------

@bp.route("/reservations", methods=["GET", "POST"])
def reservations():
    errors: dict[str, str] = {}
    values = {k: request.form.get(k, "") for k in ("charger", "connector", "id_tag", "expiry")}
    if request.method == "POST":
        if not current_user.can_write:
            abort(403, description="Your role can look but not make reservations.")
        if not values["charger"]:
            errors["charger"] = "Choose a charger."
        if not values["connector"].isdigit():
            errors["connector"] = "Enter the connector number (0 for any connector)."
        if not values["id_tag"]:
            errors["id_tag"] = "Enter the token the reservation is for."
        expiry = None
        try:
            expiry = datetime.fromisoformat(values["expiry"])
            expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
        except ValueError:
            errors["expiry"] = "Enter when the reservation ends, e.g. 2026-01-31T18:00 (UTC)."
        if not errors:
            command, refused = run_operation(values["charger"], "reserve", {
                "connector_id": int(values["connector"]), "token": values["id_tag"],
                "expires_at": expiry.astimezone(UTC).isoformat()})
            if command is None:
                flash(f"Reservation not made: {refused}.", "error")
            else:
                flash(describe(command),
                      "info" if command.status == "completed" else "error")
                return redirect(url_for("console.reservations"))
    rows = list(db.session.execute(records.reservations().limit(200)).scalars())
    return render_template("console/reservations.html", reservations=rows,
                           identities=_identities(), chargers=_chargers(connected_only=True),
                           values=values, errors=errors, show_charger=True
                           ), (422 if errors else 200)


# Firmware ----------------------------------------------------------------------------------

def _deployments() -> list:
    return list(db.session.execute(records.firmware_deployments().limit(100)).scalars())


@bp.get("/firmware")
def firmware():
    return render_template(
        "console/firmware.html",
        firmware_files=list(db.session.execute(records.firmware_files()).scalars()),
        deployments=_deployments(), identities=_identities(),
        chargers=_chargers(connected_only=True))


@bp.get("/fragments/deployments")
def deployments_fragment():
    return render_template("console/_deployments.html", deployments=_deployments(),
                           identities=_identities())


@bp.post("/firmware/upload")
@can_write
def firmware_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a firmware file to upload.", "error")
        return redirect(url_for("console.firmware"))
    item = files.save_firmware(upload.stream, upload.filename, current_user.name,
                               request.form.get("description") or None)
    flash(f"Uploaded {item.filename} ({item.size} bytes, SHA-256 {item.sha256[:12]}…).")
    return redirect(url_for("console.firmware"))


@bp.post("/firmware/deploy")
@can_write
def firmware_deploy():
    file_id = request.form.get("firmware_file_id", type=int64)
    targets = request.form.getlist("chargers")
    if file_id is None or db.session.get(FirmwareFile, file_id) is None:
        flash("Choose a firmware file to deploy.", "error")
    elif not targets:
        flash("Choose at least one charger.", "error")
    else:
        # A rollout is a bulk operation: a few chargers at a time, each with its result.
        try:
            bulk = bulk_operations.create("update_firmware", {"firmware_file_id": file_id},
                                          {"chargers": targets},
                                          requested_by=current_user.name, source="console")
        except DomainError as exc:
            flash(exc.message, "error")
            return redirect(url_for("console.firmware"))
        bulk_operations.start(bulk)
        flash(f"Firmware rollout to {len(targets)} charger(s) started.")
        return redirect(url_for("console.bulk_operation", bulk_id=bulk.id))
    return redirect(url_for("console.firmware"))


# Diagnostics -------------------------------------------------------------------------------

def _diagnostics() -> dict:
    requests = list(db.session.execute(records.diagnostics_requests().limit(100)).scalars())
    files_by_request: dict[int, list[DiagnosticsFile]] = {}
    if requests:
        for item in db.session.execute(
                select(DiagnosticsFile).where(DiagnosticsFile.request_id.in_(
                    [r.id for r in requests])).order_by(DiagnosticsFile.id)).scalars():
            files_by_request.setdefault(item.request_id, []).append(item)
    return {"requests": requests, "files_by_request": files_by_request,
            "identities": _identities()}


@bp.get("/diagnostics")
def diagnostics():
    return render_template("console/diagnostics.html", chargers=_chargers(connected_only=True),
                           **_diagnostics())


@bp.get("/fragments/diagnostics")
def diagnostics_fragment():
    return render_template("console/_diagnostics_requests.html", **_diagnostics())


@bp.post("/diagnostics/request")
@can_write
def diagnostics_request():
    targets = request.form.getlist("chargers")
    if not targets:
        flash("Choose at least one charger.", "error")
    else:
        label, sent, refused = run_on_many(targets, "upload_logs", {})
        flash_many(label, sent, refused)
    return redirect(url_for("console.diagnostics"))


# Status and security events ----------------------------------------------------------------

@bp.get("/events/status")
def status_events():
    identity = request.args.get("charger") or None
    everything = request.args.get("all") == "1"
    rows = queries.status_events(limit=300, identity=identity, errors_only=not everything)
    return render_template("console/status_events.html", rows=rows, identity=identity or "",
                           everything=everything)


# Audit: commands across chargers ----------------------------------------------------------

AUDIT_PER_PAGE = 100


@bp.get("/commands")
def command_audit():
    args = {k: (request.args.get(k) or "").strip()
            for k in ("user", "charger", "action", "status")}
    page = page_arg(request.args)
    charger_id = None
    error = None
    if args["charger"]:
        charger_id = db.session.execute(select(Charger.id).where(
            Charger.identity == args["charger"])).scalar_one_or_none()
        if charger_id is None:
            error = f"There is no charger {args['charger']!r}."
    rows, total = [], 0
    if error is None:
        stmt = queries.command_log(user=args["user"] or None, charger_id=charger_id,
                                   action=args["action"] or None, status=args["status"] or None)
        total = db.session.execute(select(func.count()).select_from(
            stmt.order_by(None).subquery())).scalar_one()
        rows = list(db.session.execute(stmt.limit(AUDIT_PER_PAGE)
                                       .offset((page - 1) * AUDIT_PER_PAGE)).scalars())
    query = {k: v for k, v in args.items() if v}
    return render_template("console/commands.html", commands=rows, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PER_PAGE)), args=args, query=query,
                           error=error, identities=_identities(),
                           statuses=COMMAND_STATUSES,
                           audit_events=list(db.session.execute(
                               audit.events(charger=args["charger"] or None,
                                            actor=args["user"] or None).limit(50)).scalars()),
                           actions=command_actions())
