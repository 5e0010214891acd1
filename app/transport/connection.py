"""Drive one charger's OCPP session over its websocket (``driver.WebSocket``).

The receive loop answers the charger's CALLs in order; ``call`` sends our CALLs, one at a time,
from any greenlet (API requests, jobs) and waits for the reply or the timeout. Calls may cross:
a charger's CALL is answered while ours is outstanding.
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..models import MessageLog
from ..ocpp import errors, frames
from ..ocpp.context import ChargerContext
from ..ocpp.session import (
    CallReceived,
    Ignored,
    OcppSession,
    Rejected,
    ReplyReceived,
    SendReceived,
)
from ..services.errors import InvalidReport
from ..storage.text import storable
from ..storage.writer import GroupWriter
from .driver import WebSocket
from .registry import node_id

log = logging.getLogger(__name__)
message_log = MessageLog.__table__
_serial = itertools.count(1)


@dataclass
class CallOutcome:
    """What became of one outgoing CALL."""

    status: str  # completed | error | timeout
    message_id: str
    response: dict[str, Any] | None = None
    error_code: str | None = None
    error_description: str | None = None
    error_details: dict[str, Any] = field(default_factory=dict)
    sent_at: datetime | None = None
    duration_ms: float | None = None


class _Waiter:
    __slots__ = ("event", "outcome")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.outcome: ReplyReceived | None = None


class ChargerConnection:
    def __init__(self, ws: WebSocket, ctx: ChargerContext, session: OcppSession, handlers: dict,
                 *, log_messages: bool, ping_interval: float, max_missed_pongs: int,
                 on_first_answer: Callable[[], None] | None = None) -> None:
        self.ws = ws
        self.ctx = ctx
        self.session = session
        self.handlers = handlers
        self.identity = ctx.identity
        self.owner = f"{node_id()}:{next(_serial)}"
        self._writer: GroupWriter = ctx.writer
        self._log_messages = log_messages
        self._ping_interval = ping_interval or None
        self._max_missed_pongs = max_missed_pongs
        self._call_lock = threading.Lock()
        self._waiters: dict[str, _Waiter] = {}
        self._closed = False
        self._missed_pongs = 0
        self.last_activity = time.monotonic()
        self.session.accepted = ctx.registration == "accepted"
        # Admission control's ticket: the charger stops counting as pending once answered.
        self._on_first_answer = on_first_answer

    # Sending --------------------------------------------------------------------------------

    def _send(self, text: str, message_type: int, message_id: str | None,
              action: str | None, when: datetime | None = None,
              timeout: float | None = None) -> None:
        self.ws.send(text, timeout)
        self._log("out", text, message_type, message_id, action, when)

    def _log(self, direction: str, text: str | bytes, message_type: int | None,
             message_id: str | None, action: str | None, when: datetime | None = None) -> None:
        if not self._log_messages:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self._writer.append(message_log, {
            "charger_id": self.ctx.charger_id, "identity": self.identity, "direction": direction,
            "created_at": when or datetime.now(UTC), "message_type": message_type,
            # The charger chose these: a lone surrogate or a 200,000-character action must not
            # fail the batch that carries every charger's log rows.
            "message_id": storable(message_id, 64), "action": storable(action, 64),
            "frame": text,
        })

    def call(self, action: str, payload: dict[str, Any], timeout: float) -> CallOutcome:
        """Send a CALL and wait for its reply; waits its turn behind other outgoing CALLs."""
        deadline = time.monotonic() + timeout
        if not self._call_lock.acquire(timeout=timeout):
            return CallOutcome("timeout", "", error_description="waited too long for its turn")
        try:
            if self._closed:
                return _not_connected("")
            pending, text = self.session.start_call(action, payload)
            try:
                return self._call(pending.unique_id, action, text, deadline)
            finally:
                # Whatever happened (a reply, a timeout, a frame that could not be sent, a bug),
                # the call is no longer outstanding: the next command must not see it.
                self._waiters.pop(pending.unique_id, None)
                self.session.expire(pending.unique_id)
        finally:
            self._call_lock.release()

    def _call(self, unique_id: str, action: str, text: str, deadline: float) -> CallOutcome:
        waiter = _Waiter()
        self._waiters[unique_id] = waiter
        sent_at = datetime.now(UTC)
        started = time.perf_counter()
        try:
            # The write shares the call's deadline: a charger that does not read is cut off.
            self._send(text, frames.CALL, unique_id, action,
                       timeout=max(0.0, deadline - time.monotonic()))
        except OSError:
            return _not_connected(unique_id, sent_at)
        waiter.event.wait(max(0.0, deadline - time.monotonic()))
        duration = (time.perf_counter() - started) * 1000
        reply = waiter.outcome
        if reply is None:
            if self._closed:
                return _not_connected(unique_id, sent_at, duration)
            return CallOutcome("timeout", unique_id, sent_at=sent_at, duration_ms=duration)
        return _outcome(reply, sent_at, duration)

    # Receiving ------------------------------------------------------------------------------

    def serve(self) -> None:
        """Run until the charger disconnects or the connection is replaced."""
        # No receive timeout: a timer per frame costs on the per-message path; idle
        # connections are pinged by the keepalive loop instead.
        while not self._closed:
            try:
                text = self.ws.receive()
                if text is None:
                    break
                self.last_activity = time.monotonic()
                self._handle_frame(text)
            except OSError:  # the socket broke under a read or a reply
                break

    def keepalive(self, now: float) -> None:
        """Ping a connection idle for a ping interval; close it after too many silent pings.

        Called by the one keepalive loop for every connection, so it never waits on this
        charger's socket: the ping or the close is sent from a greenlet of its own.
        """
        if self._ping_interval is None or now - self.last_activity < self._ping_interval:
            return
        self._missed_pongs = 0 if self.ws.pong_received else self._missed_pongs + 1
        self.last_activity = now
        if self._max_missed_pongs and self._missed_pongs >= self._max_missed_pongs:
            log.info("%s: %d pings unanswered, closing", self.identity, self._missed_pongs)
            _spawn(self.close, "ping timeout")
            return
        self.ws.pong_received = False
        _spawn(self._ping)

    def _ping(self) -> None:
        try:
            self.ws.ping()
        except OSError:
            self.close()

    def _handle_frame(self, text: str | bytes) -> None:
        now = datetime.now(UTC)
        self._writer.touch(self.ctx.charger_id, now)
        event = self.session.receive(text)
        if isinstance(event, CallReceived):
            call = event.call
            self._log("in", text, frames.CALL, call.unique_id, call.action, now)
            if event.violation is not None:
                log.warning("%s: lenient: %s %s", self.identity, call.action,
                            event.violation.description)
            self._answer(call, now)
            self.session.accepted = self.ctx.registration == "accepted"
        elif isinstance(event, ReplyReceived):
            message_type = _REPLY_TYPES[type(event.message)]
            self._log("in", text, message_type, event.call.unique_id, event.call.action)
            waiter = self._waiters.get(event.call.unique_id)
            if waiter is not None:
                waiter.outcome = event
                waiter.event.set()
        elif isinstance(event, Rejected):
            self._log("in", text, None, None, event.action)
            log.info("%s: rejected frame: %s", self.identity, event.error)
            self._send(event.reply, frames.CALLERROR, event.error.unique_id, event.action)
        elif isinstance(event, SendReceived):
            # Stored, never answered (OCPP 2.1): not even a bad one gets a CALLERROR.
            send = event.send
            self._log("in", text, frames.SEND, send.unique_id, send.action, now)
            if event.violation is not None:
                log.warning("%s: SEND %s not valid (recorded, not answered): %s", self.identity,
                            send.action, event.violation.description)
        elif isinstance(event, Ignored):
            self._log("in", text, None, event.unique_id, None)
            log.info("%s: ignored frame (%s)", self.identity, event.reason)

    def _answer(self, call: frames.Call, now: datetime) -> None:
        handler = self.handlers[call.action]
        try:
            reply = self.session.result(call.unique_id, handler(self.ctx, call.payload, now))
            message_type = frames.CALLRESULT
        except errors.RemoteProtocolError as exc:
            reply = self.session.error(call.unique_id, exc.code, exc.description, exc.details)
            message_type = frames.CALLERROR
        except InvalidReport as exc:
            # The one place a domain refusal of a report becomes a CALLERROR, for every version.
            reply = self.session.error(call.unique_id,
                                       exc.code or errors.PROPERTY_CONSTRAINT_VIOLATION,
                                       exc.message, exc.details)
            message_type = frames.CALLERROR
        except Exception:  # noqa: BLE001 - our fault: say so without leaking details
            log.exception("%s: handler for %s failed", self.identity, call.action)
            reply = self.session.error(call.unique_id, errors.INTERNAL_ERROR,
                                       "The CSMS could not process the request")
            message_type = frames.CALLERROR
        try:
            self._send(reply, message_type, call.unique_id, call.action)
        except OSError:
            self._closed = True
        if self._on_first_answer is not None:
            callback, self._on_first_answer = self._on_first_answer, None
            callback()

    def registration_changed(self, status: str) -> None:
        """An operator set the charger's registration status; a rejected charger is let go."""
        self.ctx.registration = status
        self.session.accepted = status == "accepted"
        if status == "rejected":
            self.close("registration rejected")

    def close(self, reason: str = "") -> None:
        """Close the socket (a newer connection replaced this one, or shutdown)."""
        self._closed = True
        for waiter in list(self._waiters.values()):
            waiter.event.set()
        # serve() wakes when the charger answers our Close, or after the driver's grace period.
        self.ws.close(1000, reason)


def _spawn(fn, *args) -> None:
    threading.Thread(target=fn, args=args, daemon=True).start()


def _not_connected(unique_id: str, sent_at: datetime | None = None,
                   duration: float | None = None) -> CallOutcome:
    return CallOutcome("error", unique_id, error_code="NotConnected",
                       error_description="the charger disconnected", sent_at=sent_at,
                       duration_ms=duration)


# How each kind of reply is written in the message log.
_REPLY_TYPES = {frames.CallResult: frames.CALLRESULT, frames.CallError: frames.CALLERROR,
                frames.CallResultError: frames.CALLRESULTERROR}


def _outcome(reply: ReplyReceived, sent_at: datetime, duration: float) -> CallOutcome:
    message = reply.message
    # A 2.1 CALLRESULTERROR is recorded against the command as a CALLERROR is.
    if isinstance(message, frames.CallError | frames.CallResultError):
        return CallOutcome("error", message.unique_id, error_code=message.code,
                           error_description=message.description,
                           error_details=message.details, sent_at=sent_at, duration_ms=duration)
    if reply.violation is not None:
        return CallOutcome("error", message.unique_id, response=message.payload,
                           error_code=reply.violation.code,
                           error_description=f"invalid reply: {reply.violation.description}",
                           sent_at=sent_at, duration_ms=duration)
    return CallOutcome("completed", message.unique_id, response=message.payload,
                       sent_at=sent_at, duration_ms=duration)
