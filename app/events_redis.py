"""Live events across processes and hosts: Redis pub/sub behind the ``EventBus`` of app/events.py.

``publish`` never touches Redis. It delivers the event to this process's subscribers at once
and, when a subscriber elsewhere in the cluster is watching, appends it to an in-memory batch;
a background greenlet (a thread outside gevent) publishes the batch as one JSON message on
``CHANNEL`` every ``flush_interval`` or as soon as ``batch_limit`` events wait. Every process
subscribes once to the channel and fans the other processes' batches out to its own subscribers.

Who watches: each process with subscribers keeps an entry in the sorted set ``WATCHERS``
(member: the process, score: an expiry on Redis's clock), refreshed every ``watch_refresh``
seconds and gone ``watch_ttl`` seconds after a process dies. Publishing checks a flag that the
refresh sets, so when nobody watches anywhere it costs two attribute reads. A process whose
first subscriber arrives says so on the channel, so the others start sending at once rather
than at their next refresh.

Redis down or restarted: publishing still never raises or waits (a batch that cannot be sent is
dropped: live events are a view, the data is in the database), the listener reconnects with
backoff, the watcher entries are written again, subscribers get ``events.RESYNC`` (pages fetch
what they show again), and an outage is logged once, with its end.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from typing import Any

from redis.exceptions import RedisError

from . import redis_client
from .events import RESYNC, LocalEventBus

log = logging.getLogger(__name__)

CHANNEL = "constellation:events"
WATCHERS = "constellation:events:watchers"
FLUSH_SECONDS = 0.05
BATCH_LIMIT = 500        # events in one published message; a full batch is sent at once
PENDING_LIMIT = 10_000   # events held while Redis is slow; beyond it the oldest are dropped
WATCH_REFRESH = 1.0
WATCH_TTL = 5.0
BACKOFF_MIN, BACKOFF_MAX = 0.5, 5.0
# Raw payloads the console never shows (dashboard._slim): not worth carrying between hosts.
LOCAL_ONLY_FIELDS = ("meter_value",)

# One round trip on Redis's clock (hosts' clocks may differ): this process's entry written or
# removed, expired entries dropped, the watchers left returned.
_REFRESH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
if ARGV[2] == '1' then
  redis.call('ZADD', KEYS[1], string.format('%.6f', now + tonumber(ARGV[3])), ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) * 2)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""


class RedisEventBus:
    """This process's subscribers plus everyone else's, through one Redis channel."""

    def __init__(self, url: str, *, channel: str = CHANNEL, watchers_key: str = WATCHERS,
                 flush_interval: float = FLUSH_SECONDS, batch_limit: int = BATCH_LIMIT,
                 watch_refresh: float = WATCH_REFRESH, watch_ttl: float = WATCH_TTL) -> None:
        self.url = url
        self.channel = channel
        self.watchers_key = watchers_key
        self.flush_interval = flush_interval
        self.batch_limit = batch_limit
        self.watch_refresh = watch_refresh
        self.watch_ttl = watch_ttl
        self.node = ""
        self._local = LocalEventBus()
        self._local.on_watch_change = self._watch_changed
        self._pending: deque[dict[str, Any]] = deque(maxlen=PENDING_LIMIT)
        # Set by the refresh (and a newcomer's announcement): someone in another process watches.
        self.remote_watched = False
        self._started = False
        self._closed = False
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._refresh_due = 0.0
        self._announce = False
        self._failing = False
        # Clients parse the URL now (a bad one fails in create_app) and connect on first use;
        # their pools reconnect by themselves after a fork.
        self._redis = redis_client.client(url)
        self._subscriber = redis_client.client(url, health_check_interval=10)
        self._script = self._redis.register_script(_REFRESH)
        if hasattr(os, "register_at_fork"):
            # Threads do not survive a fork (an RQ work horse): start again in the child.
            os.register_at_fork(after_in_child=self._forget_threads)

    # The per-message path.

    def publish(self, kind: str, identity: str, **data: Any) -> None:
        if not self.remote_watched:
            if not self._started:
                self.start()
            if not self._local.watched:
                return  # nobody watches anywhere: the common case costs nothing
        event = self._local.make(kind, identity, data)
        self._local.deliver(event)
        if self.remote_watched:
            self._pending.append(event)
            if len(self._pending) >= self.batch_limit:
                self._wake.set()

    # Subscribers of this process.

    @property
    def watched(self) -> bool:
        return self._local.watched

    def subscribe(self) -> queue.Queue:
        if not self._started:
            self.start()
        return self._local.subscribe()

    def unsubscribe(self, q: queue.Queue) -> None:
        self._local.unsubscribe(q)

    # Background work.

    def start(self) -> None:
        """Start the flusher and the listener; the first call also learns who watches."""
        with self._start_lock:
            if self._started:
                return
            self.node = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            self._closed = False
            self._started = True
        # Once, in the caller: a process that publishes right away (a job) knows the watchers.
        self._refresh()
        self._refresh_due = time.monotonic() + self.watch_refresh
        threading.Thread(target=self._run, daemon=True, name="events-flush").start()
        threading.Thread(target=self._listen, daemon=True, name="events-listen").start()

    def close(self) -> None:
        """Stop the background work after sending what waits, and stop counting as a watcher
        (the others stop sending now rather than when the entry lapses)."""
        if not self._started or self._closed:
            return
        self._closed = True
        self._wake.set()
        self._flush()
        try:
            self._redis.zrem(self.watchers_key, self.node)
        except (RedisError, OSError):
            pass  # the entry lapses by itself

    def _forget_threads(self) -> None:
        self._started = False
        self.remote_watched = False
        self._pending.clear()
        self._start_lock = threading.Lock()

    def _watch_changed(self) -> None:
        # This process's first subscriber came or its last went: update the entry now, and
        # announce a newcomer so that the others need not wait for their refresh.
        self._announce = self._local.watched
        self._refresh_due = 0.0
        self._wake.set()

    def _run(self) -> None:
        while not self._closed:
            now = time.monotonic()
            wait = max(0.0, self._refresh_due - now)
            if self.remote_watched or self._pending:
                wait = min(wait, self.flush_interval)
            self._wake.wait(wait)
            self._wake.clear()
            if self._closed:
                break
            if time.monotonic() >= self._refresh_due:
                self._refresh()
                self._refresh_due = time.monotonic() + self.watch_refresh
            if self._pending:
                self._flush()

    def _refresh(self) -> None:
        announce = self._announce
        try:
            members = self._script(keys=[self.watchers_key],
                                   args=[self.node, "1" if self._local.watched else "0",
                                         self.watch_ttl])
            self.remote_watched = any(m.decode() != self.node for m in members)
            if announce and self._local.watched:
                self._announce = False
                self._redis.publish(self.channel, json.dumps({"o": self.node, "w": 1}))
            self._recovered()
        except (RedisError, OSError) as exc:
            # Nobody can be reached meanwhile: publishing goes back to costing nothing.
            self.remote_watched = False
            self._pending.clear()
            self._failed(exc)

    def _flush(self) -> None:
        while self._pending:
            batch = []
            while self._pending and len(batch) < self.batch_limit:
                event = self._pending.popleft()
                batch.append({k: v for k, v in event.items() if k not in LOCAL_ONLY_FIELDS})
            message = json.dumps({"o": self.node, "e": batch}, default=str,
                                 separators=(",", ":"))
            try:
                self._redis.publish(self.channel, message)
                self._recovered()
            except (RedisError, OSError) as exc:
                self._pending.clear()
                self._failed(exc)
                return

    def _listen(self) -> None:
        backoff = BACKOFF_MIN
        missed = False
        while not self._closed:
            pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self.channel)
                backoff = BACKOFF_MIN
                self._recovered()
                if self._local.watched:
                    # Redis may have restarted and lost the watchers: be counted again now;
                    # and other processes' events of the outage are lost: pages catch up.
                    self._watch_changed()
                    if missed:
                        self._local.deliver(RESYNC)
                missed = False
                while not self._closed:
                    message = pubsub.get_message(timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self._receive(message["data"])
            except (RedisError, OSError) as exc:
                missed = True
                self._failed(exc)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001 - the connection is gone anyway
                    pass
            if not self._closed:
                time.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)

    def _receive(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("o") == self.node:
            return  # our own batch: its events were delivered here when published
        if message.get("w"):
            self.remote_watched = True
            return
        if self._local.watched:
            for event in message.get("e") or ():
                if isinstance(event, dict):
                    self._local.deliver(event)

    def _failed(self, exc: BaseException) -> None:
        if not self._failing and not self._closed:
            self._failing = True
            log.warning("live events: Redis at %s is unreachable (%s: %s); other processes' "
                        "consoles miss this one's events until it is back, retrying",
                        redis_client.safe_url(self.url), type(exc).__name__, exc)

    def _recovered(self) -> None:
        if self._failing:
            self._failing = False
            log.info("live events: Redis at %s is reachable again",
                     redis_client.safe_url(self.url))
