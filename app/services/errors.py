"""The one error the domain services raise: what could not be done, in words a user can act on.

Every service error (a charger, token, user, command or filter that cannot be handled as asked)
is a ``DomainError`` with a ``message``, the HTTP ``status`` that says what kind of refusal it is
(400 bad input, 404 no such thing, 409 conflicts with the current state, 422 well-formed but not
acceptable) and optional ``details``. The API turns it into a JSON 4xx in one handler
(``api/errors.py``), the console into a flash message, the CLI into a line on stderr.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or {}

    def __str__(self) -> str:
        return self.message


class InvalidReport(DomainError):
    """What a charger reported breaks a rule of the domain (a connector that cannot exist, a
    time that is no time): nothing of it is stored. The version adapters answer it with a
    CALLERROR (PropertyConstraintViolation unless ``code`` names another); the charger stays
    connected."""

    status = 422

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
