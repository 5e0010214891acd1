"""One server-side websocket, read by the greenlet that serves it.

The socket comes from simple-websocket after its handshake (the OCPP route); from then on
this class reads and writes it with a framing object from ``framing.py``. Reading happens in the
caller's greenlet: no reader thread, no hand-off per message. Writes may come from any greenlet
(replies, commands from the API, keepalive pings) and are serialised by a lock.

Every write has a deadline (``write_timeout``): a peer that stops reading fills its socket's send
buffer, and a write that waited for it forever would hold the send lock and every greenlet queued
behind it. A peer that cannot take a frame in time is cut off (``WriteTimeout``) and the reading
greenlet wakes to end the connection.

Closing follows RFC 6455 7.1: whoever closes first sends a Close frame and reads until the
peer's Close (or gives up after ``close_grace`` seconds, a peer that vanished); a Close from the
peer is answered with the same code. The TCP socket is closed last, by ``finish``.
"""
from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections import deque
from typing import Any

from .framing import NO_STATUS, NORMAL_CLOSURE, Close, Frames, FramingError, Message, Ping, Pong

log = logging.getLogger(__name__)

RECEIVE_BYTES = 65536
WRITE_TIMEOUT = 10.0


class WriteTimeout(ConnectionError):
    """The peer did not take a frame within the write deadline; the connection is cut off."""


class WebSocket:
    """Messages in with ``receive``, out with ``send``; ``close`` from anywhere."""

    def __init__(self, sock: Any, frames: Frames, *, close_grace: float = 5.0,
                 write_timeout: float = WRITE_TIMEOUT) -> None:
        self.sock = sock
        self.frames = frames
        self.close_grace = close_grace
        self.write_timeout = write_timeout
        self._gevent_socket = type(sock).__module__.startswith("gevent")
        self.pong_received = True
        self.close_code: int | None = None  # the code of the Close frame we sent
        self.remote_close: Close | None = None
        self._messages: deque[str | bytes] = deque()
        self._send_lock = threading.Lock()
        self._close_sent = False
        self._ended = False  # nothing more will be read: peer closed, EOF or framing error
        self._socket_closed = False
        self._abort_timer: threading.Timer | None = None

    @property
    def open(self) -> bool:
        return not (self._close_sent or self._ended)

    def receive(self) -> str | bytes | None:
        """The next message; ``None`` once the connection is closing or closed."""
        while not self._messages:
            if self._ended or self._close_sent:
                return None
            self._read_once()
        return self._messages.popleft()

    def _read_once(self) -> None:
        try:
            data = self.sock.recv(RECEIVE_BYTES)
        except OSError:
            data = b""
        if not data:
            self._ended = True
            return
        try:
            events = self.frames.receive(data)
        except FramingError as exc:
            log.info("websocket framing error: %s (closing with %d)", exc.reason, exc.code)
            self._ended = True
            self.close(exc.code, exc.reason)
            return
        for event in events:
            if isinstance(event, Message):
                self._messages.append(event.data)
            elif isinstance(event, Ping):
                try:
                    self._send_frame(self.frames.pong(event.payload))
                except OSError:
                    self._ended = True
            elif isinstance(event, Pong):
                self.pong_received = True
            elif isinstance(event, Close):
                self.remote_close = event
                self._ended = True
                # Echo the peer's code; a Close without a code is answered without one.
                self.close(NORMAL_CLOSURE if event.code == NO_STATUS else event.code)

    def send(self, text: str, timeout: float | None = None) -> None:
        """Send a text message within ``timeout`` (default ``write_timeout``) seconds.

        ``ConnectionError`` when the connection is closing or gone; ``WriteTimeout`` (one) when
        the peer did not take the frame in time, after which the connection is cut off.
        """
        if not self.open:
            raise ConnectionError("websocket is closed")
        self._send_frame(self.frames.text(text), timeout)

    def ping(self, payload: bytes = b"") -> None:
        self._send_frame(self.frames.ping(payload))

    def _send_frame(self, data: bytes, timeout: float | None = None) -> None:
        with self._send_lock:
            if self._close_sent:
                raise ConnectionError("websocket is closed")
            self._write(data, self.write_timeout if timeout is None else timeout)

    def _write(self, data: bytes, timeout: float) -> None:
        """Write all of ``data`` or cut the connection off; the caller holds the send lock."""
        # One non-blocking send nearly always takes the whole frame: no deadline arithmetic
        # and no wait on the per-message path.
        sent = self._send_nowait(data)
        if sent == len(data):
            return
        view = memoryview(data)[sent:]
        deadline = time.monotonic() + timeout
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._wait_writable(remaining):
                self._cut_off()
                raise WriteTimeout(f"the peer took no data for {timeout:g} s")
            view = view[self._send_nowait(view):]

    def _send_nowait(self, data: bytes | memoryview) -> int:
        try:
            if self._gevent_socket:
                return self.sock.send(data, 0, 0.0)  # gevent: a timeout of 0 never waits
            return self.sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return 0

    def _wait_writable(self, timeout: float) -> bool:
        if self._gevent_socket:
            from gevent.socket import wait_write

            try:
                wait_write(self.sock.fileno(), timeout=timeout)
            except TimeoutError:
                return False
            return True
        poller = select.poll()  # not select(): descriptors above 1024 are common here
        poller.register(self.sock.fileno(), select.POLLOUT)
        return bool(poller.poll(timeout * 1000))

    def _cut_off(self) -> None:
        """The peer stopped reading: nothing more is sent or read, and the reader wakes."""
        log.info("websocket peer stopped reading: cutting the connection off")
        self._close_sent = True
        self._ended = True
        self.close_code = 1006  # abnormal closure: no Close frame could be sent
        self._abort()

    def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Send our Close frame once; the reading greenlet then finishes the handshake."""
        with self._send_lock:
            if self._close_sent:
                return
            self._close_sent = True
            self.close_code = code
            try:
                self._write(self.frames.close(code, reason), self.close_grace)
            except OSError:
                self._ended = True
        if not self._ended:
            # A peer that vanished never answers: stop waiting for it after the grace period.
            self._abort_timer = threading.Timer(self.close_grace, self._abort)
            self._abort_timer.daemon = True
            self._abort_timer.start()

    def _abort(self) -> None:
        if not self._socket_closed:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked in recv
            except OSError:
                pass

    def finish(self) -> None:
        """End the connection: close if not done, wait for the peer's Close, close the socket."""
        self.close()
        if not self._ended:
            try:
                self.sock.settimeout(self.close_grace)
                while not self._ended:
                    self._read_once()  # messages after our Close are dropped (RFC 6455 1.4)
            except OSError:
                pass
        self._socket_closed = True
        if self._abort_timer is not None:
            # Done: the timer must not hold this connection (its zlib streams...) any longer.
            self._abort_timer.cancel()
            self._abort_timer = None
        try:
            self.sock.close()
        except OSError:
            pass
