"""Live events for the console: what happened to chargers, as it happens, without polling.

The event bus is a process-wide resource wired in ``create_app`` and found with
``runtime.events(app)``; chargers' handlers reach it through ``ChargerContext.events``.
``bus.publish(kind, identity, **data)`` is called by the transport and the services after the
data is committed; ``bus.subscribe()`` gives a queue of events for a server-sent-events stream.

- ``LocalEventBus``: this process's subscribers only (the default, without ``REDIS_URL``).
- ``RedisEventBus`` (``app/events_redis.py``, with ``REDIS_URL``): the same, plus every other
  process's subscribers through Redis pub/sub, batched off the per-message path.

Either way publishing returns at once when nobody is watching. An event is a small dict:
``id`` (a counter of the publishing process), ``kind``, ``charger`` (identity), ``time`` (epoch
seconds) and the kind's fields. Kinds (``KINDS``): ``connected``, ``disconnected``, ``boot``,
``status``, ``meter``, ``transaction_started``, ``transaction_stopped``, ``command``,
``firmware_status``, ``diagnostics_status``, and from 2.x stations ``security_event``,
``charger_event`` (NotifyEvent), ``log_status``, ``reservation``.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

KINDS = frozenset({
    "connected", "disconnected", "boot", "status", "meter", "transaction_started",
    "transaction_stopped", "command", "firmware_status", "diagnostics_status",
    "security_event", "charger_event", "log_status", "reservation",
})

# A slow subscriber loses its oldest events rather than holding memory without bound.
QUEUE_LIMIT = 1000
# Put on subscribers' queues, not a charger event: events may have been missed (other
# processes' events while Redis was away), so a page should fetch what it shows again.
RESYNC: dict[str, Any] = {"kind": "resync"}


class EventBus(Protocol):
    """What publishers and the console's stream need of a bus."""

    def publish(self, kind: str, identity: str, **data: Any) -> None:
        """Hand an event to every subscriber; never raises, never waits on I/O."""

    def subscribe(self) -> queue.Queue:
        """A queue that receives every event from now on, until ``unsubscribe``."""

    def unsubscribe(self, q: queue.Queue) -> None: ...

    def start(self) -> None:
        """Start background work, if any, in the serving process (after gunicorn's fork)."""

    def close(self) -> None: ...


class LocalEventBus:
    """Subscribers of this process. Also the fan-out half of ``RedisEventBus``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[queue.Queue] = set()
        self._ids = itertools.count(1)
        # Called (outside the lock) when the first subscriber comes or the last one goes.
        self.on_watch_change: Callable[[], None] | None = None

    @property
    def watched(self) -> bool:
        return bool(self._subscribers)

    def publish(self, kind: str, identity: str, **data: Any) -> None:
        if not self._subscribers:
            return  # the common case on the per-message path: nobody is watching
        self.deliver(self.make(kind, identity, data))

    def make(self, kind: str, identity: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"id": next(self._ids), "kind": kind, "charger": identity, "time": time.time(),
                **data}

    def deliver(self, event: dict[str, Any]) -> None:
        """Put ``event`` on every subscriber's queue, dropping a full queue's oldest event."""
        if not self._subscribers:
            return
        with self._lock:
            targets = list(self._subscribers)
        for q in targets:
            try:
                q.put_nowait(event)
            except queue.Full:
                try:
                    q.get_nowait()
                    q.put_nowait(event)
                except (queue.Empty, queue.Full):
                    pass

    def subscribe(self) -> queue.Queue:
        q: queue.Queue = queue.Queue(maxsize=QUEUE_LIMIT)
        with self._lock:
            self._subscribers.add(q)
            first = len(self._subscribers) == 1
        if first and self.on_watch_change is not None:
            self.on_watch_change()
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        with self._lock:
            had = bool(self._subscribers)
            self._subscribers.discard(q)
            last = had and not self._subscribers
        if last and self.on_watch_change is not None:
            self.on_watch_change()

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


class NullEventBus:
    """Publishes to nobody: for code that builds a ``ChargerContext`` without an app (bench)."""

    watched = False

    def publish(self, kind: str, identity: str, **data: Any) -> None:
        pass

    def subscribe(self) -> queue.Queue:
        return queue.Queue(maxsize=1)

    def unsubscribe(self, q: queue.Queue) -> None:
        pass

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


NULL_BUS = NullEventBus()


def make_bus(config: dict[str, Any]) -> EventBus:
    """The bus for these settings: through Redis when ``REDIS_URL`` is set, else in-process."""
    url = config.get("REDIS_URL")
    if not url:
        return LocalEventBus()
    from .events_redis import RedisEventBus

    return RedisEventBus(url, flush_interval=config.get("EVENTS_FLUSH_SECONDS", 0.05))
