"""Admission control for websocket handshakes: a reconnect storm is paced, not timed out.

Every new handshake asks ``AdmissionPolicy.admit`` first. While the group writer's backlog (units
queued or being committed) is at ``max_backlog`` or more, or ``max_pending`` admitted chargers
have not had their first message answered yet, the handshake is refused and the endpoint
answers HTTP 503 with a ``Retry-After``: the chargers that were let in get their
BootNotification answered in time instead of every charger timing out together.

The refused are paced: each gets its own time slot to come back, one after the other at the rate
at which admitted chargers have lately been answered (never assumed slower than ``max_pending``
per ``retry_after``), plus up to one ``retry_after`` of jitter. A crowd of 9,000 refused at once
thus returns spread over the time the server needs for them, not all at the same moment, and
a charger refused again gets a later slot. The first slot is ``retry_after`` from now, longer
(up to 4 times) the further the writer is behind.

Only handshakes are judged: the traffic of a connected charger is never refused. A threshold of
0 switches that check off; both at 0 admit everything. Pure logic with an injected clock,
random source and backlog reader; the endpoint (``websocket.py``) wires it to the writer.
"""
from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

log = logging.getLogger(__name__)

# The longest Retry-After we send, however far behind the writer is.
MAX_RETRY_AFTER = 120
# Seconds of answered handshakes the pacing rate is measured over.
RATE_WINDOW = 5.0


@dataclass(frozen=True)
class Refused:
    """A handshake turned away: answer 503 with ``Retry-After: retry_after``."""

    retry_after: int
    reason: str  # "backlog" or "pending"


class Ticket:
    """An admitted handshake, counted as pending until ``release`` (idempotent)."""

    __slots__ = ("_policy", "_key")

    def __init__(self, policy: AdmissionPolicy | None, key: int) -> None:
        self._policy = policy
        self._key = key

    def release(self) -> None:
        policy, self._policy = self._policy, None
        if policy is not None:
            policy._release(self._key)


class AdmissionPolicy:
    """Decides, per handshake, to admit it or to refuse it for a while (see the module doc).

    ``pending_window``: an admitted charger stops counting as pending after this many seconds
    even if it never sends a message, so silent chargers cannot keep the door shut.
    """

    def __init__(self, *, max_backlog: int, max_pending: int, retry_after: float,
                 backlog: Callable[[], int], pending_window: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None, log_interval: float = 10.0) -> None:
        self.max_backlog = max(0, max_backlog)
        self.max_pending = max(0, max_pending)
        self.retry_after = max(1.0, retry_after)
        self._backlog = backlog
        self._window = pending_window
        self._clock = clock
        self._rng = rng or random.Random()
        self._log_interval = log_interval
        self._lock = threading.Lock()
        self._pending: OrderedDict[int, float] = OrderedDict()  # ticket key -> admitted at
        self._answered: deque[float] = deque(maxlen=100_000)  # when pending tickets were released
        self._next_slot = 0.0  # when the next refused charger is asked to come back
        self._keys = count()
        self.admitted = 0
        self.refused = 0
        self._unlogged = 0
        self._logged_at: float | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.max_backlog or self.max_pending)

    def admit(self) -> Ticket | Refused:
        """Admit this handshake (a ``Ticket`` to release at its first answer) or refuse it."""
        if not self.enabled:
            self.admitted += 1
            return Ticket(None, 0)
        now = self._clock()
        with self._lock:
            self._expire(now)
            pending = len(self._pending)
            backlog = self._backlog() if self.max_backlog else 0
            overload = max(backlog / self.max_backlog if self.max_backlog else 0.0,
                           pending / self.max_pending if self.max_pending else 0.0)
            if overload < 1.0:
                key = next(self._keys)
                self._pending[key] = now
                self.admitted += 1
                return Ticket(self, key)
            self.refused += 1
            self._unlogged += 1
            reason = ("backlog" if self.max_backlog and backlog >= self.max_backlog
                      else "pending")
            should_log = self._logged_at is None or now - self._logged_at >= self._log_interval
            if should_log:
                refused, self._unlogged, self._logged_at = self._unlogged, 0, now
            delay = self._delay(now, overload)
        if should_log:
            log.warning("admission: refused %d handshake(s) since the last report (writer "
                        "backlog %d units, %d handshakes pending): answering 503", refused,
                        backlog, pending)
        return Refused(delay, reason)

    def _delay(self, now: float, overload: float) -> int:
        """The next free slot, as whole seconds from now (called under the lock)."""
        slot = max(now + self.retry_after * min(overload, 4.0), self._next_slot)
        self._next_slot = slot + 1.0 / self._rate(now)
        delay = slot - now + self._rng.uniform(0.0, self.retry_after)
        if delay > MAX_RETRY_AFTER:
            delay = MAX_RETRY_AFTER - self._rng.uniform(0.0, self.retry_after)
        return max(1, math.ceil(delay))

    def _rate(self, now: float) -> float:
        """Handshakes answered per second lately, or what the pending limit lets through."""
        answered = self._answered
        while answered and now - answered[0] > RATE_WINDOW:
            answered.popleft()
        floor = (self.max_pending or 100) / self.retry_after
        return max(len(answered) / RATE_WINDOW, floor)

    def _expire(self, now: float) -> None:
        pending = self._pending
        while pending:
            key, since = next(iter(pending.items()))
            if now - since < self._window:
                return
            del pending[key]

    def _release(self, key: int) -> None:
        with self._lock:
            if self._pending.pop(key, None) is not None:
                self._answered.append(self._clock())

    def pending(self) -> int:
        """Admitted handshakes not answered yet (within the pending window)."""
        with self._lock:
            self._expire(self._clock())
            return len(self._pending)

    def stats(self) -> dict[str, int | bool]:
        """Counters for ``/healthz`` (this process)."""
        return {"enabled": self.enabled, "admitted": self.admitted, "refused": self.refused,
                "pending_handshakes": self.pending(), "writer_backlog": self._backlog()}
