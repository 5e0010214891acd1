"""One misbehaving charger never slows or silences the others.

- a charger that sends text no database can store (a lone UTF-16 surrogate) costs nobody else
  their message log or last-seen time;
- a charger that stops reading its socket is cut off, while the others keep their pings and an
  operator's command to it answers within its timeout.
"""
from __future__ import annotations

import socket
import threading

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request

from tests.support.charger import RawSocket
from tests.support.server import query
from tests.test_keepalive import silent_charger
from tests.test_transport import wait_for


def test_an_unstorable_id_costs_no_other_charger_its_message_log(live_server_factory):
    # A long flush interval puts every background row of the test into the same batch.
    srv = live_server_factory(LAST_SEEN_FLUSH_SECONDS="3")
    with RawSocket(srv.ws_url, "attacker") as attacker, RawSocket(srv.ws_url, "victim") as victim:
        attacker.send('[3,"\\ud800",{}]')  # a reply to nothing, with a lone surrogate as its id
        attacker.send('[4,"\\udfff","GenericError","x\\ud800",{}]')
        for n in range(20):
            reply = victim.exchange(f'[2,"v{n}","Heartbeat",{{}}]')
            assert reply[:2] == [3, f"v{n}"]
        # The attacker's connection stays, and its frames are logged too, made storable.
        assert attacker.exchange('[2,"a1","Heartbeat",{}]')[:2] == [3, "a1"]

    def victim_rows():
        return query(srv, "SELECT count(*) FROM message_log WHERE identity = ?", "victim")[0][0]

    wait_for(lambda: victim_rows() == 40, timeout=20)  # 20 CALLs and their 20 replies
    assert victim_rows() == 40
    [(seen,)] = query(srv, "SELECT last_heartbeat FROM chargers WHERE identity = ?", "victim")
    assert seen is not None
    ids = wait_for(lambda: query(srv, "SELECT message_id FROM message_log WHERE identity = ? "
                                      "AND direction = 'in' ORDER BY id", "attacker"),
                   timeout=20)
    assert ids[:2] == [("\ufffd",), ("\ufffd",)]


def _stuck_charger(port: int, identity: str) -> socket.socket:
    """A charger that completes the handshake, then never reads its socket again."""
    ws = WSConnection(ConnectionType.CLIENT)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window fills fast
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    sock.sendall(ws.send(Request(host="127.0.0.1", target=f"/ocpp/{identity}",
                                 subprotocols=["ocpp1.6"])))
    ws.receive_data(sock.recv(4096))
    assert isinstance(next(ws.events()), AcceptConnection)
    return sock


def test_a_charger_that_stops_reading_is_cut_off_and_blocks_nobody(live_server_factory):
    from tests.conftest import Api

    srv = live_server_factory(OCPP_PING_INTERVAL="1", OCPP_WRITE_TIMEOUT="2")
    api = Api(srv.url, srv.create_user("ops", role="admin"))
    stuck = _stuck_charger(srv.port, "stuck-one")
    wait_for(lambda: api.get("/chargers/stuck-one").json().get("connected"))
    healthy: dict = {}
    watcher = threading.Thread(target=lambda: healthy.update(
        zip(("pings", "closed"), silent_charger(srv.port, "healthy-one", 14), strict=True)))
    watcher.start()
    try:
        # Commands of 1 MB each fill the socket buffers of a charger that does not read.
        big = {"vendorId": "acme", "data": "x" * 1_000_000}
        statuses = []
        for _ in range(30):  # a bounded number, whatever the kernel's buffer sizes
            response = api.post("/chargers/stuck-one/commands", timeout=20, json={
                "action": "DataTransfer", "payload": big, "timeout": 1})
            if response.status_code == 409:
                break  # cut off: no longer connected
            assert response.status_code == 200, response.text
            statuses.append(response.json()["status"])
        assert statuses and set(statuses) <= {"timeout", "error"}
        assert response.status_code == 409, "the stuck charger was never disconnected"
        detail = api.get("/chargers/stuck-one").json()
        assert detail["connected"] is False
        pending = api.get("/commands", params={"charger": "stuck-one"}).json()["items"]
        assert pending and all(c["status"] != "pending" for c in pending)
    finally:
        watcher.join()
        stuck.close()
    # The other charger was pinged all along (interval 1 s, 14 s of listening).
    assert healthy["pings"] >= 5 and not healthy["closed"]
