"""Files exchanged with chargers: firmware served to them, diagnostics uploaded by them.

Chargers fetch and upload over plain HTTP with an expiring token in the URL (they cannot carry
our API tokens). Files live under ``<instance>/files/``.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import timedelta
from typing import IO

from flask import current_app, url_for

from ..extensions import db
from ..models import DiagnosticsFile, DiagnosticsRequest, FirmwareFile, utcnow

CHUNK = 1 << 16


def files_dir(kind: str) -> str:
    path = os.path.join(current_app.instance_path, "files", kind)
    os.makedirs(path, exist_ok=True)
    return path


def safe_name(name: str | None, default: str) -> str:
    name = os.path.basename(name or "") or default
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:200]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_expiry():
    return utcnow() + timedelta(seconds=current_app.config["FILE_URL_TTL_SECONDS"])


def external_url(endpoint: str, **values) -> str:
    """An absolute URL a charger can reach: PUBLIC_BASE_URL, else the request's host."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _store(stream: IO[bytes], kind: str, filename: str) -> tuple[str, int, str]:
    stored = f"{secrets.token_hex(8)}-{filename}"
    digest, size = hashlib.sha256(), 0
    with open(os.path.join(files_dir(kind), stored), "wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return stored, size, digest.hexdigest()


def save_firmware(stream: IO[bytes], filename: str, uploaded_by: str | None,
                  description: str | None = None) -> FirmwareFile:
    name = safe_name(filename, "firmware.bin")
    stored, size, sha = _store(stream, "firmware", name)
    item = FirmwareFile(filename=name, stored_name=stored, size=size, sha256=sha,
                        uploaded_by=uploaded_by, description=description)
    db.session.add(item)
    db.session.commit()
    return item


def firmware_path(item: FirmwareFile) -> str:
    return os.path.join(files_dir("firmware"), item.stored_name)


def save_diagnostics(request: DiagnosticsRequest, stream: IO[bytes],
                     filename: str | None) -> DiagnosticsFile:
    name = safe_name(filename or request.file_name, f"diagnostics-{request.id}.bin")
    stored, size, sha = _store(stream, "diagnostics", name)
    item = DiagnosticsFile(request_id=request.id, charger_id=request.charger_id, filename=name,
                           stored_name=stored, size=size, sha256=sha)
    request.status = "Uploaded"
    request.updated_at = utcnow()
    db.session.add(item)
    db.session.commit()
    return item


def diagnostics_path(item: DiagnosticsFile) -> str:
    return os.path.join(files_dir("diagnostics"), item.stored_name)
