"""The schedule of the periodic jobs (``app.jobs``) and the two ways it runs.

- With ``REDIS_URL``: RQ's own ``CronScheduler`` enqueues each job at its interval and RQ
  workers run them. ``flask worker --with-scheduler`` starts it in a child process; of all such
  workers one holds a Redis lock (RQ's ``acquire_or_refresh_lock``) and enqueues, the others
  stand by and take over within ``CRON_LOCK_SECONDS`` when it dies. The web process runs none.
- Without it (the embedded default): ``run_in_process`` calls the same job functions from the
  web process's maintenance thread, through the group writer.

``SCHEDULE_INTERVALS`` (``name=seconds,...``) overrides the defaults below; 0 turns a job off.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping

from flask import Flask

log = logging.getLogger(__name__)

# name: (function in app.jobs, default interval in seconds). Every job is idempotent, so a
# run that comes twice (a worker restart, a takeover) changes nothing the first did not.
DEFAULTS: dict[str, tuple[str, float]] = {
    "offline_detection": ("detect_offline", 60),
    "reservation_expiry": ("expire_reservations", 60),
    "stale_commands": ("expire_stale_commands", 300),
    "message_log_retention": ("prune_message_log", 600),
    "meter_value_retention": ("downsample_meter_values", 3600),
    # Recomputes yesterday each time: the summary is there within the hour after midnight
    # UTC, even if no worker ran at midnight.
    "daily_energy": ("summarise_daily_energy", 3600),
}
CRON_LOCK_KEY = "constellation:cron-lock"
CRON_LOCK_SECONDS = 30


def parse_intervals(raw: str) -> dict[str, float]:
    """``SCHEDULE_INTERVALS`` over the defaults; ValueError naming what is wrong."""
    intervals = {name: float(seconds) for name, (_, seconds) in DEFAULTS.items()}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in DEFAULTS:
            raise ValueError(f"expected name=seconds with a name among {', '.join(DEFAULTS)}, "
                             f"got {part!r}")
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(f"{name}: seconds must be a number, got {value.strip()!r}") from None
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(f"{name}: seconds must be 0 (off) or more, got {value.strip()!r}")
        intervals[name] = seconds
    return intervals


def jobs(intervals: Mapping[str, float]) -> list[tuple[str, Callable, float]]:
    """(name, job function, seconds) of the jobs that are on."""
    from . import jobs as job_module

    return [(name, getattr(job_module, DEFAULTS[name][0]), seconds)
            for name, seconds in intervals.items() if seconds > 0]


# Without Redis: in the web process -------------------------------------------------------------

def run_in_process(app: Flask) -> None:
    """Run the schedule forever in this process (each job first at start-up)."""
    due = {name: 0.0 for name, _, _ in jobs(app.config["SCHEDULE_INTERVALS"])}
    while True:
        now = time.monotonic()
        for name, func, seconds in jobs(app.config["SCHEDULE_INTERVALS"]):
            if due.get(name, 0.0) > now:
                continue
            try:
                with app.app_context():
                    outcome = func()
                log.debug("scheduled job %s: %r", name, outcome)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                log.exception("scheduled job %s failed", name)
            due[name] = time.monotonic() + seconds
        # time.sleep looked up here, not bound at import: under gevent it must be the patched
        # one (this module may be imported before the worker patches it).
        time.sleep(max(0.2, min(due.values(), default=now + 60) - time.monotonic()))


# With Redis: RQ's cron scheduler ------------------------------------------------------------

def cron_scheduler(connection, queue_name: str, intervals: Mapping[str, float]):
    """An RQ ``CronScheduler`` with the schedule registered (nothing enqueued yet)."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=connection)
    for name, func, seconds in jobs(intervals):
        interval = max(1, round(seconds))
        scheduler.register(
            func, queue_name, interval=interval, name=f"constellation.{name}",
            job_timeout=max(300, interval), result_ttl=7 * 24 * 3600,
            failure_ttl=30 * 24 * 3600,
            # Not started within two intervals (no worker): dropped, the next one comes.
            ttl=max(60, 2 * interval))
    return scheduler


def run_cron(app: Flask, queue_name: str) -> None:
    """The child process of ``flask worker --with-scheduler``: enqueue the schedule while this
    process holds the cron lock; stop when the worker that started it is gone."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq.scripts import acquire_or_refresh_lock, release_lock

    # Stopped by the worker (SIGTERM): leave through ``finally`` and hand the lock on.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    connection = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
    scheduler = cron_scheduler(connection, queue_name, app.config["SCHEDULE_INTERVALS"])
    holding = False
    try:
        while os.getppid() == parent:
            pause = CRON_LOCK_SECONDS / 3
            try:
                outcome = acquire_or_refresh_lock(connection, CRON_LOCK_KEY, scheduler.name,
                                                  CRON_LOCK_SECONDS)
                if outcome == "acquired":
                    log.info("cron scheduler %s holds the lock: enqueuing the schedule",
                             scheduler.name)
                    scheduler.register_birth()
                    holding = True
                if outcome in ("acquired", "refreshed"):
                    if scheduler.enqueue_jobs():
                        scheduler.save()
                    scheduler.heartbeat()
                    pause = min(pause, scheduler.calculate_sleep_interval())
                elif holding:
                    log.warning("cron scheduler %s lost the lock", scheduler.name)
                    holding = False
            except RedisError as exc:  # Redis away for a while: try again, never exit
                log.warning("cron scheduler: %s", exc)
            time.sleep(max(0.1, pause))
    finally:
        if holding:
            try:
                release_lock(connection, CRON_LOCK_KEY, scheduler.name)
                scheduler.register_death()
            except RedisError:
                pass
