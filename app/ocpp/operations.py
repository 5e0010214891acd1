"""What a version's adapter makes of a version-neutral operation: a ``Translation``.

Operators (the API, the console, jobs) name an operation ("start", "reset", ...) with
version-neutral arguments (``services/operations.py`` lists them and checks them). Each
version's adapter (``v16/operations.py``, ``v201/operations.py``) words it as one of its
commands: the action, the payload in that version's fields, and options for the command's
effects (``services/command_effects.py``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Translation:
    """One command to send: ``action`` with ``payload`` (the version's camelCase fields);
    ``options`` go to the command's effects (``firmware_file_id``, ``remote_start_id``)."""

    action: str
    payload: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


# translate(checked arguments) -> Translation; raises services.errors.DomainError (400 for an
# argument this version cannot take, 422 for what it cannot do).
Translate = Callable[[dict[str, Any]], Translation]
