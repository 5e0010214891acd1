"""``flask worker`` (an RQ worker inside the app context), ``flask jobs ping`` and
``flask jobs run`` (one scheduled job now, in this process)."""
from __future__ import annotations

import json
import time
from datetime import date
from urllib.parse import urlsplit

import click
from flask import Blueprint, current_app

from .jobs import QUEUE_NAME
from .schedule import DEFAULTS

bp = Blueprint("worker_cli", __name__, cli_group=None)


def _redis():
    """A Redis client that answered a PING: a wrong or unreachable REDIS_URL is one line."""
    from redis import Redis
    from redis.exceptions import RedisError

    url = current_app.config["REDIS_URL"]
    if not url:
        raise click.ClickException("REDIS_URL is not set: workers need Redis")
    try:
        client = Redis.from_url(url, socket_connect_timeout=5)
        client.ping()
    except (RedisError, ValueError, OSError) as exc:
        parts = urlsplit(url)  # never print a password
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        raise click.ClickException(f"cannot reach Redis at {where} (REDIS_URL): {exc}") from None
    return client


@bp.cli.command("worker")
@click.option("--queue", "queues", multiple=True, default=[QUEUE_NAME], show_default=True)
@click.option("--with-scheduler", is_flag=True,
              help="Also run RQ's schedulers: timed jobs (enqueue_at/in) and the periodic "
                   "jobs of app/schedule.py (one worker of all enqueues them at a time).")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(queues: tuple[str, ...], with_scheduler: bool, burst: bool) -> None:
    """Run an RQ worker for Constellation's queues."""
    from multiprocessing import get_context

    from rq import Worker

    from .schedule import run_cron

    connection = _redis()
    cron = None
    if with_scheduler and not burst:
        # Forked before the worker starts any thread; RQ runs its own scheduler the same way.
        cron = get_context("fork").Process(
            target=run_cron, args=(current_app._get_current_object(), queues[0]),
            name="constellation-cron", daemon=True)
        cron.start()
    try:
        Worker(list(queues), connection=connection).work(with_scheduler=with_scheduler,
                                                         burst=burst)
    finally:
        if cron is not None and cron.is_alive():
            cron.terminate()
            cron.join(10)


@bp.cli.group("jobs")
def jobs() -> None:
    """Background job tools."""


@jobs.command("ping")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds to wait for a worker.")
def ping(timeout: float) -> None:
    """Send a job through Redis and wait for a worker to return it."""
    from rq import Queue

    token = f"pong-{time.time_ns()}"
    job = Queue(QUEUE_NAME, connection=_redis()).enqueue("app.jobs.echo", token)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh()
        if job.get_status() == "finished":
            if job.return_value() == token:
                click.echo(f"ok: job {job.id} came back from a worker")
                return
            raise click.ClickException(f"job {job.id} returned {job.return_value()!r}")
        if job.get_status() == "failed":
            raise click.ClickException(f"job {job.id} failed")
        time.sleep(0.1)
    raise click.ClickException(f"no worker answered within {timeout:g} s (job {job.id})")


@jobs.command("run")
@click.argument("name", type=click.Choice(sorted(DEFAULTS)))
@click.option("--day", help="daily_energy: the UTC day to recompute (YYYY-MM-DD); default "
                            "yesterday.")
def run(name: str, day: str | None) -> None:
    """Run one scheduled job now, in this process (no worker or Redis needed)."""
    from . import jobs as job_module

    func = getattr(job_module, DEFAULTS[name][0])
    if day is not None:
        if name != "daily_energy":
            raise click.UsageError("--day is for daily_energy only")
        try:
            date.fromisoformat(day)
        except ValueError:
            raise click.BadParameter(f"expected YYYY-MM-DD, got {day!r}",
                                     param_hint="--day") from None
        outcome = func(day)
    else:
        outcome = func()
    click.echo(json.dumps({"job": name, "result": outcome}))
