"""Login throttling: failed-login counts and attempts in flight, by key (console/auth.py).

``Throttle`` is what the login view needs; ``make_throttle`` picks the implementation that
``create_app`` wires (``runtime.login_throttle``):

- ``LoginThrottle``: this process's memory (the default, without ``REDIS_URL``).
- ``RedisLoginThrottle``: the same counts in Redis, so that failures on one process or host
  count on all of them. Each operation is one Lua script (atomic, on Redis's clock, so hosts'
  clocks need not agree); counts expire by themselves after ``FORGET_AFTER`` quiet seconds.
  While Redis cannot be reached it falls back to its own in-process counts (logged once):
  logins keep working, throttled per process as before.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any, Protocol

from redis.exceptions import RedisError

log = logging.getLogger(__name__)

FREE_ATTEMPTS = 3           # failures for one name from one address before any delay
FREE_ADDRESS_ATTEMPTS = 10  # failures from one address, whatever the names, before any delay
MAX_DELAY = 10.0            # seconds
FORGET_AFTER = 15 * 60      # a quiet quarter of an hour clears a count
# Attempts checked at once. Per name it is above what one address may hold, and a held slot
# lasts one password check, so strangers cannot keep a user out by holding them.
MAX_IN_FLIGHT = {"pair": 1, "address": 2, "name": 4}
MAX_TRACKED = 100_000       # counters kept before quiet ones are pruned
RETRY_REDIS_AFTER = 5.0     # seconds of in-process counts after Redis failed to answer
IN_FLIGHT_TTL = 30          # a slot left by a process that died frees itself after this


class Throttle(Protocol):
    def retry_after(self, keys: dict[str, str]) -> float:
        """Seconds before an attempt with these keys may be checked (0: now)."""

    def enter(self, keys: dict[str, str]) -> bool:
        """Take an in-flight slot for each key, or none and False when one is full."""

    def leave(self, keys: dict[str, str]) -> None: ...

    def record(self, keys: dict[str, str], failed: bool) -> None: ...


class LoginThrottle:
    """Failure counts with their last time, and attempts in flight, by key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}
        self._in_flight: dict[str, int] = {}

    def retry_after(self, keys: dict[str, str]) -> float:
        """Seconds before an attempt with these keys may be checked (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for kind, free in (("pair", FREE_ATTEMPTS), ("address", FREE_ADDRESS_ATTEMPTS)):
                count, last = self._failures.get(keys[kind], (0, 0.0))
                if now - last > FORGET_AFTER:
                    self._failures.pop(keys[kind], None)
                    continue
                wait = max(wait, last + delay_for(count, free) - now)
        return wait

    def enter(self, keys: dict[str, str]) -> bool:
        """Take an in-flight slot for each key, or none and False when one is full."""
        with self._lock:
            if any(self._in_flight.get(keys[kind], 0) >= limit
                   for kind, limit in MAX_IN_FLIGHT.items()):
                return False
            for kind in MAX_IN_FLIGHT:
                self._in_flight[keys[kind]] = self._in_flight.get(keys[kind], 0) + 1
            return True

    def leave(self, keys: dict[str, str]) -> None:
        with self._lock:
            for kind in MAX_IN_FLIGHT:
                left = self._in_flight.get(keys[kind], 1) - 1
                if left > 0:
                    self._in_flight[keys[kind]] = left
                else:
                    self._in_flight.pop(keys[kind], None)

    def record(self, keys: dict[str, str], failed: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if failed:
                for kind in ("pair", "address"):
                    count, _ = self._failures.get(keys[kind], (0, 0.0))
                    self._failures[keys[kind]] = (count + 1, now)
                if len(self._failures) > MAX_TRACKED:
                    self._failures = {k: v for k, v in self._failures.items()
                                      if now - v[1] <= FORGET_AFTER}
            else:
                # Success clears the name's count here; the address keeps its own.
                self._failures.pop(keys["pair"], None)


def delay_for(count: int, free: int = FREE_ATTEMPTS) -> float:
    """Seconds to wait after the last of ``count`` recent failures before the next check."""
    if count < free:
        return 0.0
    return min(MAX_DELAY, 2.0 ** (count - free))


# Redis's time, and the count and last failure time of each key ('' when it has none).
_READ = """
local t = redis.call('TIME')
local out = {t[1] .. '.' .. string.format('%06d', tonumber(t[2]))}
for _, key in ipairs(KEYS) do
  local v = redis.call('HMGET', key, 'count', 'last')
  out[#out + 1] = v[1] or ''
  out[#out + 1] = v[2] or ''
end
return out
"""
# A failure for each key, at Redis's time; a key forgets after ARGV[1] quiet seconds.
_FAIL = """
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
for _, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, 'count', 1)
  redis.call('HSET', key, 'last', now)
  redis.call('EXPIRE', key, ARGV[1])
end
return 1
"""
# A slot for every key (limits in ARGV, then the slots' time to live), or none and 0.
_ENTER = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i]) then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[#KEYS + 1])
end
return 1
"""
_LEAVE = """
for _, key in ipairs(KEYS) do
  if redis.call('DECR', key) <= 0 then redis.call('DEL', key) end
end
return 1
"""
_CLEAR = "return redis.call('DEL', unpack(KEYS))"


class RedisLoginThrottle:
    """``LoginThrottle``'s semantics with the counts in Redis, shared by every process."""

    def __init__(self, url: str, prefix: str = "constellation:login:") -> None:
        from .. import redis_client

        self.url = url
        self._redis = redis_client.client(url)
        self._fail_prefix = prefix + "failures:"
        self._busy_prefix = prefix + "in-flight:"
        self._read = self._redis.register_script(_READ)
        self._fail = self._redis.register_script(_FAIL)
        self._enter = self._redis.register_script(_ENTER)
        self._leave = self._redis.register_script(_LEAVE)
        self._clear = self._redis.register_script(_CLEAR)
        self._fallback = LoginThrottle()
        self._failing = False
        self._retry_at = 0.0

    def _failures(self, keys: dict[str, str], *kinds: str) -> list[str]:
        return [self._fail_prefix + _bounded(keys[kind]) for kind in kinds]

    def _busy(self, keys: dict[str, str]) -> list[str]:
        return [self._busy_prefix + _bounded(keys[kind]) for kind in MAX_IN_FLIGHT]

    def retry_after(self, keys: dict[str, str]) -> float:
        try:
            now, *counts = self._call(self._read, self._failures(keys, "pair", "address"))
        except _Unavailable:
            return self._fallback.retry_after(keys)
        wait = 0.0
        for i, free in enumerate((FREE_ATTEMPTS, FREE_ADDRESS_ATTEMPTS)):
            count, last = counts[2 * i], counts[2 * i + 1]
            if count and last:
                wait = max(wait, float(last) + delay_for(int(count), free) - float(now))
        return wait

    def enter(self, keys: dict[str, str]) -> bool:
        busy = self._busy(keys)
        try:
            return bool(self._call(self._enter, busy, *MAX_IN_FLIGHT.values(), IN_FLIGHT_TTL))
        except _Unavailable:
            return self._fallback.enter(keys)

    def leave(self, keys: dict[str, str]) -> None:
        busy = self._busy(keys)
        try:
            self._call(self._leave, busy)
        except _Unavailable:
            self._fallback.leave(keys)

    def record(self, keys: dict[str, str], failed: bool) -> None:
        try:
            if failed:
                self._call(self._fail, self._failures(keys, "pair", "address"), FORGET_AFTER)
            else:
                # Success clears the name's count here; the address keeps its own.
                self._call(self._clear, self._failures(keys, "pair"))
        except _Unavailable:
            self._fallback.record(keys, failed)

    def _call(self, script: Any, keys: list[str], *args: Any) -> Any:
        if self._failing and time.monotonic() < self._retry_at:
            # A Redis that does not answer costs each login a timeout: ask again only now and
            # then while it is away.
            raise _Unavailable
        try:
            result = script(keys=keys, args=list(args))
        except (RedisError, OSError) as exc:
            self._retry_at = time.monotonic() + RETRY_REDIS_AFTER
            if not self._failing:
                self._failing = True
                from ..redis_client import safe_url

                log.warning("login throttling: Redis at %s is unreachable (%s: %s); counting "
                            "failures in this process until it is back",
                            safe_url(self.url), type(exc).__name__, exc)
            raise _Unavailable from exc
        if self._failing:
            self._failing = False
            log.info("login throttling: Redis is reachable again; counts are shared")
        if isinstance(result, list):
            return [v.decode() if isinstance(v, bytes) else v for v in result]
        return result


class _Unavailable(Exception):
    pass


def _bounded(key: str) -> str:
    # A name is whatever the form sent: a long one must not make a long key that stays in
    # Redis for a quarter of an hour.
    if len(key) <= 200:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def make_throttle(config: dict[str, Any]) -> Throttle:
    """Shared through Redis when ``REDIS_URL`` is set, else this process's own."""
    url = config.get("REDIS_URL")
    return RedisLoginThrottle(url) if url else LoginThrottle()
