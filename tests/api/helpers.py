"""Small helpers shared by the API tests."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def poll(fetch: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 5.0,
         interval: float = 0.05) -> Any:
    """Call ``fetch`` until ``until(result)`` holds; return the last result (checked by caller)."""
    deadline = time.monotonic() + timeout
    result = fetch()
    while not until(result) and time.monotonic() < deadline:
        time.sleep(interval)
        result = fetch()
    return result


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0,
             interval: float = 0.25) -> Any:
    """Call ``check`` until it returns something true and return that; fail naming ``what``
    when ``timeout`` passes first."""
    import pytest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout:g} s")
