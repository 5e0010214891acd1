"""Keep the garbage collector's pauses short while thousands of chargers stay connected.

Every open connection keeps a few hundred objects alive (its greenlet, request context, OCPP
session...). CPython's full collections walk all of them: 0.2-0.65 s with 5,000 chargers, and
every charger waits meanwhile (docs/performance.md). So what survives a full collection is
frozen (``gc.freeze()``): the next full collection walks only the objects that came since.

A frozen object is still freed as soon as nothing refers to it (most objects are); only one that
ends up in a reference cycle stays until it is unfrozen. Every ``GC_FULL_COLLECT_SECONDS`` all
objects are unfrozen and collected once: one longer pause an hour by default, instead of several
a minute while a fleet connects. That collection also hands the C heap's free pages back to the
system, so that memory returns to its level before a burst of connections.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import os
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


def freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    """``gc.callbacks`` hook: after a full collection, freeze what survived it."""
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def full_collection() -> int:
    """Unfreeze everything and collect once (the survivors are frozen again by the hook)."""
    gc.unfreeze()
    started = time.perf_counter()
    collected = gc.collect()
    release_free_memory()
    log.info("full garbage collection: %d unreachable objects, %.0f ms", collected,
             (time.perf_counter() - started) * 1000)
    return collected


def release_free_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc ``malloc_trim``).

    glibc keeps freed memory inside its heap: after a burst of connections has come and gone
    (permessage-deflate's zlib streams take ~300 KB each), the process stayed at its peak size.
    """
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return
    trim(0)


_installed: int | None = None


def install(enabled: bool, full_collect_every: float) -> None:
    """Set the policy up in this process, once (the process that holds charger sockets)."""
    global _installed
    if not enabled or _installed == os.getpid():
        return
    _installed = os.getpid()
    if freeze_survivors not in gc.callbacks:
        gc.callbacks.append(freeze_survivors)
    if full_collect_every <= 0:
        return

    def loop() -> None:
        while True:
            time.sleep(full_collect_every)
            try:
                full_collection()
            except Exception:  # noqa: BLE001 - never let this stop the process
                log.exception("full garbage collection")

    threading.Thread(target=loop, name="gc-full-collection", daemon=True).start()
