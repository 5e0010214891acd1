"""Live events for the console: what happened to chargers, as it happens, without polling.

``publish(kind, identity, **data)`` is called by the transport and the services after the data is
committed; ``subscribe()`` gives a queue of events for a server-sent-events stream. In-process
today; with several processes, the same two functions will go through Redis pub/sub.

Kinds: ``connected``, ``disconnected``, ``boot``, ``status``, ``meter``, ``transaction_started``,
``transaction_stopped``, ``command``, ``firmware_status``, ``diagnostics_status``, and from
2.x stations ``security_event``, ``charger_event`` (NotifyEvent), ``log_status``, ``reservation``.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from typing import Any

# A slow subscriber loses its oldest events rather than holding memory without bound.
QUEUE_LIMIT = 1000

_lock = threading.Lock()
_subscribers: set[queue.Queue] = set()
_ids = itertools.count(1)


def publish(kind: str, identity: str, **data: Any) -> None:
    if not _subscribers:
        return  # the common case on the per-message path: nobody is watching
    event = {"id": next(_ids), "kind": kind, "charger": identity, "time": time.time(), **data}
    with _lock:
        targets = list(_subscribers)
    for q in targets:
        try:
            q.put_nowait(event)
        except queue.Full:
            try:
                q.get_nowait()
                q.put_nowait(event)
            except (queue.Empty, queue.Full):
                pass


def subscribe() -> queue.Queue:
    q: queue.Queue = queue.Queue(maxsize=QUEUE_LIMIT)
    with _lock:
        _subscribers.add(q)
    return q


def unsubscribe(q: queue.Queue) -> None:
    with _lock:
        _subscribers.discard(q)
