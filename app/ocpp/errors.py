"""OCPP-J error codes, and whose fault an error is.

The code names here are the 2.x spellings; ``OcppVersion.spell`` turns them into a version's own
(1.6 writes ``FormationViolation`` and ``OccurenceConstraintViolation``).
"""
from __future__ import annotations

from typing import Any

FORMAT_VIOLATION = "FormatViolation"
GENERIC_ERROR = "GenericError"
INTERNAL_ERROR = "InternalError"
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
NOT_IMPLEMENTED = "NotImplemented"
NOT_SUPPORTED = "NotSupported"
OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
PROTOCOL_ERROR = "ProtocolError"
RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
SECURITY_ERROR = "SecurityError"
TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"

class RemoteProtocolError(Exception):
    """The charger broke the protocol: answer with a CALLERROR, keep the connection."""

    def __init__(self, code: str, description: str, details: dict[str, Any] | None = None,
                 unique_id: str | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description[:255]
        self.details = details or {}
        self.unique_id = unique_id


class LocalProtocolError(Exception):
    """We asked for something the protocol does not allow (an invalid outgoing CALL, ...)."""

    def __init__(self, message: str, code: str = FORMAT_VIOLATION,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or {}
