"""Files exchanged with chargers: firmware served to them, diagnostics uploaded by them.

Chargers fetch and upload over plain HTTP with an expiring token in the URL (they cannot carry
our API tokens); an upload token takes one upload. Files live under ``<instance>/files/``, and
a failed upload leaves nothing there.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO

from flask import current_app, url_for
from sqlalchemy import or_, select, update

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
    """Copy ``stream`` into a new file; on any failure (a 413 past MAX_UPLOAD_BYTES, a client
    that went away, a full disk) the partial file is removed before the error goes on."""
    stored = f"{secrets.token_hex(8)}-{filename}"
    path = os.path.join(files_dir(kind), stored)
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
    except BaseException:
        _remove(path)
        raise
    return stored, size, digest.hexdigest()


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


@contextmanager
def _recorded_or_removed(kind: str, stored: str) -> Iterator[None]:
    """Record a stored file in the database inside; if that fails, no orphan file is left."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove(os.path.join(files_dir(kind), stored))
        raise


class UploadSpent(Exception):
    """The upload link was used already: it takes one upload."""


def save_firmware(stream: IO[bytes], filename: str, uploaded_by: str | None,
                  description: str | None = None) -> FirmwareFile:
    name = safe_name(filename, "firmware.bin")
    stored, size, sha = _store(stream, "firmware", name)
    with _recorded_or_removed("firmware", stored):
        item = FirmwareFile(filename=name, stored_name=stored, size=size, sha256=sha,
                            uploaded_by=uploaded_by, description=description)
        db.session.add(item)
    return item


def firmware_path(item: FirmwareFile) -> str:
    return os.path.join(files_dir("firmware"), item.stored_name)


def upload_spent(request: DiagnosticsRequest) -> bool:
    """Whether the request's upload link has taken its one upload."""
    return db.session.execute(select(DiagnosticsFile.id).where(
        DiagnosticsFile.request_id == request.id).limit(1)).first() is not None


def save_diagnostics(request: DiagnosticsRequest, stream: IO[bytes],
                     filename: str | None) -> DiagnosticsFile:
    """Store the upload and spend the link (``UploadSpent`` if another upload got it first)."""
    name = safe_name(filename or request.file_name, f"diagnostics-{request.id}.bin")
    stored, size, sha = _store(stream, "diagnostics", name)
    now = utcnow()
    with _recorded_or_removed("diagnostics", stored):
        # The link takes one upload: claim it by ending its validity now, conditionally on the
        # row itself, so of two concurrent uploads exactly one wins (also on PostgreSQL).
        claimed = db.session.execute(
            update(DiagnosticsRequest)
            .where(DiagnosticsRequest.id == request.id,
                   or_(DiagnosticsRequest.token_expires_at.is_(None),
                       DiagnosticsRequest.token_expires_at > now))
            .values(token_expires_at=now, status="Uploaded", updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            raise UploadSpent("this upload link was used already or has expired")
        item = DiagnosticsFile(request_id=request.id, charger_id=request.charger_id,
                               filename=name, stored_name=stored, size=size, sha256=sha)
        db.session.add(item)
    return item


def diagnostics_path(item: DiagnosticsFile) -> str:
    return os.path.join(files_dir("diagnostics"), item.stored_name)
