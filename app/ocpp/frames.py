"""OCPP-J frames: turn text into a message and messages into text. No I/O.

CALL ``[2, id, action, payload]``, CALLRESULT ``[3, id, payload]``,
CALLERROR ``[4, id, code, description, details]``; and in OCPP 2.1 only (``parse(..., rpc21=True)``)
CALLRESULTERROR ``[5, id, code, description, details]`` (a CALLRESULT the charger could not
build) and SEND ``[6, id, action, payload]`` (a message that is never answered).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .. import strictjson
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
    # Set when the frame carries what strict JSON refuses (NaN, 1e400, an integer beyond 64
    # bits, a lone surrogate): the session refuses the CALL, in lenient mode too.
    error: errors.RemoteProtocolError | None = None


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    # Scrubbed (storable) when ``error`` is set: the reply is recorded as invalid.
    payload: dict[str, Any]
    error: errors.RemoteProtocolError | None = None


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallResultError:
    """OCPP 2.1: the answer to our CALL is an error the charger hit while building its
    CALLRESULT; recorded against the call like a CALLERROR."""

    unique_id: str
    code: str
    description: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Send:
    """OCPP 2.1: a one-way message (NotifyPeriodicEventStream, ...), never answered."""

    unique_id: str
    action: str
    payload: dict[str, Any]
    error: errors.RemoteProtocolError | None = None


@dataclass(frozen=True, slots=True)
class UnknownMessageType:
    """A frame whose message type id this version does not know."""

    message_type: Any
    unique_id: str


Message = Call | CallResult | CallError | CallResultError | Send | UnknownMessageType


def parse(text: str | bytes, rpc21: bool = False) -> Message:
    """Parse one frame. Raises ``RemoteProtocolError`` with the code to answer with.

    ``rpc21``: the connection speaks OCPP 2.1, whose message types include SEND and
    CALLRESULTERROR; for earlier versions those ids are unknown message types.

    Numbers and text that strict JSON refuses (``strictjson``) do not raise here when the frame
    is otherwise readable: the message comes back with ``error`` set (a CALLERROR's fields are
    scrubbed), so that a CALL is refused with its own id and a bad reply is recorded as one.
    """
    problem: errors.RemoteProtocolError | None = None
    try:
        frame = strictjson.loads(text)
    except strictjson.OutOfRange as exc:
        frame = _lenient_loads(text)
        problem = errors.RemoteProtocolError(errors.TYPE_CONSTRAINT_VIOLATION, str(exc))
    except strictjson.NonFinite as exc:
        frame = _lenient_loads(text)
        problem = errors.RemoteProtocolError(errors.FORMAT_VIOLATION, str(exc))
    except (ValueError, UnicodeDecodeError):
        raise errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "Frame is not valid JSON", unique_id=UNKNOWN_ID
        ) from None
    except RecursionError:
        raise errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "Frame is nested too deeply", unique_id=UNKNOWN_ID
        ) from None
    # A lone surrogate needs a \uD8xx-\uDFxx escape (raw ones cannot be UTF-8): the walk is
    # only for frames that have one.
    if problem is None and strictjson.may_have_surrogate(text) and \
            strictjson.has_lone_surrogate(frame):
        problem = errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "Frame has a lone UTF-16 surrogate: not Unicode text")
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
        if problem is not None:
            # The action may itself be unreadable text: the session only needs the id.
            return Call(unique_id, strictjson.scrub(frame[2]), frame[3], problem)
        return Call(unique_id, frame[2], frame[3])
    if rpc21 and message_type == SEND:
        return _send(frame, unique_id, problem)
    if message_type == CALLRESULT:
        if len(frame) != 3 or not isinstance(frame[2], dict):
            raise errors.RemoteProtocolError(
                errors.FORMAT_VIOLATION, "CALLRESULT must be [3, id, {payload}]",
                unique_id=unique_id,
            )
        if problem is not None:
            return CallResult(unique_id, strictjson.scrub(frame[2]), problem)
        return CallResult(unique_id, frame[2])
    if message_type == CALLERROR or (rpc21 and message_type == CALLRESULTERROR):
        name = "CALLERROR" if message_type == CALLERROR else "CALLRESULTERROR"
        if len(frame) not in (4, 5) or not isinstance(frame[2], str):
            raise errors.RemoteProtocolError(
                errors.FORMAT_VIOLATION,
                f"{name} must be [{message_type}, id, code, description, details]",
                unique_id=unique_id,
            )
        if problem is not None:
            frame = [*frame[:2], *strictjson.scrub(frame[2:])]
        description = frame[3] if isinstance(frame[3], str) else str(frame[3])
        details = frame[4] if len(frame) == 5 and isinstance(frame[4], dict) else {}
        kind = CallError if message_type == CALLERROR else CallResultError
        return kind(unique_id, frame[2], description, details)
    return UnknownMessageType(message_type, unique_id)


def _send(frame: list, unique_id: str, problem: errors.RemoteProtocolError | None) -> Send:
    """A SEND is never answered, not even when malformed: what is wrong with it comes back as
    its ``error``, to be recorded."""
    action = frame[2] if len(frame) > 2 else ""
    payload = frame[3] if len(frame) > 3 else None
    if problem is None and (len(frame) != 4 or not isinstance(action, str)):
        problem = errors.RemoteProtocolError(errors.RPC_FRAMEWORK_ERROR,
                                             "SEND must be [6, id, action, payload]")
    elif problem is None and not isinstance(payload, dict):
        problem = errors.RemoteProtocolError(errors.FORMAT_VIOLATION,
                                             "SEND payload must be a JSON object")
    action = action if isinstance(action, str) else ""
    payload = payload if isinstance(payload, dict) else {}
    if problem is not None:
        return Send(unique_id, strictjson.scrub(action), strictjson.scrub(payload), problem)
    return Send(unique_id, action, payload)


def _lenient_loads(text: str | bytes) -> Any:
    """The frame as Python's lenient parser reads it, to answer a frame strict parsing refused
    for its numbers with the frame's own id."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise errors.RemoteProtocolError(
            errors.FORMAT_VIOLATION, "Frame is not valid JSON", unique_id=UNKNOWN_ID
        ) from None


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
    # ASCII: the id (and a description quoting the charger) may echo a lone surrogate, which
    # only an escape can carry; a CALLERROR must always be sendable.
    return json.dumps([CALLERROR, unique_id, code, description[:255], details or {}],
                      separators=(",", ":"), ensure_ascii=True, default=_default)
