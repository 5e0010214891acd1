"""The dashboard and the live-event stream (server-sent events) that keeps pages current.

Pages do not poll: ``/console/events`` pushes each charger event (``runtime.events``: this
process's, and with ``REDIS_URL`` every process's and host's) as it is published, and the page's
script re-fetches only the fragment the event touched (a charger's row, the counts). With
``log=1`` the stream also tails a charger's message log, which has no events of its own (its
rows are written with the next group commit), by looking for new rows whenever the stream
wakes, at least every ``LOG_TAIL_SECONDS``.
"""
from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator

from flask import Response, abort, current_app, render_template, request, stream_with_context
from sqlalchemy import select

from .. import runtime
from ..events import RESYNC
from ..extensions import db
from ..models import Charger
from ..models.base import isoformat
from ..params import int_arg, page_arg
from . import bp, queries

KEEPALIVE_SECONDS = 15.0
LOG_TAIL_SECONDS = 2.0
# A stream ends after this long and the browser reconnects through the login check, so a
# logged-out or disabled user's open page stops receiving events.
MAX_STREAM_SECONDS = 30 * 60


PER_PAGE = 100


def _page_args() -> dict:
    state = request.args.get("state") or None
    return {"q": (request.args.get("q") or "").strip() or None,
            "state": state if state in queries.CHARGER_STATES else None,
            "page": page_arg(request.args)}


@bp.get("/")
def dashboard():
    args = _page_args()
    states, total = queries.overview(per_page=PER_PAGE, **args)
    pages = max(1, -(-total // PER_PAGE))
    query = {k: v for k, v in args.items() if v and not (k == "page" and v == 1)}
    return render_template("console/dashboard.html", states=states, total=total,
                           pages=pages, args=args, query=query, filtered=bool(
                               args["q"] or args["state"]),
                           # Rows the server returns for a filter match it; unfiltered, new
                           # chargers join the last page.
                           append_new=bool(args["q"] or args["state"]) or args["page"] == pages,
                           counts=queries.counts(), energy=queries.energy_summary(),
                           charger_states=queries.CHARGER_STATES)


@bp.get("/fragments/charger-rows")
def charger_rows():
    """Dashboard rows for the page's filters: those named by ``?id=`` (changed), else the page."""
    wanted = request.args.getlist("id") or None
    states, _ = queries.overview(wanted, per_page=PER_PAGE, **_page_args())
    return render_template("console/_charger_rows.html", states=states)


@bp.get("/fragments/summary")
def summary():
    return render_template("console/_summary.html", counts=queries.counts(),
                           energy=queries.energy_summary())


def _sse(data: dict, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, default=str)}\n\n"


@bp.get("/events")
def event_stream():
    """Server-sent events: every charger event, or one charger's with ``?charger=``."""
    identity = request.args.get("charger") or None
    tail_log = identity is not None and request.args.get("log") == "1"
    charger_id = None
    last_log_id = 0
    if tail_log:
        charger = db.session.execute(select(Charger).where(Charger.identity == identity)
                                     ).scalar_one_or_none()
        if charger is None:
            abort(404)
        charger_id = charger.id
        last_log_id = int_arg(request.args, "after") or queries.last_message_id(charger_id)
    # Never hold a database transaction (and with SQLite, a read snapshot) while we wait.
    db.session.close()
    bus = runtime.events(current_app)

    def generate() -> Iterator[str]:
        nonlocal last_log_id
        q = bus.subscribe()
        try:
            # The browser retries after 3 s if the stream drops (a restart, a proxy timeout).
            yield "retry: 3000\n: connected\n\n"
            last_write = started = time.monotonic()
            while time.monotonic() - started < MAX_STREAM_SECONDS:
                wait = LOG_TAIL_SECONDS if tail_log else KEEPALIVE_SECONDS
                try:
                    event = q.get(timeout=wait)  # cooperative under gevent
                except queue.Empty:
                    event = None
                if event is RESYNC:
                    # Events may have been missed (Redis was away): the page fetches again.
                    yield _sse({}, event="resync")
                    last_write = time.monotonic()
                elif event is not None and (identity is None or event["charger"] == identity):
                    yield _sse(_slim(event))
                    last_write = time.monotonic()
                if tail_log:
                    rows = queries.messages(charger_id, after_id=last_log_id, limit=200)
                    db.session.close()
                    for row in reversed(rows):
                        last_log_id = row.id
                        yield _sse({"id": row.id, "direction": row.direction,
                                    "time": isoformat(row.created_at), "action": row.action,
                                    "frame": row.frame}, event="log")
                        last_write = time.monotonic()
                if time.monotonic() - last_write >= KEEPALIVE_SECONDS:
                    yield ": keep-alive\n\n"  # a comment: keeps proxies and NAT from closing
                    last_write = time.monotonic()
        finally:
            bus.unsubscribe(q)

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _slim(event: dict) -> dict:
    # Raw meter payloads can be large; the page only needs to know what changed.
    return {k: v for k, v in event.items() if k != "meter_value"}
