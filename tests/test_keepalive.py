"""Pings keep idle chargers' paths open; a charger that never answers is closed only if asked."""
from __future__ import annotations

import socket
import time

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request


def silent_charger(port: int, identity: str, seconds: float) -> tuple[int, bool]:
    """A websocket client that never answers pings: (pings seen, closed by the server)."""
    ws = WSConnection(ConnectionType.CLIENT)
    sock = socket.create_connection(("127.0.0.1", port), timeout=1)
    sock.sendall(ws.send(Request(host="127.0.0.1", target=f"/ocpp/{identity}",
                                 subprotocols=["ocpp1.6"])))
    pings, closed, accepted = 0, False, False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not closed:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        if not data:
            closed = True
            break
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                accepted = True
            elif isinstance(event, Ping):
                pings += 1  # and deliberately no Pong
            elif isinstance(event, CloseConnection):
                closed = True
    sock.close()
    assert accepted
    return pings, closed


def test_idle_charger_is_pinged_and_kept(live_server_factory):
    srv = live_server_factory(OCPP_PING_INTERVAL="1")
    pings, closed = silent_charger(srv.port, "quiet-one", 4.5)
    assert pings >= 2 and not closed


def test_unanswered_pings_close_when_configured(live_server_factory):
    srv = live_server_factory(OCPP_PING_INTERVAL="1", OCPP_MAX_MISSED_PONGS="2")
    pings, closed = silent_charger(srv.port, "deaf-one", 10)
    assert closed and pings >= 2
