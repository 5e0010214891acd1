"""One version-neutral operation on many chargers: a firmware rollout, a configuration change,
publishing the local list, a reset.

``create`` checks the operation and its arguments once, resolves the chargers (a list of
identities, or a filter) and records a result row per charger; ``start`` hands the run to an
RQ worker when Redis is configured (``jobs.run_bulk_operation``), else to a thread of this
process. ``run`` sends through ``services.operations`` (and so the command service and its
router: no job holds a socket) with at most ``max_in_flight`` chargers at a time, records each
charger's outcome as it comes, and stops taking new chargers once ``cancel`` is asked.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import BulkOperation, BulkOperationResult, Charger, Command, utcnow
from ..models.base import isoformat
from . import operations
from .errors import DomainError

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 100
DEFAULT_IN_FLIGHT = 10
MAX_CHARGERS = 20000
# What a charger's answer says when it took the command (1.6 and 2.x words); an answer
# without a status (GetConfiguration, a 1.6 UpdateFirmware) is taken too.
TAKEN = frozenset({"Accepted", "Scheduled", "RebootRequired", "AcceptedCanceled"})
FILTERS = ("connected", "ocpp_version", "vendor", "model", "firmware_version")
results_table = BulkOperationResult.__table__


class BulkError(DomainError):
    """A bulk operation that cannot be created or changed as asked."""


def _select_chargers(selection: dict[str, Any]) -> list[Charger]:
    in_service = Charger.decommissioned_at.is_(None)
    if "chargers" in selection:
        wanted = selection["chargers"]
        if (not isinstance(wanted, list) or not wanted
                or not all(isinstance(i, str) and i for i in wanted)):
            raise BulkError("chargers must be a non-empty list of identities")
        found = {c.identity: c for c in db.session.execute(
            select(Charger).where(Charger.identity.in_(set(wanted)), in_service)).scalars()}
        missing = [i for i in dict.fromkeys(wanted) if i not in found]
        if missing:
            raise BulkError(f"no charger {', '.join(map(repr, missing[:10]))}", 404)
        return [found[i] for i in dict.fromkeys(wanted)]
    chosen = selection.get("filter")
    if not isinstance(chosen, dict):
        raise BulkError("give chargers (a list of identities) or filter (an object)")
    unknown = sorted(set(chosen) - set(FILTERS))
    if unknown:
        raise BulkError(f"unknown filter {', '.join(unknown)}; filters: {', '.join(FILTERS)}")
    stmt = select(Charger).where(in_service, Charger.enabled.is_(True))
    if "connected" in chosen:
        if not isinstance(chosen["connected"], bool):
            raise BulkError("filter connected must be true or false")
        owner = Charger.session_owner
        stmt = stmt.where(owner.is_not(None) if chosen["connected"] else owner.is_(None))
    for name in ("ocpp_version", "vendor", "model", "firmware_version"):
        if name in chosen:
            if not isinstance(chosen[name], str):
                raise BulkError(f"filter {name} must be a string")
            stmt = stmt.where(getattr(Charger, name) == chosen[name])
    return list(db.session.execute(stmt.order_by(Charger.identity)).scalars())


def create(operation: str, args: dict[str, Any] | None, selection: dict[str, Any], *,
           max_in_flight: int | None = None, requested_by: str | None = None,
           source: str = "api") -> BulkOperation:
    """Record a bulk operation and its chargers (not started). Raises DomainError: 404 an
    unknown operation or charger, 400 a wrong argument, 422 no charger selected."""
    operations.check_arguments(operation, args)
    if max_in_flight is None:
        max_in_flight = DEFAULT_IN_FLIGHT
    if not isinstance(max_in_flight, int) or isinstance(max_in_flight, bool) or not (
            1 <= max_in_flight <= MAX_IN_FLIGHT):
        raise BulkError(f"max_in_flight must be a whole number from 1 to {MAX_IN_FLIGHT}")
    if not isinstance(selection, dict):
        raise BulkError("give chargers (a list of identities) or filter (an object)")
    chosen = _select_chargers(selection)
    if not chosen:
        raise BulkError("no charger matches the selection", 422)
    if len(chosen) > MAX_CHARGERS:
        raise BulkError(f"at most {MAX_CHARGERS} chargers per bulk operation", 422)
    bulk = BulkOperation(operation=operation, args=args or {}, selection=selection,
                         status="queued", max_in_flight=max_in_flight,
                         requested_by=requested_by, source=source, created_at=utcnow(),
                         base_url=request.host_url if has_request_context() else None)
    db.session.add(bulk)
    db.session.flush()
    now = utcnow()
    db.session.execute(results_table.insert(), [
        {"bulk_id": bulk.id, "charger_id": c.id, "identity": c.identity, "status": "waiting",
         "updated_at": now} for c in chosen])
    db.session.commit()
    return bulk


def start(bulk: BulkOperation) -> BulkOperation:
    """Run it on a worker (with Redis) or in a thread of this process (embedded default)."""
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        from rq import Queue

        from .. import redis_client
        from ..jobs import QUEUE_NAME

        queue = Queue(QUEUE_NAME, connection=redis_client.client(app.config["REDIS_URL"]))
        job = queue.enqueue("app.jobs.run_bulk_operation", bulk.id,
                            job_timeout=24 * 3600, result_ttl=7 * 24 * 3600)
        bulk.job_id = job.id
        db.session.commit()
    else:
        threading.Thread(target=_run_in_app, args=(app, bulk.id), daemon=True,
                         name=f"bulk-{bulk.id}").start()
    return bulk


def _run_in_app(app: Flask, bulk_id: int) -> None:
    with app.app_context():
        try:
            run(bulk_id)
        except Exception:  # noqa: BLE001 - recorded on the bulk operation by run
            log.exception("bulk operation %s failed", bulk_id)


def run(bulk_id: int) -> dict[str, Any]:
    """Run a recorded bulk operation to the end (or its cancellation); return its summary."""
    bulk = db.session.get(BulkOperation, bulk_id)
    if bulk is None:
        raise BulkError(f"no bulk operation {bulk_id}", 404)
    if bulk.status != "queued":
        raise BulkError(f"bulk operation {bulk_id} is {bulk.status}, not queued", 409)
    bulk.status, bulk.started_at = "running", utcnow()
    operation, args, by, width = bulk.operation, dict(bulk.args or {}), bulk.requested_by, \
        bulk.max_in_flight
    base_url = bulk.base_url
    db.session.commit()
    waiting = list(db.session.execute(
        select(BulkOperationResult.id, BulkOperationResult.identity)
        .where(BulkOperationResult.bulk_id == bulk_id, BulkOperationResult.status == "waiting")
        .order_by(BulkOperationResult.id)).all())
    app = current_app._get_current_object()
    try:
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"bulk-{bulk_id}") as pool:
            for result_id, identity in waiting:
                pool.submit(_one, app, base_url, bulk_id, result_id, identity, operation,
                            args, by)
    except Exception as exc:
        db.session.rollback()
        db.session.execute(update(BulkOperation).where(BulkOperation.id == bulk_id).values(
            status="failed", error=f"{type(exc).__name__}: {exc}"[:1000],
            finished_at=utcnow()))
        db.session.commit()
        raise
    db.session.expire_all()
    bulk = db.session.get(BulkOperation, bulk_id)
    _cancel_waiting(bulk_id)
    bulk.status = "cancelled" if bulk.cancel_requested else "finished"
    bulk.finished_at = utcnow()
    db.session.commit()
    return to_dict(bulk)


def _one(app: Flask, base_url: str | None, bulk_id: int, result_id: int, identity: str,
         operation: str, args: dict, requested_by: str | None) -> None:
    # Links a charger follows are built for the host the operator used, as a request would.
    context = (app.test_request_context("/", base_url=base_url) if base_url
               else app.app_context())
    with context:
        try:
            cancelled = db.session.execute(select(BulkOperation.cancel_requested).where(
                BulkOperation.id == bulk_id)).scalar()
            if cancelled:
                return  # left waiting; marked cancelled at the end
            _set_result(result_id, status="running")
            try:
                command = operations.run(identity, operation, dict(args),
                                         requested_by=requested_by, source="job")
            except DomainError as exc:
                _set_result(result_id, status="error", detail=exc.message)
                return
            _set_result(result_id, status=_verdict(command), command_id=command.id,
                        detail=_detail(command))
        except Exception as exc:  # noqa: BLE001 - one charger's failure is its own result
            log.exception("bulk operation %s: %s failed", bulk_id, identity)
            db.session.rollback()
            _set_result(result_id, status="error", detail=f"{type(exc).__name__}: {exc}"[:500])


def _verdict(command: Command) -> str:
    if command.status != "completed":
        return "error"
    status = (command.response or {}).get("status")
    return "completed" if status is None or status in TAKEN else "rejected"


def _detail(command: Command) -> str | None:
    if command.status == "completed":
        status = (command.response or {}).get("status")
        return f"{command.action}: {status}" if status else command.action
    return f"{command.action}: {command.status}" + (
        f" ({command.error_code}: {command.error_description})" if command.error_code else "")


def _set_result(result_id: int, **values: Any) -> None:
    db.session.execute(update(BulkOperationResult).where(BulkOperationResult.id == result_id)
                       .values(updated_at=utcnow(), **values))
    db.session.commit()


def _cancel_waiting(bulk_id: int) -> None:
    db.session.execute(update(BulkOperationResult).where(
        BulkOperationResult.bulk_id == bulk_id, BulkOperationResult.status == "waiting"
    ).values(status="cancelled", updated_at=utcnow()))


def cancel(bulk_id: int) -> BulkOperation:
    """Stop taking new chargers; commands already sent finish. 409 once it has ended."""
    bulk = get(bulk_id)
    if bulk.status not in ("queued", "running"):
        raise BulkError(f"bulk operation {bulk_id} has already {bulk.status}", 409)
    bulk.cancel_requested = True
    if bulk.status == "queued":
        # Not started (its job may not run yet, or never): nothing is in flight.
        _cancel_waiting(bulk_id)
        bulk.status, bulk.finished_at = "cancelled", utcnow()
    db.session.commit()
    return bulk


def get(bulk_id: int) -> BulkOperation:
    bulk = db.session.get(BulkOperation, bulk_id)
    if bulk is None:
        raise BulkError(f"no bulk operation {bulk_id}", 404)
    return bulk


def counts(bulk_id: int) -> dict[str, int]:
    rows = db.session.execute(select(BulkOperationResult.status, func.count())
                              .where(BulkOperationResult.bulk_id == bulk_id)
                              .group_by(BulkOperationResult.status)).all()
    found = dict(rows)
    return {status: found.get(status, 0) for status in
            ("waiting", "running", "completed", "rejected", "error", "cancelled")}


def list_query():
    return select(BulkOperation).order_by(BulkOperation.id.desc())


def results_query(bulk_id: int, status: str | None = None):
    stmt = select(BulkOperationResult).where(BulkOperationResult.bulk_id == bulk_id)
    if status:
        stmt = stmt.where(BulkOperationResult.status == status)
    return stmt.order_by(BulkOperationResult.id)


def to_dict(bulk: BulkOperation) -> dict[str, Any]:
    tally = counts(bulk.id)
    total = sum(tally.values())
    done = total - tally["waiting"] - tally["running"]
    return {
        "id": bulk.id, "operation": bulk.operation, "args": bulk.args or {},
        "selection": bulk.selection or {}, "status": bulk.status,
        "max_in_flight": bulk.max_in_flight, "cancel_requested": bulk.cancel_requested,
        "requested_by": bulk.requested_by, "job_id": bulk.job_id, "error": bulk.error,
        "total": total, "done": done, "counts": tally,
        "progress": round(done / total, 4) if total else 1.0,
        "created_at": isoformat(bulk.created_at), "started_at": isoformat(bulk.started_at),
        "finished_at": isoformat(bulk.finished_at),
    }


def result_to_dict(result: BulkOperationResult) -> dict[str, Any]:
    return {"charger": result.identity, "status": result.status,
            "command_id": result.command_id, "detail": result.detail,
            "updated_at": isoformat(result.updated_at)}
