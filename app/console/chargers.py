"""A charger's page: boot data, connectors and their history, the running transaction, its
configuration (for 2.x: the device model, searchable and editable, with its security events and
reported faults), a form for each command its OCPP version has, the command history, the message
log with a live tail, firmware, diagnostics and reservations.

Commands go through ``services.commands.submit`` exactly as the API's do, recorded with the
user's name and ``source="console"`` (the audit trail of who sent what). The buttons that mean
the same for every version (fetch and change configuration, stop a transaction, cancel a
reservation) run version-neutral operations (``services.operations``), worded by the charger's
version.
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Charger, Command, DeviceVariable, DiagnosticsFile, FirmwareStatus
from ..params import int64, int_arg
from ..services import chargers as charger_service
from ..services import commands as command_service
from ..services import (
    device_model,
    files,
    operator_actions,
    records,
    security_events,
    station_notifications,
)
from ..services import operations as operation_service
from ..services.errors import DomainError
from . import admin_only, bp, can_write, queries, schema_forms


def get_charger(identity: str) -> Charger:
    try:
        return charger_service.get(identity)
    except charger_service.ChargerError:
        abort(404, description=f"There is no charger {identity!r}.")


def version_of(charger: Charger) -> str:
    return charger.ocpp_version or "1.6"


def send(identity: str, action: str, payload: dict[str, Any], *, wait: bool = True,
         options: dict[str, Any] | None = None
         ) -> tuple[Command | None, command_service.CommandRefused | None]:
    """Submit a command as the logged-in user; return it, or why it was refused."""
    try:
        command = command_service.submit(identity, action, payload, wait=wait,
                                         requested_by=current_user.name, source="console",
                                         options=options)
    except command_service.CommandRefused as exc:
        return None, exc
    return command, None


def run_operation(identity: str, name: str, args: dict[str, Any], *, wait: bool = True
                  ) -> tuple[Command | None, DomainError | None]:
    """Run a version-neutral operation as the logged-in user; return its command, or why it
    was refused."""
    try:
        command = operation_service.run(identity, name, args, wait=wait,
                                        requested_by=current_user.name, source="console")
    except DomainError as exc:
        return None, exc
    return command, None


def describe(command: Command) -> str:
    """One sentence on a command's outcome, for a flash message."""
    if command.status == "completed":
        status = (command.response or {}).get("status")
        return f"{command.action}: the charger answered{' ' + status if status else ''}."
    if command.status == "timeout":
        return f"{command.action}: no answer from the charger within {command.timeout:g} s."
    if command.status == "error":
        return (f"{command.action}: the charger answered with an error, {command.error_code}: "
                f"{command.error_description or 'no description'}.")
    return f"{command.action}: sent, waiting for the answer."


def _rows(stmt, limit: int | None = None) -> list:
    return list(db.session.execute(stmt if limit is None else stmt.limit(limit)).scalars())


def _page_data(charger: Charger) -> dict[str, Any]:
    cid = charger.id
    return {
        "charger": charger,
        "state": queries.charger_state(charger),
        "history": _rows(records.status_history(cid), 30),
        "config": _rows(records.configuration(cid)),
        "commands": queries.commands(cid, limit=20),
        "actions": command_service.actions(version_of(charger)),
        "version": version_of(charger),
        "deployments": _rows(records.firmware_deployments(cid), 10),
        "firmware_statuses": _rows(select(FirmwareStatus).where(FirmwareStatus.charger_id == cid)
                                   .order_by(FirmwareStatus.id.desc()), 10),
        "diagnostics": _rows(records.diagnostics_requests(cid), 10),
        "diagnostics_files": _files_by_request(cid),
        "reservations": _rows(records.reservations(cid), 20),
        "firmware_files": _rows(records.firmware_files()),
    }


def _files_by_request(charger_id: int) -> dict[int, list[DiagnosticsFile]]:
    found: dict[int, list[DiagnosticsFile]] = {}
    for item in db.session.execute(select(DiagnosticsFile).where(
            DiagnosticsFile.charger_id == charger_id).order_by(DiagnosticsFile.id)).scalars():
        found.setdefault(item.request_id, []).append(item)
    return found


# The device model can hold thousands of variables: the page shows a search's first ones.
VARIABLES_SHOWN = 200


def _v2_data(charger: Charger, search: str | None) -> dict[str, Any]:
    """What the page shows of a charger that spoke 2.x: its device model (searched), its
    security events and the faults its NotifyEvents reported."""
    found = device_model.variables(charger.id, q=search or None).options(
        selectinload(DeviceVariable.attributes))
    return {
        "variables": _rows(found, VARIABLES_SHOWN),
        "variables_total": db.session.execute(
            select(func.count()).select_from(found.order_by(None).subquery())).scalar_one(),
        "variable_search": search or "",
        "security_events": _rows(security_events.query(charger.id), 10),
        "problems": _rows(station_notifications.events_query(charger.id, problem=True), 10),
    }


def variable_key(v: DeviceVariable) -> str | None:
    """The ``set_configuration`` key of a variable (``Component[.instance]/Variable[.instance]``),
    or None for one on an EVSE, which only a raw SetVariables can address."""
    if v.evse_id is not None:
        return None
    component = v.component_name + (f".{v.component_instance}" if v.component_instance else "")
    variable = v.variable_name + (f".{v.variable_instance}" if v.variable_instance else "")
    return f"{component}/{variable}"


@bp.get("/chargers/<path:identity>")
def charger(identity: str):
    data = _page_data(get_charger(identity))
    if data["version"] != "1.6":
        data.update(_v2_data(data["charger"], request.args.get("vq", "").strip()))
        data["variable_key"] = variable_key
    data["fields"] = {a: schema_forms.fields(data["version"], a) for a in data["actions"]}
    data["transaction_count"] = operator_actions.transaction_count(data["charger"].id)
    return render_template("console/charger.html", **data)


@bp.get("/fragments/charger-live/<path:identity>")
def charger_live(identity: str):
    charger = get_charger(identity)
    return render_template("console/_charger_live.html", charger=charger,
                           state=queries.charger_state(charger))


@bp.get("/fragments/charger-commands/<path:identity>")
def charger_commands(identity: str):
    charger = get_charger(identity)
    return render_template("console/_command_history.html", charger=charger,
                           commands=queries.commands(charger.id, limit=20))


@bp.route("/chargers/<path:identity>/commands/<action>", methods=["GET", "POST"])
def command_form(identity: str, action: str):
    """One command's form; posting it sends the command and shows the reply or the errors."""
    charger = get_charger(identity)
    version = version_of(charger)
    if action not in command_service.actions(version):
        abort(404, description=f"{action} is not a command of OCPP {version}.")
    fields = schema_forms.fields(version, action)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    general_error = None
    status = 200
    command = None
    if request.method == "POST":
        if not current_user.can_write:  # the guard checks too; the rule stays next to the action
            abort(403, description="Your role can look but not send commands.")
        values = {f.name: request.form.get(f.name, "") for f in fields}
        payload, errors = schema_forms.parse(version, action, request.form)
        options = {}
        if action == "UpdateFirmware" and request.form.get("firmware_file_id"):
            options["firmware_file_id"] = request.form.get("firmware_file_id", type=int64)
            values["firmware_file_id"] = request.form["firmware_file_id"]
        if not errors:
            command, refused = send(identity, action, payload, options=options)
            if refused is not None:
                name = schema_forms.field_for_error(refused.details, refused.message)
                status = refused.status
                if refused.status == 422 and name in {f.name for f in fields}:
                    errors[name] = schema_forms.explain(refused.message)
                    general_error = "The charger's schema does not accept this; see the field."
                else:
                    general_error = refused.message[:1].upper() + refused.message[1:] + "."
        else:
            status = 422
            general_error = "Some fields cannot be read; see below."
    firmware_files = []
    if action == "UpdateFirmware":
        firmware_files = _rows(records.firmware_files())
    return render_template("console/command.html", charger=charger, action=action,
                           fields=fields, values=values, errors=errors,
                           general_error=general_error, command=command,
                           firmware_files=firmware_files,
                           outcome=describe(command) if command else None), status


@bp.post("/chargers/<path:identity>/configuration/fetch")
@can_write
def fetch_configuration(identity: str):
    get_charger(identity)
    command, refused = run_operation(identity, "get_configuration", {})
    _flash_outcome(command, refused, "Cannot fetch the configuration")
    return redirect(url_for("console.charger", identity=identity) + "#configuration")


@bp.post("/chargers/<path:identity>/configuration/change")
@can_write
def change_configuration(identity: str):
    get_charger(identity)
    key = request.form.get("key", "")
    value = request.form.get("value", "")
    command, refused = run_operation(identity, "set_configuration", {"key": key, "value": value})
    if command is None:
        flash(f"Cannot change {key}: {schema_forms.explain(refused.message)}.", "error")
    else:
        flash(f"{key} = {value!r}. " + describe(command),
              "info" if command.status == "completed" else "error")
    return redirect(url_for("console.charger", identity=identity) + "#configuration")


def _flash_outcome(command, refused, failure: str) -> None:
    """Say what became of a command sent from a button, or why it was not sent."""
    if command is None:
        flash(f"{failure}: {refused}.", "error")
    else:
        flash(describe(command), "info" if command.status == "completed" else "error")


@bp.post("/chargers/<path:identity>/transactions/<int:transaction_id>/stop")
@can_write
def stop_transaction(identity: str, transaction_id: int):
    get_charger(identity)
    command, refused = run_operation(identity, "stop", {"transaction_id": transaction_id})
    _flash_outcome(command, refused, f"Cannot stop transaction {transaction_id}")
    return redirect(url_for("console.charger", identity=identity))


@bp.post("/chargers/<path:identity>/reservations/<int:reservation_id>/cancel")
@can_write
def cancel_reservation(identity: str, reservation_id: int):
    get_charger(identity)
    command, refused = run_operation(identity, "cancel_reservation",
                                     {"reservation_id": reservation_id})
    _flash_outcome(command, refused, f"Cannot cancel reservation {reservation_id}")
    return redirect(request.form.get("back") or url_for("console.charger", identity=identity))


@bp.get("/chargers/<path:identity>/messages")
def messages(identity: str):
    charger = get_charger(identity)
    direction = request.args.get("direction") or None
    action = request.args.get("action") or None
    text = request.args.get("q") or None
    before = int_arg(request.args, "before")
    rows = queries.messages(charger.id, direction=direction, action=action, text=text,
                            before_id=before, limit=100)
    return render_template("console/messages.html", charger=charger, rows=rows,
                           actions=queries.message_actions(charger.id), direction=direction,
                           action=action, q=text or "",
                           last_id=queries.last_message_id(charger.id))


@bp.get("/diagnostics/files/<int:file_id>")
def diagnostics_download(file_id: int):
    item = records.diagnostics_file(file_id)
    if item is None:
        abort(404, description=f"No diagnostics file {file_id}.")
    return send_file(files.diagnostics_path(item), as_attachment=True,
                     download_name=item.filename)


@bp.post("/chargers/<path:identity>/settings")
@can_write
def charger_settings(identity: str):
    """Description, enabled, registration status and leniency, through the chargers service."""
    get_charger(identity)
    fields = {
        "description": (request.form.get("description") or "").strip() or None,
        "enabled": request.form.get("enabled") == "on",
        "registration_status": request.form.get("registration_status", ""),
        "lenient": request.form.get("lenient") == "on",
    }
    try:
        charger_service.update(identity, fields)
    except charger_service.ChargerError as exc:
        flash(f"Settings not saved: {exc.message}.", "error")
    else:
        flash(f"Settings of {identity} saved.")
    return redirect(url_for("console.charger", identity=identity) + "#settings")


@bp.post("/chargers")
@can_write
def charger_register():
    """Register a charger before it first connects (when unknown chargers are refused)."""
    identity = (request.form.get("identity") or "").strip()
    try:
        charger_service.register(identity, {
            "description": (request.form.get("description") or "").strip() or None})
    except charger_service.ChargerError as exc:
        flash(f"Charger not registered: {exc.message}.", "error")
        return redirect(url_for("console.dashboard") + "#register")
    flash(f"Charger {identity} registered; it can connect now.")
    return redirect(url_for("console.charger", identity=identity))


# Taking a charger out of service (admin only; recorded in the audit trail) --------------------

@bp.post("/chargers/<path:identity>/decommission")
@admin_only
def charger_decommission(identity: str):
    get_charger(identity)
    operator_actions.decommission(identity, actor=current_user.name, source="console")
    flash(f"{identity} is decommissioned: disconnected, refused when it connects and left out "
          "of lists. Its history is kept; recommission it to use it again.")
    return redirect(url_for("console.charger", identity=identity))


@bp.post("/chargers/<path:identity>/recommission")
@admin_only
def charger_recommission(identity: str):
    get_charger(identity)
    try:
        operator_actions.recommission(identity, actor=current_user.name, source="console")
    except operator_actions.ActionError as exc:
        flash(f"Not recommissioned: {exc.message}.", "error")
    else:
        flash(f"{identity} is back in service; it can connect again.")
    return redirect(url_for("console.charger", identity=identity))


@bp.post("/chargers/<path:identity>/delete")
@admin_only
def charger_delete(identity: str):
    get_charger(identity)
    try:
        operator_actions.delete_charger(identity, actor=current_user.name, source="console")
    except operator_actions.ActionError as exc:
        flash(f"Not deleted: {exc.message}.", "error")
        return redirect(url_for("console.charger", identity=identity))
    flash(f"{identity} is deleted.")
    return redirect(url_for("console.dashboard"))
