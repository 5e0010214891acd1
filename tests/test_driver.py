"""The websocket driver over a real socket pair: pings, the closing handshake, framing errors."""
from __future__ import annotations

import socket
import threading

import pytest
from wsproto import events as wse

from app.transport.driver import WebSocket
from app.transport.framing import PlainFrames
from tests.support.wsframes import client_frame, client_pair


@pytest.fixture
def pair():
    server_sock, peer = socket.socketpair()
    peer.settimeout(5)
    client, _ = client_pair()  # parses what the server sends
    ws = WebSocket(server_sock, PlainFrames(max_message_size=1024), close_grace=0.5)
    yield ws, peer, client
    peer.close()
    server_sock.close()


def read_events(peer: socket.socket, client, until: type) -> list:
    events: list = []
    while not any(isinstance(e, until) for e in events):
        data = peer.recv(65536)
        if not data:
            break
        client.receive_data(data)
        events += list(client.events())
    return events


def test_messages_in_order_and_replies_out(pair):
    ws, peer, client = pair
    peer.sendall(client_frame(0x1, b"one") + client_frame(0x1, b"two"))
    assert [ws.receive(), ws.receive()] == ["one", "two"]
    ws.send("reply")
    [event] = read_events(peer, client, wse.TextMessage)
    assert event.data == "reply"


def test_a_ping_is_answered_with_its_payload(pair):
    ws, peer, client = pair
    peer.sendall(client_frame(0x9, b"hello") + client_frame(0x1, b"after"))
    assert ws.receive() == "after"
    [pong] = read_events(peer, client, wse.Pong)
    assert bytes(pong.payload) == b"hello"


def test_pong_marks_the_connection_alive(pair):
    ws, peer, _ = pair
    ws.pong_received = False
    peer.sendall(client_frame(0xA, b"") + client_frame(0x1, b"x"))
    assert ws.receive() == "x" and ws.pong_received


def test_the_peers_close_is_echoed_and_ends_the_connection(pair):
    ws, peer, client = pair
    peer.sendall(client_frame(0x1, b"last words") + client_frame(0x8, b"\x03\xe9bye"))  # 1001
    assert ws.receive() == "last words"  # what came before the Close is still delivered
    assert ws.receive() is None
    assert ws.remote_close.code == 1001 and ws.remote_close.reason == "bye"
    [close] = read_events(peer, client, wse.CloseConnection)
    assert close.code == 1001
    with pytest.raises(OSError):
        ws.send("too late")
    ws.finish()
    assert peer.recv(10) == b""  # and the TCP connection is closed


def test_a_framing_error_closes_with_its_code(pair):
    ws, peer, client = pair
    peer.sendall(client_frame(0x1, b"x" * 2000))  # over max_message_size
    assert ws.receive() is None
    [close] = read_events(peer, client, wse.CloseConnection)
    assert close.code == 1009


def blocked_reader(ws: WebSocket) -> tuple[threading.Thread, list]:
    """A thread blocked in ``ws.receive()``, as the serving greenlet is; what it got."""
    received: list = []
    reader = threading.Thread(target=lambda: received.append(ws.receive()))
    reader.start()
    return reader, received


def test_our_close_waits_for_the_peers_close(pair):
    ws, peer, client = pair
    reader, received = blocked_reader(ws)
    ws.close(1000, "replaced by a new connection")
    [close] = read_events(peer, client, wse.CloseConnection)
    assert close.code == 1000 and close.reason == "replaced by a new connection"
    peer.sendall(client_frame(0x8, b"\x03\xe8"))
    reader.join(5)
    assert received == [None]
    ws.finish()
    assert peer.recv(10) == b""


def test_a_peer_that_never_answers_our_close_is_dropped_after_the_grace(pair):
    ws, peer, client = pair
    reader, received = blocked_reader(ws)
    ws.close(1000, "ping timeout")
    reader.join(5)  # the grace timer shuts the socket down under the blocked reader
    assert received == [None] and not reader.is_alive()
    ws.finish()
    [close] = read_events(peer, client, wse.CloseConnection)
    assert close.code == 1000
    assert peer.recv(10) == b""
