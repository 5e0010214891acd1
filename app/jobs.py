"""Background jobs on RQ: importable functions that take ids, run by ``flask --app wsgi worker``.

Jobs that need the database run inside the app context that the worker command pushes.
"""
from __future__ import annotations

QUEUE_NAME = "constellation"


def echo(value: str) -> str:
    """Return ``value``: proves that a job travels through Redis to a worker and back."""
    return value
