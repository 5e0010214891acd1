"""Server-side websocket framing without I/O (app/transport/framing.py), wsproto as the peer."""
from __future__ import annotations

import random
import struct

import pytest
from wsproto import events as wse

from app.transport.framing import Close, FramingError, Message, Ping, PlainFrames, Pong
from tests.support.wsframes import client_frame, client_pair

HEARTBEAT = '[2,"h1","Heartbeat",{}]'


def test_text_messages_of_every_length_encoding():
    client, _ = client_pair()
    frames = PlainFrames()
    for size in (0, 5, 125, 126, 65535, 65536, 200_000):
        text = "é" * (size // 2) + "x" * (size % 2)
        assert frames.receive(client.send(wse.TextMessage(data=text))) == [Message(text)]


def test_binary_message_stays_bytes():
    client, _ = client_pair()
    assert PlainFrames().receive(client.send(wse.BytesMessage(data=b"\x00\xff"))) == [
        Message(b"\x00\xff")]


def test_frames_split_anywhere_across_reads():
    client, _ = client_pair()
    stream = b"".join(client.send(wse.TextMessage(data=f'[2,"m{i}","Heartbeat",{{}}]'))
                      for i in range(50))
    rng = random.Random(7)
    frames, got, pos = PlainFrames(), [], 0
    while pos < len(stream):
        step = rng.randint(1, 40)
        got += frames.receive(stream[pos:pos + step])
        pos += step
    assert got == [Message(f'[2,"m{i}","Heartbeat",{{}}]') for i in range(50)]


def test_fragmented_message_with_a_ping_in_between():
    client, _ = client_pair()
    data = (client.send(wse.TextMessage(data="[2,", message_finished=False))
            + client.send(wse.Ping(payload=b"are you there"))
            + client.send(wse.TextMessage(data='"f1","Heartbeat",{}]')))
    assert PlainFrames().receive(data) == [Ping(b"are you there"),
                                           Message('[2,"f1","Heartbeat",{}]')]


def test_pong_and_close_events():
    client, _ = client_pair()
    frames = PlainFrames()
    assert frames.receive(client.send(wse.Pong(payload=b"p"))) == [Pong(b"p")]
    closing = client.send(wse.CloseConnection(code=1001, reason="going away"))
    # Whatever follows a Close is not read.
    assert frames.receive(closing + client_frame(0x1, b"late")) == [Close(1001, "going away")]
    assert frames.receive(client_frame(0x1, b"later")) == []


def test_close_without_a_code():
    assert PlainFrames().receive(client_frame(0x8, b"")) == [Close(1005, "")]


@pytest.mark.parametrize("frame, code", [
    (client_frame(0x1, HEARTBEAT.encode(), masked=False), 1002),   # clients must mask
    (client_frame(0x1, b"x", rsv=0x40), 1002),                     # RSV1 without deflate
    (client_frame(0x3, b"x"), 1002),                               # reserved data opcode
    (client_frame(0xB, b"x"), 1002),                               # reserved control opcode
    (client_frame(0x9, b"x" * 126), 1002),                         # control frame too long
    (client_frame(0x9, b"x", fin=False), 1002),                    # fragmented control frame
    (client_frame(0x0, b"x"), 1002),                               # continuation of nothing
    (client_frame(0x1, b"a", fin=False) + client_frame(0x1, b"b"), 1002),  # message in message
    (client_frame(0x1, b"\xff\xfe"), 1007),                        # text that is not UTF-8
    (client_frame(0x8, b"\x03"), 1002),                            # one-byte close body
    (client_frame(0x8, struct.pack("!H", 1005)), 1002),            # code never on the wire
    (client_frame(0x8, struct.pack("!H", 999)), 1002),
    (client_frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),  # reason not UTF-8
])
def test_violations_name_their_close_code(frame, code):
    with pytest.raises(FramingError) as info:
        PlainFrames().receive(frame)
    assert info.value.code == code


def test_too_big_is_refused_from_the_header_alone():
    frames = PlainFrames(max_message_size=1024)
    header = client_frame(0x1, b"x" * 2048)[:8]  # 2-byte base, 2-byte length, 4-byte mask
    with pytest.raises(FramingError) as info:
        frames.receive(header)
    assert info.value.code == 1009


def test_too_big_counts_every_fragment():
    frames = PlainFrames(max_message_size=1000)
    assert frames.receive(client_frame(0x1, b"x" * 600, fin=False)) == []
    with pytest.raises(FramingError) as info:
        frames.receive(client_frame(0x0, b"x" * 600))
    assert info.value.code == 1009


def test_server_frames_read_back_by_a_client():
    client, _ = client_pair()
    frames = PlainFrames()
    for size in (3, 125, 126, 70_000):
        client.receive_data(frames.text("ü" * size))
        [event] = list(client.events())
        assert isinstance(event, wse.TextMessage) and event.data == "ü" * size
    client.receive_data(frames.ping(b"k") + frames.pong(b"q"))
    assert [type(e) for e in client.events()] == [wse.Ping, wse.Pong]
    client.receive_data(frames.close(1002, "€" * 100))
    [event] = list(client.events())
    assert isinstance(event, wse.CloseConnection) and event.code == 1002
    # Cut to fit a control frame, on a character boundary.
    assert len(event.reason.encode()) <= 123 and set(event.reason) == {"€"}
