"""OCPP-J frames: turn text into a message and messages into text. No I/O.

CALL ``[2, id, action, payload]``, CALLRESULT ``[3, id, payload]``,
CALLERROR ``[4, id, code, description, details]``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import errors

CALL = 2
CALLRESULT = 3
CALLERROR = 4
# OCPP 2.1 only.
CALLRESULTERROR = 5
SEND = 6

MAX_ID_LENGTH = 36
# Used when a frame's id cannot be read (OCPP 2.x Part 4; 1.6 chargers accept it too).
UNKNOWN_ID = "-1"


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnknownMessageType:
    """A frame whose message type id this version does not know."""

    message_type: Any
    unique_id: str


Message = Call | CallResult | CallError | UnknownMessageType


def parse(text: str | bytes) -> Message:
    """Parse one frame. Raises ``RemoteProtocolError`` with the code to answer with."""
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "Frame is not valid JSON", unique_id=UNKNOWN_ID
        ) from None
    if not isinstance(frame, list) or len(frame) < 3:
        raise errors.RemoteProtocolError(
            errors.RPC_FRAMEWORK_ERROR, "Frame is not an OCPP-J array", unique_id=UNKNOWN_ID
        )
    message_type, unique_id = frame[0], frame[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_ID_LENGTH:
        raise errors.RemoteProtocolError(
            errors.RPC_FRAMEWORK_ERROR,
            f"Message id must be a string of 1 to {MAX_ID_LENGTH} characters",
            unique_id=UNKNOWN_ID,
        )
    if message_type == CALL:
        if len(frame) != 4 or not isinstance(frame[2], str):
            raise errors.RemoteProtocolError(
                errors.RPC_FRAMEWORK_ERROR, "CALL must be [2, id, action, payload]",
                unique_id=unique_id,
            )
        if not isinstance(frame[3], dict):
            raise errors.RemoteProtocolError(
                errors.FORMAT_VIOLATION, "CALL payload must be a JSON object", unique_id=unique_id
            )
        return Call(unique_id, frame[2], frame[3])
    if message_type == CALLRESULT:
        if len(frame) != 3 or not isinstance(frame[2], dict):
            raise errors.RemoteProtocolError(
                errors.FORMAT_VIOLATION, "CALLRESULT must be [3, id, {payload}]",
                unique_id=unique_id,
            )
        return CallResult(unique_id, frame[2])
    if message_type == CALLERROR:
        if len(frame) not in (4, 5) or not isinstance(frame[2], str):
            raise errors.RemoteProtocolError(
                errors.FORMAT_VIOLATION, "CALLERROR must be [4, id, code, description, details]",
                unique_id=unique_id,
            )
        description = frame[3] if isinstance(frame[3], str) else str(frame[3])
        details = frame[4] if len(frame) == 5 and isinstance(frame[4], dict) else {}
        return CallError(unique_id, frame[2], description, details)
    return UnknownMessageType(message_type, unique_id)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=_default)


def _default(obj: Any) -> Any:
    # Decimals come from validating charging profiles with exact multipleOf checks.
    from decimal import Decimal

    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def call(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return _dumps([CALL, unique_id, action, payload])


def call_result(unique_id: str, payload: dict[str, Any]) -> str:
    return _dumps([CALLRESULT, unique_id, payload])


def call_error(unique_id: str, code: str, description: str = "",
               details: dict[str, Any] | None = None) -> str:
    return _dumps([CALLERROR, unique_id, code, description[:255], details or {}])
