"""HTTP endpoints chargers use with the expiring tokens the commands handed them.

``GET /files/firmware/<token>/<filename>``: the firmware of an UpdateFirmware.
``POST`` or ``PUT /files/diagnostics/<token>[/<filename>]``: the upload of a GetDiagnostics
(raw body, or a multipart form with a ``file`` field); the link takes one upload.
"""
from __future__ import annotations

from flask import Blueprint, abort, request, send_file
from sqlalchemy import select

from .extensions import db
from .models import DiagnosticsRequest, FirmwareDeployment, FirmwareFile, utcnow
from .services import files

bp = Blueprint("files", __name__, url_prefix="/files")


@bp.get("/firmware/<token>/<filename>")
def firmware_download(token: str, filename: str):
    deployment = db.session.execute(select(FirmwareDeployment).where(
        FirmwareDeployment.token == token)).scalar_one_or_none()
    if deployment is None or deployment.firmware_file_id is None:
        abort(404)
    if deployment.token_expires_at is not None and deployment.token_expires_at < utcnow():
        abort(410, description="this download link has expired")
    firmware = db.session.get(FirmwareFile, deployment.firmware_file_id)
    deployment.downloads += 1
    db.session.commit()
    return send_file(files.firmware_path(firmware), as_attachment=True,
                     download_name=firmware.filename, mimetype="application/octet-stream")


@bp.route("/diagnostics/<token>", methods=["POST", "PUT"])
@bp.route("/diagnostics/<token>/<filename>", methods=["POST", "PUT"])
def diagnostics_upload(token: str, filename: str | None = None):
    diag = db.session.execute(select(DiagnosticsRequest).where(
        DiagnosticsRequest.token == token)).scalar_one_or_none()
    if diag is None:
        abort(404)
    # Refused before a byte is read: a spent or expired link must not cost disk space.
    if files.upload_spent(diag):
        abort(410, description="this upload link was used already (it takes one upload)")
    if diag.token_expires_at is not None and diag.token_expires_at <= utcnow():
        abort(410, description="this upload link has expired")
    try:
        upload = request.files.get("file")
        if upload is not None:
            stored = files.save_diagnostics(diag, upload.stream, filename or upload.filename)
        else:
            stored = files.save_diagnostics(diag, request.stream, filename)
    except files.UploadSpent as exc:
        abort(410, description=str(exc))
    return {"id": stored.id, "filename": stored.filename, "size": stored.size,
            "sha256": stored.sha256}, 201
