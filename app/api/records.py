"""Read endpoints for what chargers and commands recorded, plus firmware upload.

Reservations, configuration keys, firmware files and deployments, diagnostics requests and their
uploaded files, connector status history, the OCPP message log and DataTransfer records. Lists
are paginated and newest first; most take ``?charger=<identity>``.
"""
from __future__ import annotations

import os

from flask import g, request, send_file

from ..models import Reservation
from ..services import files
from ..services import records as rec
from . import bp
from .args import charger_id_arg, charger_or_404, check_id, int_arg, row_or_404
from .auth import can_write
from .errors import ApiError
from .util import paginate, parse_time_arg

MAX_DESCRIPTION = 255


@bp.get("/reservations")
def list_reservations():
    return paginate(rec.reservations(charger_id_arg()), rec.reservation_to_dict)


@bp.get("/reservations/<int:reservation_id>")
def get_reservation(reservation_id: int):
    return rec.reservation_to_dict(row_or_404(Reservation, reservation_id, "reservation"))


@bp.get("/chargers/<path:identity>/configuration")
def charger_configuration(identity: str):
    charger = charger_or_404(identity)
    return paginate(rec.configuration(charger.id), rec.configuration_key_to_dict)


@bp.get("/chargers/<path:identity>/status-history")
def charger_status_history(identity: str):
    charger = charger_or_404(identity)
    return paginate(rec.status_history(charger.id, int_arg("connector_id")),
                    rec.status_notification_to_dict)


@bp.get("/chargers/<path:identity>/messages")
def charger_messages(identity: str):
    charger = charger_or_404(identity)
    stmt = rec.messages(charger.id, direction=request.args.get("direction"),
                        action=request.args.get("action"), since=parse_time_arg("since"))
    return paginate(stmt, rec.message_to_dict)


@bp.get("/firmware")
def list_firmware():
    return paginate(rec.firmware_files(charger_id_arg()), rec.firmware_file_to_dict)


@bp.post("/firmware")
@can_write
def upload_firmware():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "send the firmware as a multipart/form-data field named 'file'")
    description = request.form.get("description") or None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ApiError(400, f"description must be at most {MAX_DESCRIPTION} characters")
    item = files.save_firmware(upload.stream, upload.filename, g.api_user.name, description)
    return rec.firmware_file_to_dict(item), 201


@bp.get("/firmware-deployments")
def list_firmware_deployments():
    stmt = rec.firmware_deployments(charger_id_arg(), request.args.get("status") or None)
    return paginate(stmt, rec.firmware_deployment_to_dict)


@bp.get("/diagnostics")
def list_diagnostics():
    return paginate(rec.diagnostics_requests(charger_id_arg()), rec.diagnostics_request_to_dict)


@bp.get("/diagnostics/files/<int:file_id>")
def download_diagnostics_file(file_id: int):
    item = rec.diagnostics_file(check_id(file_id, "diagnostics file"))
    if item is None:
        raise ApiError(404, f"no diagnostics file {file_id}")
    path = files.diagnostics_path(item)
    if not os.path.exists(path):
        raise ApiError(410, f"diagnostics file {file_id} is recorded but no longer stored")
    return send_file(path, as_attachment=True, download_name=item.filename,
                     mimetype="application/octet-stream")


@bp.get("/data-transfers")
def list_data_transfers():
    stmt = rec.data_transfers(charger_id_arg(), request.args.get("direction") or None)
    return paginate(stmt, rec.data_transfer_to_dict)
