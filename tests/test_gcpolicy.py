"""The garbage-collector policy: survivors of a full collection are frozen, and reclaimed later."""
from __future__ import annotations

import gc
import weakref

import pytest

from app import gcpolicy


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def hook():
    gc.callbacks.append(gcpolicy.freeze_survivors)
    try:
        yield
    finally:
        gc.callbacks.remove(gcpolicy.freeze_survivors)
        gc.unfreeze()


def test_survivors_of_a_full_collection_are_frozen(hook):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert gc.get_freeze_count() > 0
    # A young collection freezes nothing more.
    frozen = gc.get_freeze_count()
    gc.collect(0)
    assert gc.get_freeze_count() == frozen


def test_a_frozen_cycle_is_reclaimed_by_the_periodic_full_collection(hook):
    a, b = Node(), Node()
    a.other, b.other = b, a
    probe = weakref.ref(a)
    gc.collect()  # a and b are alive: frozen with the other survivors
    del a, b
    gc.collect()  # the cycle is garbage now, but frozen objects are not looked at
    assert probe() is not None
    gcpolicy.full_collection()
    assert probe() is None

