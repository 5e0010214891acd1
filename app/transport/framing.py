"""Websocket framing for the server side (RFC 6455), without I/O: bytes in, events out.

simple-websocket hands every frame from a reader thread to the route through an Event and parses
it with wsproto: two thirds of the CPU of a Heartbeat went there (docs/performance.md). The
OCPP route now reads its socket itself and parses frames with ``PlainFrames``, which does only
what an uncompressed server-side connection needs. A client that offered an extension
(permessage-deflate, which OCPP 2.x requires servers to support) keeps wsproto's framing, through
``WsprotoFrames``: same events, same errors.

Protocol violations raise ``FramingError`` with the close code to send (1002 protocol error,
1007 invalid UTF-8, 1009 message too big); the caller closes the connection with it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Protocol

from wsproto import ConnectionState, WSConnection
from wsproto import events as wse

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
NORMAL_CLOSURE = 1000
PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
MESSAGE_TOO_BIG = 1009
NO_STATUS = 1005  # reported when a close frame carries no code; never sent
# Codes a peer may put on the wire (RFC 6455 7.4.1 and the IANA registry); 3000-4999 are free.
_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013,
                             1014})
_MAX_CONTROL_PAYLOAD = 125


@dataclass(frozen=True, slots=True)
class Message:
    """A whole data message: ``str`` for text, ``bytes`` for binary."""

    data: str | bytes


@dataclass(frozen=True, slots=True)
class Ping:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Pong:
    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """The peer's close frame; ``code`` is 1005 when it carried none."""

    code: int
    reason: str


Event = Message | Ping | Pong | Close


class FramingError(Exception):
    """The peer broke the framing rules: close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Frames(Protocol):
    """What the socket driver needs from a framing implementation."""

    def receive(self, data: bytes) -> list[Event]: ...
    def text(self, text: str) -> bytes: ...
    def ping(self, payload: bytes = b"") -> bytes: ...
    def pong(self, payload: bytes) -> bytes: ...
    def close(self, code: int, reason: str = "") -> bytes: ...


def _header(opcode: int, length: int) -> bytes:
    # Server frames are never masked (RFC 6455 5.1) and always final here.
    if length < 126:
        return bytes((0x80 | opcode, length))
    if length < 0x10000:
        return struct.pack("!BBH", 0x80 | opcode, 126, length)
    return struct.pack("!BBQ", 0x80 | opcode, 127, length)


def _unmask(payload: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    length = len(payload)
    if not length:
        return b""
    # One big-integer XOR instead of a Python loop over the bytes.
    key = (bytes(mask) * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        length, "little")


def _close_payload(code: int, reason: str) -> bytes:
    """Body of a close frame; the reason is cut to fit a control frame."""
    cut = reason.encode("utf-8")[:_MAX_CONTROL_PAYLOAD - 2]
    cut = cut.decode("utf-8", "ignore").encode("utf-8")  # no code point split in two
    return struct.pack("!H", code) + cut


def _parse_close(payload: bytes) -> Close:
    if not payload:
        return Close(NO_STATUS, "")
    if len(payload) == 1:
        raise FramingError(PROTOCOL_ERROR, "close frame with a one-byte body")
    code = struct.unpack_from("!H", payload)[0]
    if code not in _SENDABLE_CODES and not 3000 <= code <= 4999:
        raise FramingError(PROTOCOL_ERROR, f"invalid close code {code}")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise FramingError(INVALID_DATA, "close reason is not UTF-8") from None
    return Close(code, reason)


class PlainFrames:
    """Server-side framing without extensions."""

    def __init__(self, max_message_size: int | None = None) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0
        self._fragment_size = 0
        self._closed = False

    def receive(self, data: bytes) -> list[Event]:
        """Parse what arrived; keep an incomplete frame for the next call."""
        if self._closed:
            return []
        buf = self._buffer
        if buf:
            buf += data
        else:
            buf = bytearray(data)
        events: list[Event] = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if not b1 & 0x80:
                raise FramingError(PROTOCOL_ERROR, "client frames must be masked")
            if b0 & 0x70:
                raise FramingError(PROTOCOL_ERROR, "reserved bits set without an extension")
            fin, opcode, length = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            start = pos + 6
            if length == 126:
                if end - pos < 4:
                    break
                length = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 8
            elif length == 127:
                if end - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                if length >> 63:
                    raise FramingError(PROTOCOL_ERROR, "frame length has its top bit set")
                start = pos + 14
            self._check_frame(fin, opcode, length)
            if end < start + length:
                break
            payload = _unmask(buf[start:start + length], buf[start - 4:start])
            pos = start + length
            event = self._frame(fin, opcode, payload)
            if event is not None:
                events.append(event)
                if isinstance(event, Close):
                    self._closed = True
                    pos = end  # nothing may follow a close frame
                    break
        self._buffer = buf[pos:] if pos < end else bytearray()
        return events

    def _check_frame(self, fin: int, opcode: int, length: int) -> None:
        # Checked on the header, before the payload is buffered: a huge frame is refused early.
        if opcode >= CLOSE:
            if opcode not in (CLOSE, PING, PONG):
                raise FramingError(PROTOCOL_ERROR, f"unknown control opcode {opcode:#x}")
            if not fin or length > _MAX_CONTROL_PAYLOAD:
                raise FramingError(PROTOCOL_ERROR, "control frames must be final and short")
            return
        if opcode == CONTINUATION:
            if not self._fragment_opcode:
                raise FramingError(PROTOCOL_ERROR, "continuation frame without a message")
        elif opcode in (TEXT, BINARY):
            if self._fragment_opcode:
                raise FramingError(PROTOCOL_ERROR, "new message before the last one ended")
        else:
            raise FramingError(PROTOCOL_ERROR, f"unknown data opcode {opcode:#x}")
        limit = self.max_message_size
        if limit is not None and self._fragment_size + length > limit:
            raise FramingError(MESSAGE_TOO_BIG, f"message over {limit} bytes")

    def _frame(self, fin: int, opcode: int, payload: bytes) -> Event | None:
        if opcode == PING:
            return Ping(payload)
        if opcode == PONG:
            return Pong(payload)
        if opcode == CLOSE:
            return _parse_close(payload)
        if fin and opcode != CONTINUATION:
            return _message(opcode, payload)
        if opcode != CONTINUATION:
            self._fragment_opcode = opcode
        self._fragments.append(payload)
        self._fragment_size += len(payload)
        if not fin:
            return None
        whole = b"".join(self._fragments)
        opcode = self._fragment_opcode
        self._fragments, self._fragment_opcode, self._fragment_size = [], 0, 0
        return _message(opcode, whole)

    def text(self, text: str) -> bytes:
        data = text.encode("utf-8")
        return _header(TEXT, len(data)) + data

    def ping(self, payload: bytes = b"") -> bytes:
        return _header(PING, len(payload)) + payload

    def pong(self, payload: bytes) -> bytes:
        return _header(PONG, len(payload)) + payload

    def close(self, code: int, reason: str = "") -> bytes:
        body = _close_payload(code, reason)
        return _header(CLOSE, len(body)) + body


def _message(opcode: int, payload: bytes) -> Message:
    if opcode == BINARY:
        return Message(payload)
    try:
        return Message(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise FramingError(INVALID_DATA, "text message is not UTF-8") from None


class WsprotoFrames:
    """The same interface over wsproto, for connections that negotiated an extension.

    ``connection`` is the ``WSConnection`` that performed the handshake (simple-websocket's
    ``ws.ws``), so the extensions it agreed to stay in force.
    """

    def __init__(self, connection: WSConnection, max_message_size: int | None = None) -> None:
        self._ws = connection
        self.max_message_size = max_message_size
        self._parts: list[str | bytes] = []
        self._size = 0

    def receive(self, data: bytes) -> list[Event]:
        if self._ws.state is ConnectionState.CLOSED:
            return []
        self._ws.receive_data(data)
        events: list[Event] = []
        for event in self._ws.events():
            if isinstance(event, wse.Message):
                self._size += len(event.data)
                if self.max_message_size is not None and self._size > self.max_message_size:
                    raise FramingError(MESSAGE_TOO_BIG,
                                       f"message over {self.max_message_size} bytes")
                self._parts.append(event.data)
                if event.message_finished:
                    joined: str | bytes = ("".join if isinstance(event, wse.TextMessage)
                                           else b"".join)(self._parts)  # type: ignore[arg-type]
                    self._parts, self._size = [], 0
                    events.append(Message(joined))
            elif isinstance(event, wse.Ping):
                events.append(Ping(bytes(event.payload)))
            elif isinstance(event, wse.Pong):
                events.append(Pong(bytes(event.payload)))
            elif isinstance(event, wse.CloseConnection):
                if self._ws.state is ConnectionState.OPEN:
                    # wsproto reports its own parse failures as a close event, state unchanged.
                    raise FramingError(event.code, event.reason or "invalid frame")
                events.append(Close(event.code, event.reason or ""))
                break
        return events

    def text(self, text: str) -> bytes:
        return self._ws.send(wse.TextMessage(data=text))

    def ping(self, payload: bytes = b"") -> bytes:
        return self._ws.send(wse.Ping(payload=payload))

    def pong(self, payload: bytes) -> bytes:
        return self._ws.send(wse.Pong(payload=payload))

    def close(self, code: int, reason: str = "") -> bytes:
        try:
            return self._ws.send(wse.CloseConnection(code=code, reason=reason or None))
        except Exception:  # noqa: BLE001 - wsproto refuses a second close; nothing to send
            return b""


def release(connection: WSConnection) -> None:
    """Free a finished wsproto connection now instead of at the next full garbage collection.

    wsproto's frame parser keeps a generator of its own in an attribute, and the generator's
    frame holds the parser: a reference cycle per connection that owns the negotiated
    extensions, permessage-deflate's zlib streams (~300 KB) among them. Only the garbage
    collector frees a cycle, and once ``gcpolicy`` has frozen it (the connection was open during
    a full collection), not before the next hourly unfreeze: memory grew with every
    connection that came and went (docs/performance.md, "Connection churn"). Closing the
    generator clears its frame, which breaks the cycle; the rest goes with its last reference.
    """
    established = connection.connection or connection.handshake.connection
    protocol = getattr(established, "_proto", None)  # wsproto has no public way to do this
    parser = getattr(protocol, "_parse_more", None)
    if parser is not None:
        parser.close()
