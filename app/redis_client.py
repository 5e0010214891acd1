"""Redis clients for the shared resources (live events, login throttling), from ``REDIS_URL``.

Short timeouts everywhere: Redis carries only what is shared between processes, so a Redis that
is down or slow must cost a caller a bounded wait (and a logged error), never a hang. Clients
connect on first use, so creating one never fails on an unreachable server.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

COMMAND_TIMEOUT = 2.0


def client(url: str, **options: object) -> Redis:
    """A client (a connection pool) for ``url`` with bounded connect and command times."""
    options.setdefault("socket_connect_timeout", COMMAND_TIMEOUT)
    options.setdefault("socket_timeout", COMMAND_TIMEOUT)
    # One retry, at once: enough for a pooled connection that a Redis restart broke, and no
    # seconds of backoff for a caller while Redis is away.
    options.setdefault("retry", Retry(NoBackoff(), 1))
    return Redis.from_url(url, **options)


def safe_url(url: str) -> str:
    """``url`` without its password, for logs and messages."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
