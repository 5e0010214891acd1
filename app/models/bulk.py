"""Bulk operations: one version-neutral operation run on many chargers as a background job,
with a bounded number in flight, a result per charger, progress, and cancellation."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# queued: recorded, not started; running; finished: every charger has a result; cancelled:
# stopped on request (the chargers not reached yet are "cancelled"); failed: the job itself
# failed (see ``error``).
BULK_STATUSES = ("queued", "running", "finished", "cancelled", "failed")
# Per charger: waiting, running (its command was sent), completed (the charger answered and
# accepted), rejected (it answered otherwise), error (refused or no answer), cancelled.
RESULT_STATUSES = ("waiting", "running", "completed", "rejected", "error", "cancelled")


class BulkOperation(db.Model):
    __tablename__ = "bulk_operations"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    args = mapped_column(JSON)
    # How the chargers were chosen: {"chargers": [...]} or {"filter": {...}}.
    selection = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    max_in_flight: Mapped[int] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="api")
    # The RQ job running it (None on the embedded default, where a thread runs it).
    job_id: Mapped[str | None] = mapped_column(String(64))
    # The host the operator used, for links a charger follows (a firmware download) when
    # PUBLIC_BASE_URL is not set: a job has no request of its own.
    base_url: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow)
    started_at = mapped_column(UTCDateTime)
    finished_at = mapped_column(UTCDateTime)


class BulkOperationResult(db.Model):
    __tablename__ = "bulk_operation_results"
    __table_args__ = (Index("ix_bulk_operation_results_bulk", "bulk_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_operations.id", ondelete="CASCADE"))
    charger_id: Mapped[int] = mapped_column(ForeignKey("chargers.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    command_id: Mapped[int | None] = mapped_column(
        ForeignKey("commands.id", ondelete="SET NULL"))
    detail: Mapped[str | None] = mapped_column(Text)
    updated_at = mapped_column(UTCDateTime, default=utcnow)
