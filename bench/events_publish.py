"""What ``publish`` costs on the per-message path, per event, for each bus and watcher state.

Nobody watching (in-process and through Redis: no batch, no Redis call), a subscriber in this
process, and a subscriber in another "process" (a second bus on the same Redis: the event is
batched and sent by the flusher, never on the caller's path). Needs a Redis:

    .venv/bin/python bench/events_publish.py --redis redis://127.0.0.1:6379/0 [--events 100000]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _per_event(bus, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        bus.publish("status", "CP-1", evse_id=1, connector_id=1, status="Available", n=i)
    return (time.perf_counter() - start) / n * 1e9


def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the other bus was not seen watching")
        time.sleep(0.01)


def main() -> None:
    from app.events import LocalEventBus
    from app.events_redis import RedisEventBus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", required=True)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    n = args.events
    channel = f"bench-events-{os.getpid()}"

    local = LocalEventBus()
    print(f"local, nobody watching:        {_per_event(local, n):8.0f} ns/event")
    q = local.subscribe()
    print(f"local, one subscriber:         {_per_event(local, min(n, 900)):8.0f} ns/event")
    local.unsubscribe(q)

    a = RedisEventBus(args.redis, channel=channel, watchers_key=channel + ":w")
    b = RedisEventBus(args.redis, channel=channel, watchers_key=channel + ":w")
    a.start()
    b.start()
    print(f"redis, nobody watching:        {_per_event(a, n):8.0f} ns/event")
    remote = b.subscribe()
    _until(lambda: a.remote_watched)
    print(f"redis, watched elsewhere:      {_per_event(a, n):8.0f} ns/event (batched)")
    received = 0
    deadline = time.monotonic() + 30
    while received < n and time.monotonic() < deadline:
        try:
            remote.get(timeout=1)
            received += 1
        except Exception:  # noqa: BLE001 - queue.Empty: the rest were dropped (slow reader)
            break
    # A burst faster than the flusher keeps the newest 10,000 batched events (PENDING_LIMIT).
    print(f"received by the other bus:     {received} of {n}")
    a.close()
    b.close()


if __name__ == "__main__":
    main()
