"""One OCPP-J conversation with one charger, as a state machine that does no I/O.

Feed it each received frame with ``receive``; it returns an event saying what happened and, where
the protocol demands an answer of its own (a CALLERROR for a bad frame), the text to send. Start
outgoing calls with ``start_call``; it enforces one outstanding CALL, validates the payload and
matches the reply by id. OCPP 2.1's SEND (``SendReceived``: stored, never answered) and
CALLRESULTERROR (a ``ReplyReceived`` carrying the error) exist only for a version with
``has_send``; for the others their ids are unknown message types, treated by the version's rule.
The driver tells it when a call timed out (``expire``); a reply that comes
after that is reported as late, to be logged and dropped.
"""
from __future__ import annotations

import itertools
import os
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from . import errors, frames, validation
from .versions import OcppVersion


@dataclass(slots=True)
class PendingCall:
    unique_id: str
    action: str
    payload: dict[str, Any]


# Events returned by OcppSession.receive -------------------------------------------------------


@dataclass(slots=True)
class CallReceived:
    """A valid CALL (or, for a lenient charger, a CALL whose ``violation`` was recorded)."""

    call: frames.Call
    violation: errors.RemoteProtocolError | None = None


@dataclass(slots=True)
class Rejected:
    """A frame the charger got wrong; ``reply`` is the CALLERROR to send back."""

    reply: str
    error: errors.RemoteProtocolError
    action: str | None = None


@dataclass(slots=True)
class ReplyReceived:
    """The answer to our outstanding CALL: a CallResult, a CallError or (2.1) a
    CallResultError."""

    call: PendingCall
    message: frames.CallResult | frames.CallError | frames.CallResultError
    # A CALLRESULT whose payload breaks the response schema.
    violation: errors.RemoteProtocolError | None = None


@dataclass(slots=True)
class Ignored:
    """A frame that needs no answer: a late or unmatched reply, an unknown 1.6 message type."""

    reason: str
    unique_id: str | None = None
    late: bool = False
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class SendReceived:
    """OCPP 2.1 SEND: stored, never answered. ``violation`` is what was wrong with it (framing,
    schema, an unknown action): recorded, and still no CALLERROR (a SEND gets no reply)."""

    send: frames.Send
    violation: errors.RemoteProtocolError | None = None


Event = CallReceived | Rejected | ReplyReceived | Ignored | SendReceived

# What a charger may send before its registration is accepted (OCPP 1.6 4.2, 2.0.1 B02.FR.09).
PRE_REGISTRATION_ACTIONS = frozenset({"BootNotification"})


class CallInProgress(Exception):
    """``start_call`` while another CALL awaits its reply: the driver must queue."""


class OcppSession:
    def __init__(self, version: OcppVersion, *, lenient: bool = False,
                 handled_actions: frozenset[str] | None = None) -> None:
        self.version = version
        self.lenient = lenient
        self._known = validation.known_actions(version.name)
        self._handled = handled_actions if handled_actions is not None else self._known
        self._pending: PendingCall | None = None
        # Ids of calls that timed out, to tell a late reply from a reply to nothing.
        self._expired: deque[str] = deque(maxlen=32)
        self._ids = itertools.count(1)
        self._id_prefix = os.urandom(4).hex()
        # Until the CSMS has accepted the charger's registration (BootNotification answered
        # Accepted, now or on an earlier connection), it answers nothing but BootNotification.
        self.accepted = True

    @property
    def pending(self) -> PendingCall | None:
        return self._pending

    # Incoming -------------------------------------------------------------------------------

    def receive(self, text: str | bytes) -> Event:
        try:
            message = frames.parse(text, rpc21=self.version.has_send)
        except errors.RemoteProtocolError as exc:
            return self._reject(exc.unique_id or frames.UNKNOWN_ID, exc)
        if isinstance(message, frames.Call):
            return self._receive_call(message)
        if isinstance(message, frames.Send):
            return SendReceived(message, self._send_violation(message))
        if isinstance(message, frames.UnknownMessageType):
            if self.version.unknown_message_type == "ignore":
                return Ignored("unknown message type", message.unique_id,
                               details={"message_type": message.message_type})
            exc = errors.RemoteProtocolError(errors.MESSAGE_TYPE_NOT_SUPPORTED,
                                             f"Unknown message type {message.message_type!r}")
            return self._reject(message.unique_id, exc)
        return self._receive_reply(message)

    def _reject(self, unique_id: str, exc: errors.RemoteProtocolError,
                action: str | None = None) -> Rejected:
        reply = frames.call_error(unique_id, self.version.spell(exc.code),
                                  exc.description, exc.details)
        return Rejected(reply, exc, action)

    def _receive_call(self, call: frames.Call) -> Event:
        if call.error is not None:
            # Not strict JSON (NaN, 1e400, an integer beyond 64 bits, a lone surrogate): nothing
            # could store it, so lenient chargers are refused too.
            return self._reject(call.unique_id, call.error, call.action)
        if call.action not in self._known:
            exc = errors.RemoteProtocolError(errors.NOT_IMPLEMENTED,
                                             f"Unknown action {call.action!r}")
            return self._reject(call.unique_id, exc, call.action)
        if call.action not in self._handled:
            exc = errors.RemoteProtocolError(errors.NOT_SUPPORTED,
                                             f"Action {call.action!r} is not supported")
            return self._reject(call.unique_id, exc, call.action)
        if not self.accepted and call.action not in PRE_REGISTRATION_ACTIONS:
            exc = errors.RemoteProtocolError(
                errors.SECURITY_ERROR,
                f"{call.action} refused: the charger's registration is not accepted; "
                "send BootNotification")
            return self._reject(call.unique_id, exc, call.action)
        violation = validation.check(self.version.name, validation.REQUEST, call.action,
                                     call.payload)
        if violation is not None and not self.lenient:
            return self._reject(call.unique_id, violation, call.action)
        return CallReceived(call, violation)

    def _send_violation(self, send: frames.Send) -> errors.RemoteProtocolError | None:
        if send.error is not None:
            return send.error
        if send.action not in self._known and \
                send.action not in validation.send_actions(self.version.name):
            return errors.RemoteProtocolError(errors.NOT_IMPLEMENTED,
                                              f"Unknown action {send.action!r}")
        return validation.check(self.version.name, validation.SEND, send.action, send.payload)

    def _receive_reply(self, message: frames.CallResult | frames.CallError
                       | frames.CallResultError) -> Event:
        pending = self._pending
        if pending is None or pending.unique_id != message.unique_id:
            late = message.unique_id in self._expired
            return Ignored("late reply" if late else "reply to no outstanding call",
                           message.unique_id, late=late)
        self._pending = None
        violation = None
        if isinstance(message, frames.CallResult) and message.error is not None:
            violation = message.error
        elif isinstance(message, frames.CallResult):
            violation = validation.check(self.version.name, validation.RESPONSE,
                                         pending.action, message.payload)
        return ReplyReceived(pending, message, violation)

    # Outgoing -------------------------------------------------------------------------------

    def start_call(self, action: str, payload: dict[str, Any]) -> tuple[PendingCall, str]:
        """Validate and frame an outgoing CALL. Raises LocalProtocolError or CallInProgress."""
        if self._pending is not None:
            raise CallInProgress(self._pending.unique_id)
        if action not in self._known:
            raise errors.LocalProtocolError(f"OCPP {self.version.name} has no action {action!r}",
                                            code=errors.NOT_IMPLEMENTED)
        violation = validation.check_outgoing(self.version.name, action, payload)
        if violation is not None:
            raise errors.LocalProtocolError(violation.description, code=violation.code,
                                            details=violation.details)
        pending = PendingCall(f"{self._id_prefix}-{next(self._ids)}", action, payload)
        self._pending = pending
        return pending, frames.call(pending.unique_id, action, payload)

    def expire(self, unique_id: str) -> bool:
        """The driver's timer ran out for ``unique_id``; later replies to it are late."""
        if self._pending is not None and self._pending.unique_id == unique_id:
            self._pending = None
            self._expired.append(unique_id)
            return True
        return False

    def result(self, unique_id: str, payload: dict[str, Any]) -> str:
        return frames.call_result(unique_id, payload)

    def error(self, unique_id: str, code: str, description: str = "",
              details: dict[str, Any] | None = None) -> str:
        return frames.call_error(unique_id, self.version.spell(code), description,
                                 details)
