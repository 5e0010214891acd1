"""Background jobs on RQ: importable functions that take ids, run by ``flask --app wsgi worker``.

Jobs that need the database run inside the app context that the worker command pushes.
"""
from __future__ import annotations

QUEUE_NAME = "constellation"


def echo(value: str) -> str:
    """Return ``value``: proves that a job travels through Redis to a worker and back."""
    return value


def run_operation(identity: str, name: str, args: dict | None = None,
                  requested_by: str | None = None) -> dict:
    """Run a version-neutral operation (``services.operations``) on a charger as a job, and
    return its command as the API shows it. Refusals raise ``DomainError`` (the job fails
    with the reason)."""
    from .services import commands, operations

    command = operations.run(identity, name, args or {}, requested_by=requested_by,
                             source="job")
    return {**commands.command_to_dict(command), "operation": name}


def run_bulk_operation(bulk_id: int) -> dict:
    """Run a recorded bulk operation (``services.bulk_operations``) to its end or its
    cancellation; return its summary. Raises when the bulk operation cannot run."""
    from .services import bulk_operations

    return bulk_operations.run(bulk_id)
