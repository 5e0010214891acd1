"""The OCPP-J endpoint over real websockets: handshake, subprotocols, bad frames, reconnects."""
from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import websockets
from ocpp.v16 import call
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request
from wsproto.extensions import PerMessageDeflate

from tests.support.charger import RawSocket, SimCharger


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_negotiates_ocpp16_and_boots(server, identity):
    with SimCharger(server.ws_url, identity) as cp:
        assert cp.subprotocol == "ocpp1.6"
        reply = cp.boot()
        assert reply.status == "Accepted" and reply.interval == 300
        assert reply.current_time.endswith("Z")


def test_accepts_ocpp16j_spelling(server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp1.6j"]) as cp:
        assert cp.subprotocol == "ocpp1.6j"
        assert cp.boot().status == "Accepted"


def test_no_subprotocol_header_means_16(server, identity):
    with SimCharger(server.ws_url, identity, subprotocols=[]) as cp:
        assert cp.subprotocol is None
        assert cp.boot().status == "Accepted"


def test_only_unsupported_subprotocols_are_closed(server, identity):
    async_ws = RawSocket(server.ws_url, identity, subprotocols=["ocpp9.9"])
    with async_ws as raw:
        with pytest.raises(websockets.ConnectionClosed) as info:
            raw.recv(timeout=5)
    assert info.value.rcvd.code == 1002


def test_percent_encoded_identity_is_decoded(server, api):
    with SimCharger(server.ws_url, "RDAM|123.x:y") as cp:
        assert cp.url.endswith("/RDAM%7C123.x%3Ay")
        cp.boot()
        detail = api.get("/chargers/RDAM|123.x:y")
        assert detail.status_code == 200, detail.text
        assert detail.json()["id"] == "RDAM|123.x:y"


COMPRESSION = pytest.mark.parametrize("compression", ["deflate", None],
                                      ids=["permessage-deflate", "plain"])


@COMPRESSION
def test_bad_frames_get_callerrors_and_the_socket_stays(server, identity, compression):
    with RawSocket(server.ws_url, identity, compression=compression) as raw:
        agreed = raw.ws.response.headers.get("Sec-WebSocket-Extensions", "")
        assert ("permessage-deflate" in agreed) == (compression == "deflate")
        assert raw.exchange("this is not json")[:3] == [4, "-1", "FormationViolation"]
        assert raw.exchange('{"not": "an array"}')[:3] == [4, "-1", "ProtocolError"]
        assert raw.exchange('[2, 42, "Heartbeat", {}]')[:3] == [4, "-1", "ProtocolError"]
        assert raw.exchange('[2, "' + "a" * 37 + '", "Heartbeat", {}]')[2] == "ProtocolError"
        assert raw.exchange('[2, "p1", "Heartbeat", "payload"]')[:3] == [
            4, "p1", "FormationViolation"]
        assert raw.exchange('[2, "u1", "FlyToTheMoon", {}]')[:3] == [4, "u1", "NotImplemented"]
        reply = raw.exchange('[2, "b1", "BootNotification", {"chargePointVendor": "V"}]')
        assert reply[:3] == [4, "b1", "OccurenceConstraintViolation"]
        reply = raw.exchange('[2, "s1", "StatusNotification", {"connectorId": 1, '
                             '"errorCode": "NoError", "status": "Sleeping"}]')
        assert reply[:3] == [4, "s1", "PropertyConstraintViolation"]
        reply = raw.exchange('[2, "t1", "StartTransaction", {"connectorId": 1, "idTag": "A", '
                             '"meterStart": 0, "timestamp": "yesterday"}]')
        assert reply[:3] == [4, "t1", "PropertyConstraintViolation"]
        # ...and the connection still works.
        reply = raw.exchange('[2, "h1", "Heartbeat", {}]')
        assert reply[0] == 3 and reply[1] == "h1" and "currentTime" in reply[2]


@COMPRESSION
def test_oversized_frame_closes_the_connection(live_server_factory, identity, compression):
    srv = live_server_factory(OCPP_MAX_FRAME_BYTES="1024")
    with RawSocket(srv.ws_url, identity, compression=compression) as raw:
        raw.send('[2, "big", "DataTransfer", {"vendorId": "v", "data": "' + "x" * 4096 + '"}]')
        with pytest.raises(websockets.ConnectionClosed) as info:
            raw.recv(timeout=5)
        assert info.value.rcvd.code == 1009


@COMPRESSION
def test_fragments_pings_and_a_clean_close(server, identity, compression):
    with RawSocket(server.ws_url, identity, compression=compression) as raw:
        raw.send(["[2,", '"f1","Heart', 'beat",{}]'])  # one message in three frames
        reply = json.loads(raw.recv())
        assert reply[:2] == [3, "f1"] and "currentTime" in reply[2]
        assert raw.ping() >= 0  # answered with a Pong
        raw.loop.run_until_complete(raw.ws.close(code=1000, reason="bye"))
        rcvd = raw.ws.protocol.close_rcvd  # the server answered our Close with its own
        assert rcvd is not None and rcvd.code == 1000


def _handshake(port: int, identity: str, deflate: bool) -> tuple[socket.socket, WSConnection]:
    ws = WSConnection(ConnectionType.CLIENT)
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(ws.send(Request(host="127.0.0.1", target=f"/ocpp/{identity}",
                                 subprotocols=["ocpp1.6"],
                                 extensions=[PerMessageDeflate()] if deflate else [])))
    ws.receive_data(sock.recv(65536))
    assert isinstance(next(ws.events()), AcceptConnection)
    return sock, ws


@pytest.mark.parametrize("deflate", [True, False], ids=["permessage-deflate", "plain"])
def test_unmasked_frame_is_a_protocol_error_close(server, identity, deflate):
    sock, ws = _handshake(server.port, identity, deflate)
    payload = b'[2,"u1","Heartbeat",{}]'
    sock.sendall(bytes([0x81, len(payload)]) + payload)  # clients must mask (RFC 6455 5.1)
    events = []
    while not any(isinstance(e, CloseConnection) for e in events):
        data = sock.recv(65536)
        assert data, "closed without a Close frame"
        ws.receive_data(data)
        events += list(ws.events())
    assert [e.code for e in events if isinstance(e, CloseConnection)] == [1002]
    sock.close()
    # The server goes on serving others.
    with SimCharger(server.ws_url, identity) as again:
        assert again.call(call.Heartbeat()).current_time


def test_second_connection_replaces_the_first(server, api, identity):
    first = SimCharger(server.ws_url, identity).connect()
    first.boot()
    with SimCharger(server.ws_url, identity) as second:
        wait_for(lambda: first.ws.close_code is not None)
        assert second.call(call.Heartbeat()).current_time
        # Commands now go to the new connection.
        reply = api.post(f"/chargers/{identity}/commands",
                         json={"action": "ClearCache", "payload": {}})
        assert reply.json()["status"] == "completed"
        assert [a for a, _ in second.received] == ["ClearCache"]
    first.close()


def test_reject_policy_refuses_unknown_chargers_at_the_handshake(live_server_factory):
    srv = live_server_factory(OCPP_UNKNOWN_CHARGERS="reject")
    with pytest.raises(websockets.InvalidStatus) as info:
        SimCharger(srv.ws_url, "stranger").connect()
    assert info.value.response.status_code == 404


def test_pending_policy_until_an_operator_accepts(live_server_factory):
    srv = live_server_factory(OCPP_UNKNOWN_CHARGERS="pending")
    token = srv.create_user("op", role="operator")
    headers = {"Authorization": f"Bearer {token}"}
    with SimCharger(srv.ws_url, "newcomer") as cp:
        assert cp.boot().status == "Pending"
        reply = requests.patch(f"{srv.url}/api/v1/chargers/newcomer", headers=headers,
                               json={"registration_status": "accepted"}, timeout=10)
        assert reply.status_code == 200, reply.text
        assert cp.boot().status == "Accepted"


def test_disabled_charger_is_refused(server, api, identity):
    with SimCharger(server.ws_url, identity) as cp:
        cp.boot()
    assert api.patch(f"/chargers/{identity}", json={"enabled": False}).status_code == 200
    with pytest.raises(websockets.InvalidStatus) as info:
        SimCharger(server.ws_url, identity).connect()
    assert info.value.response.status_code == 404


def test_plain_http_to_the_ocpp_endpoint_is_a_clear_400(server):
    reply = requests.get(f"{server.ws_url.replace('ws://', 'http://')}/someone", timeout=5)
    assert reply.status_code == 400


def _upgrade(port: int, target: str, **headers: str) -> tuple[int, dict[str, str]]:
    """Send a hand-made websocket upgrade for ``target``; the status and headers of the answer."""
    fields = {"Host": "127.0.0.1", "Upgrade": "websocket", "Connection": "Upgrade",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Protocol": "ocpp1.6", **headers}
    lines = [f"GET {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in fields.items() if v is not None]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    status_line, *header_lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    answer = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return int(status_line.split()[1]), answer


def _identities(api) -> set[str]:
    return {c["id"] for c in api.get("/chargers", params={"per_page": 500}).json()["items"]}


@pytest.mark.parametrize("target", [
    "/ocpp/", "/ocpp", "/ocpp/anything/PH-NESTED", "/ocpp/..%2F..%2Fetc%2Fpasswd",
    "/ocpp/HS%2FA", "/ocpp/PH%00NUL", "/ocpp/PH%0ANL", "/ocpp/PH-TRAILING%20",
    "/ocpp/PH%E2%80%8BZWSP", "/ocpp/.", "/ocpp/..", "/ocpp/%FF%FE",
], ids=["empty", "no-slash", "nested", "traversal", "slash", "nul", "newline", "trailing-space",
        "zero-width-space", "dot", "dotdot", "not-utf8"])
def test_identities_the_api_refuses_never_connect_or_enrol(server, api, target):
    before = _identities(api)
    status, _ = _upgrade(server.port, target)
    assert status == 404
    assert _identities(api) == before


def test_an_unsupported_version_offer_enrols_nothing(server, api, identity):
    # ocpp2.0, the old draft, is not spoken.
    with RawSocket(server.ws_url, identity, subprotocols=["ocpp2.0"]) as raw:
        with pytest.raises(websockets.ConnectionClosed) as info:
            raw.recv(timeout=5)
    assert info.value.rcvd.code == 1002
    assert api.get(f"/chargers/{identity}").status_code == 404


@pytest.mark.parametrize("version, expected", [(None, 400), ("8", 426), ("", 400)])
def test_a_wrong_websocket_version_is_refused_with_the_one_we_speak(server, api, identity,
                                                                    version, expected):
    status, headers = _upgrade(server.port, f"/ocpp/{identity}", **{
        "Sec-WebSocket-Version": version})
    assert status == expected
    assert headers.get("sec-websocket-version") == "13"
    assert api.get(f"/chargers/{identity}").status_code == 404


def test_a_bad_websocket_key_is_a_400(server, identity):
    assert _upgrade(server.port, f"/ocpp/{identity}", **{"Sec-WebSocket-Key": "short"})[0] == 400
    assert _upgrade(server.port, f"/ocpp/{identity}", **{"Sec-WebSocket-Key": None})[0] == 400


def test_a_plain_upgrade_is_answered_as_rfc_6455_says(server, identity):
    # Answered by the endpoint itself, not simple-websocket (no extension offered).
    status, headers = _upgrade(server.port, f"/ocpp/{identity}",
                               **{"Sec-WebSocket-Protocol": "ocpp1.6, ocpp2.0.1"})
    assert status == 101
    assert headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3
    assert headers["upgrade"].lower() == "websocket" and headers["connection"] == "Upgrade"
    assert headers["sec-websocket-protocol"] == "ocpp2.0.1"  # the server's preference


def test_an_upgrade_without_connection_upgrade_is_a_400(server, identity):
    assert _upgrade(server.port, f"/ocpp/{identity}", Connection="keep-alive")[0] == 400
    assert _upgrade(server.port, f"/ocpp/{identity}", Connection="keep-alive, Upgrade")[0] == 101


@COMPRESSION
def test_subprotocols_are_negotiated_alike_with_and_without_an_extension(server, identity,
                                                                         compression):
    with RawSocket(server.ws_url, identity + "-a", subprotocols=["ocpp1.6", "ocpp2.0.1"],
                   compression=compression) as raw:
        assert raw.ws.subprotocol == "ocpp2.0.1"
    with RawSocket(server.ws_url, identity + "-b", subprotocols=[],
                   compression=compression) as raw:
        assert raw.ws.subprotocol is None
        reply = raw.exchange('[2,"b","BootNotification",{"chargePointVendor":"A",'
                             '"chargePointModel":"B"}]')
        assert reply[0] == 3 and reply[2]["status"] == "Accepted"
    with RawSocket(server.ws_url, identity + "-c", subprotocols=["ocpp9.9"],
                   compression=compression) as raw:
        with pytest.raises(websockets.ConnectionClosed) as info:
            raw.recv(timeout=5)
    assert info.value.rcvd.code == 1002
