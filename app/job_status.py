"""What RQ knows about the app's jobs, for admins (``GET /api/v1/jobs/<id>``, the console's
Jobs page): status, times, result or the failure's traceback, retries left.

The Redis client is made on first use per process and kept in ``app.extensions``; without
``REDIS_URL`` there are no jobs to show (``JobsUnavailable``: the API answers 503).
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask

from .jobs import QUEUE_NAME
from .models.base import isoformat
from .services.errors import DomainError


class JobsUnavailable(DomainError):
    """No Redis configured, or not reachable: job status cannot be read."""

    status = 503


class NoSuchJob(DomainError):
    status = 404


def redis(app: Flask):
    """This process's Redis client for RQ (REDIS_URL), made on first use."""
    from redis import Redis

    url = app.config["REDIS_URL"]
    if not url:
        raise JobsUnavailable("REDIS_URL is not set: jobs run in the web process, without RQ, "
                              "and have no status to show")
    existing = app.extensions.get("constellation.rq_redis")
    if existing is None or existing[0] != os.getpid():
        existing = (os.getpid(), Redis.from_url(url, socket_connect_timeout=5,
                                                socket_timeout=10))
        app.extensions["constellation.rq_redis"] = existing
    return existing[1]


def _time(value: datetime | None) -> str | None:
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # RQ keeps UTC
    return isoformat(value)


def _plain(value: Any) -> Any:
    """A result as JSON can carry it (our jobs return plain values; anything else as text)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return repr(value)
    return value


def _status(job) -> str:
    status = job.get_status(refresh=False)
    return getattr(status, "value", status) or "unknown"  # JobStatus is a str Enum


def job_to_dict(job) -> dict[str, Any]:
    from rq.results import Result

    result = job.latest_result()
    failed = result is not None and result.type == Result.Type.FAILED
    return {
        "id": job.id,
        "function": job.func_name,
        "queue": job.origin,
        "status": _status(job),
        "enqueued_at": _time(job.enqueued_at),
        "started_at": _time(job.started_at),
        "ended_at": _time(job.ended_at),
        "result": _plain(result.return_value) if result is not None and not failed else None,
        "error": result.exc_string if failed else None,
        "retries_left": job.retries_left,
    }


def _redis_call(app: Flask, fn):
    from redis.exceptions import RedisError

    try:
        return fn(redis(app))
    except RedisError as exc:
        raise JobsUnavailable(f"Redis (REDIS_URL) did not answer: {exc}") from None


def get(app: Flask, job_id: str) -> dict[str, Any]:
    """The job ``job_id`` as the API shows it; ``NoSuchJob`` if RQ does not know it."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    def fetch(connection):
        try:
            return job_to_dict(Job.fetch(job_id, connection=connection))
        except NoSuchJobError:
            raise NoSuchJob(f"no job {job_id} (unknown, or its result has expired)") from None

    return _redis_call(app, fetch)


def recent(app: Flask, limit: int = 50) -> list[dict[str, Any]]:
    """The queue's latest jobs of each kind (queued, running, scheduled, finished, failed),
    newest first."""
    from rq import Queue
    from rq.job import Job

    def fetch(connection):
        queue = Queue(QUEUE_NAME, connection=connection)
        ids: list[str] = queue.get_job_ids(0, limit)
        for registry in (queue.started_job_registry, queue.scheduled_job_registry,
                         queue.finished_job_registry, queue.failed_job_registry):
            ids += registry.get_job_ids(0, limit - 1, desc=True)
        jobs = [job for job in Job.fetch_many(list(dict.fromkeys(ids)), connection=connection)
                if job is not None]
        # ISO times in UTC sort as text, whether RQ gave aware or naive datetimes.
        jobs.sort(key=lambda j: _time(j.enqueued_at or j.created_at) or "", reverse=True)
        return [job_to_dict(job) for job in jobs[:limit]]

    return _redis_call(app, fetch)


def schedule(app: Flask) -> list[dict[str, Any]]:
    """The periodic jobs as the cron scheduler that holds the lock enqueues them: name,
    interval, when last and next enqueued, and which scheduler (host:pid)."""
    from rq.cron import CronScheduler

    def fetch(connection):
        return [{"name": job.name, "function": job.func_name, "interval": job.interval,
                 "latest": _time(job.latest_enqueue_time),
                 "next": _time(job.next_enqueue_time), "scheduler": scheduler.name}
                for scheduler in CronScheduler.all(connection) for job in scheduler.get_jobs()]

    return _redis_call(app, fetch)
