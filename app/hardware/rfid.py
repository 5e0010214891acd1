"""The RFID reader: ``RfidReader.poll(timeout) -> raw uid | None``, UID normalisation, the
debouncer, and the reader service's local socket.

The reader service (``flask rfid run``) is the one process owning the reader. It listens on a
Unix stream socket (``RFID_SOCKET``, under the instance directory): ``flask rfid scan UID``
sends ``scan UID`` there and the service handles it as if a card were presented; ``status``
answers what the service is (the node page's health check). A local socket rather than Redis
or a database queue: it works on a Terminal without Redis, the service blocks on it in
``select`` (no polling, no busy core), and a sender learns at once that no service runs.

``SimulatedReader`` takes its UIDs from that socket, and first from a file if given (one UID a
line). ``DeviceReader`` reads a real reader (``hardware/mfrc522.py``) and the socket in turn.
"""
from __future__ import annotations

import json
import os
import re
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

# ISO 14443-3 UIDs: single (4 bytes), double (7) or triple (10) size; never the BCC byte.
UID_BYTES = (4, 7, 10)
_SEPARATORS = re.compile(r"[\s:\-]")
_HEX = re.compile(r"^[0-9A-F]+$")
MAX_REQUEST = 256


class ReaderUnavailable(OSError):
    """No reader service answers on the socket (the message says where and what to do)."""


class RfidReader(Protocol):
    def poll(self, timeout: float) -> str | None:
        """The UID of a card presented within ``timeout`` seconds (as read), or None."""

    def close(self) -> None: ...


def normalise(raw: str) -> str:
    """``raw`` as upper-case hex without separators ("04:a2-b3 c4" -> "04A2B3C4"); ValueError
    unless it is 4, 7 or 10 bytes of hex."""
    uid = _SEPARATORS.sub("", raw.strip()).upper()
    if uid.startswith("0X"):
        uid = uid[2:]
    if not _HEX.match(uid) or len(uid) % 2 or len(uid) // 2 not in UID_BYTES:
        raise ValueError(f"{raw!r} is no card UID: 4, 7 or 10 bytes of hex, e.g. 04A2B3C4")
    return uid


class Debouncer:
    """A card held on the reader is read again and again: the same UID within ``window``
    seconds of its previous read is the same scan. Another card is a new scan at once."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._last: dict[str, float] = {}

    def fresh(self, uid: str) -> bool:
        now = self.clock()
        previous = self._last.get(uid)
        self._last[uid] = now
        # Forget cards long gone, so the map stays small.
        for old in [u for u, t in self._last.items() if now - t > max(self.window, 60.0)]:
            del self._last[old]
        return previous is None or now - previous > self.window


class ServiceSocket:
    """The service's end of ``RFID_SOCKET``: ``poll`` waits for a request and returns the UID
    of a ``scan`` request (answering ``status`` itself)."""

    def __init__(self, path: str, status: dict[str, Any]) -> None:
        self.path = path
        self.status = status
        if os.path.exists(path):
            try:
                service_status(path)
            except ReaderUnavailable:
                os.unlink(path)  # left behind by a service that died
            else:
                raise ReaderUnavailable(f"a reader service already listens on {path}")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o660)  # the app's user and group only
        self.sock.listen(8)

    def poll(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return None
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(2.0)
            try:
                request = _read_line(conn)
            except OSError:
                return None
            verb, _, arg = request.partition(" ")
            if verb == "status":
                _reply(conn, self.status)
                return None
            if verb == "scan" and arg.strip():
                _reply(conn, {"queued": arg.strip()})
                return arg.strip()
            _reply(conn, {"error": "send 'scan UID' or 'status'"})
            return None

    def close(self) -> None:
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class SimulatedReader:
    """UIDs from a file (one a line, then done) and from ``flask rfid scan`` via the socket."""

    def __init__(self, service_socket: ServiceSocket, file: str | None = None) -> None:
        self.socket = service_socket
        self._queued = ([line.strip() for line in Path(file).read_text().splitlines()
                         if line.strip() and not line.startswith("#")] if file else [])

    def poll(self, timeout: float) -> str | None:
        if self._queued:
            return self._queued.pop(0)
        return self.socket.poll(timeout)

    def close(self) -> None:
        self.socket.close()


class DeviceReader:
    """A hardware reader, with scans from the socket too (``flask rfid scan`` on a real node).
    The two are polled in turn, a short attempt each, so a status request waits little."""

    STEP = 0.1

    def __init__(self, service_socket: ServiceSocket, device: RfidReader,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.socket = service_socket
        self.device = device
        self.clock = clock

    def poll(self, timeout: float) -> str | None:
        deadline = self.clock() + timeout
        while True:
            uid = self.socket.poll(0) or self.device.poll(self.STEP)
            if uid is not None or self.clock() >= deadline:
                return uid

    def close(self) -> None:
        try:
            self.device.close()
        finally:
            self.socket.close()


def _read_line(conn: socket.socket) -> str:
    data = b""
    while b"\n" not in data and len(data) < MAX_REQUEST:
        chunk = conn.recv(MAX_REQUEST)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()


def _reply(conn: socket.socket, body: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(body).encode() + b"\n")
    except OSError:
        pass  # the sender went away; nothing to tell


def _request(path: str, line: str, timeout: float = 5.0) -> dict[str, Any]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        sock.sendall(line.encode() + b"\n")
        return json.loads(_read_line(sock) or "{}")
    except (OSError, ValueError) as exc:
        raise ReaderUnavailable(f"no RFID reader service answers on {path} ({exc}); "
                                "start it with: flask rfid run") from None
    finally:
        sock.close()


def send_scan(path: str, uid: str) -> dict[str, Any]:
    """Hand ``uid`` to the running reader service (ReaderUnavailable when none runs)."""
    return _request(path, f"scan {uid}")


def service_status(path: str) -> dict[str, Any]:
    """What the running reader service says of itself: backend, pid, since."""
    return _request(path, "status", timeout=2.0)
