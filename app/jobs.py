"""Background jobs on RQ: importable functions that take ids or plain values, raise on failure,
and are run by ``flask --app wsgi worker``; the periodic ones are scheduled by ``app.schedule``
(RQ's cron scheduler with Redis, the web process's maintenance thread without).

Jobs that need the database run inside the app context that the worker command pushes. Their
logic is in a domain service per job (``services.offline``, ``reservation_expiry``,
``command_expiry``, ``retention``, ``meter_rollup``, ``energy_summary``) taking a connection:
``_run`` gives it the group writer's transaction in a serving process, or one of its own in a
worker.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

QUEUE_NAME = "constellation"
# A sliced job stops after this many slices in one run; the next run goes on.
MAX_SLICES = 200


def echo(value: str) -> str:
    """Return ``value``: proves that a job travels through Redis to a worker and back."""
    return value


def run_operation(identity: str, name: str, args: dict | None = None,
                  requested_by: str | None = None) -> dict:
    """Run a version-neutral operation (``services.operations``) on a charger as a job, and
    return its command as the API shows it. Refusals raise ``DomainError`` (the job fails
    with the reason)."""
    from .services import commands, operations

    command = operations.run(identity, name, args or {}, requested_by=requested_by,
                             source="job")
    return {**commands.command_to_dict(command), "operation": name}


def run_bulk_operation(bulk_id: int) -> dict:
    """Run a recorded bulk operation (``services.bulk_operations``) to its end or its
    cancellation; return its summary. Raises when the bulk operation cannot run."""
    from .services import bulk_operations

    return bulk_operations.run(bulk_id)


def _run(fn: Callable, *args: Any) -> Any:
    """``fn(conn, *args)`` in one transaction: through this process's group writer if it has
    one (SQLite has one writer), else on a connection of its own."""
    from flask import current_app

    from . import runtime
    from .extensions import db

    writer = runtime.current_writer(current_app)
    if writer is not None:
        return writer.run(fn, *args)
    if current_app.extensions.get("constellation.jobs_pid") != os.getpid():
        # RQ runs each job in a fork of the worker: never share the parent's pooled sockets.
        db.engine.dispose(close=False)
        current_app.extensions["constellation.jobs_pid"] = os.getpid()
    with db.engine.begin() as conn:
        return fn(conn, *args)


def _sliced(fn: Callable, *args: Any, slice_size: int) -> int:
    """Run a slice at a time (each its own transaction) until one comes back short."""
    total = 0
    for _ in range(MAX_SLICES):
        done = _run(fn, *args)
        total += done
        if done < slice_size:
            break
    return total


def _now():
    from .models import utcnow

    return utcnow()


def _config(name: str) -> Any:
    from flask import current_app

    return current_app.config[name]


def detect_offline() -> dict:
    """Raise an offline alert for each charger silent too long, clear those heard again."""
    from .services import offline

    run = _run(offline.detect, _now(), float(_config("OCPP_HEARTBEAT_INTERVAL")),
               _config("OFFLINE_FACTOR"), _config("OFFLINE_GRACE_SECONDS"))
    return run.as_dict()


def expire_reservations() -> int:
    """Active reservations past their expiry become expired; how many."""
    from .services import reservation_expiry

    return _run(reservation_expiry.expire, _now())


def expire_stale_commands() -> int:
    """Pending commands long past their timeout are closed as error Expired; how many."""
    from .services import command_expiry

    return _run(command_expiry.expire, _now(), _config("STALE_COMMAND_GRACE_SECONDS"))


def prune_message_log() -> int:
    """Forget message-log frames older than MESSAGE_LOG_RETENTION_DAYS; how many."""
    from .services import retention

    days = _config("MESSAGE_LOG_RETENTION_DAYS")
    if days <= 0:
        return 0
    return _sliced(retention.prune_message_log, _now(), days, slice_size=retention.SLICE)


def downsample_meter_values() -> int:
    """Fold raw meter values older than METER_VALUE_RAW_DAYS into 15-minute aggregates;
    how many raw rows were folded."""
    from .services import meter_rollup

    days = _config("METER_VALUE_RAW_DAYS")
    if days <= 0:
        return 0
    return _sliced(meter_rollup.fold, _now(), days, slice_size=meter_rollup.SLICE)


def summarise_daily_energy(day: str | None = None) -> dict:
    """(Re)compute the energy summary of ``day`` (ISO date; default yesterday, UTC)."""
    from .services import energy_summary

    now = _now()
    which = date.fromisoformat(day) if day else energy_summary.yesterday(now)
    return _run(energy_summary.summarise, which, now)
