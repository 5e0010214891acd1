"""Websocket frames as a charger would send them, for the framing and driver tests."""
from __future__ import annotations

import struct

from wsproto import ConnectionType, WSConnection
from wsproto import events as wse


def client_pair() -> tuple[WSConnection, WSConnection]:
    """A wsproto client and server past the handshake (no extension)."""
    client, server = WSConnection(ConnectionType.CLIENT), WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(wse.Request(host="x", target="/ocpp/a")))
    next(server.events())
    client.receive_data(server.send(wse.AcceptConnection()))
    list(client.events())
    return client, server


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True,
                 rsv: int = 0) -> bytes:
    """A hand-made client frame, for what wsproto refuses to produce."""
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 0x10000:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return head + payload
    key = bytes([0x37, 0xFA, 0x21, 0x3D])
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
