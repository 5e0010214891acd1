"""OCPP 2.0.1 and 2.1 over real websockets: which version a charger gets, the operator's pin,
and 2.1's one-way SEND and CALLRESULTERROR on a live connection."""
from __future__ import annotations

import json
import time

import pytest
import websockets

from tests.support.charger import RawSocket, SimCharger
from tests.test_transport import _upgrade


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


@pytest.mark.parametrize("offered, chosen, version", [
    (["ocpp1.6", "ocpp2.0.1"], "ocpp2.0.1", "2.0.1"),
    (["ocpp1.6", "ocpp2.0.1", "ocpp2.1"], "ocpp2.1", "2.1"),
    (["ocpp2.0.1"], "ocpp2.0.1", "2.0.1"),
    (["ocpp1.6"], "ocpp1.6", "1.6"),
])
def test_the_server_prefers_the_newest_version_offered(server, api, identity, offered, chosen,
                                                       version):
    with SimCharger(server.ws_url, identity, subprotocols=offered) as cp:
        assert cp.subprotocol == chosen
        assert cp.call(cp.ocpp.call.Heartbeat()).current_time.endswith("Z")
        charger = api.get(f"/chargers/{identity}").json()
        assert charger["ocpp_version"] == version and charger["connected"]


@pytest.mark.parametrize("header, echoed", [
    # One charger model sends an empty item first.
    (",ocpp2.0.1", "ocpp2.0.1"),
    (" ocpp1.6 ,OCPP2.1 ", "OCPP2.1"),
])
def test_an_untidy_offer_still_negotiates(server, identity, header, echoed):
    status, headers = _upgrade(server.port, f"/ocpp/{identity}",
                               **{"Sec-WebSocket-Protocol": header})
    assert status == 101
    assert headers["sec-websocket-protocol"] == echoed


def test_a_pinned_charger_speaks_only_its_version(server, api, identity):
    assert api.post("/chargers", json={"identity": identity,
                                       "ocpp_version_pin": "1.6"}).status_code == 201
    assert api.get(f"/chargers/{identity}").json()["ocpp_version_pin"] == "1.6"
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.1", "ocpp1.6"]) as cp:
        assert cp.subprotocol == "ocpp1.6"
        assert cp.boot().status == "Accepted"
    # Pinned to 2.1, it is refused when it offers only 1.6, and the pin can be cleared.
    assert api.patch(f"/chargers/{identity}",
                     json={"ocpp_version_pin": "2.1"}).status_code == 200
    with RawSocket(server.ws_url, identity, subprotocols=["ocpp1.6"]) as raw:
        with pytest.raises(websockets.ConnectionClosed) as info:
            raw.recv(timeout=5)
    assert info.value.rcvd.code == 1002
    assert api.patch(f"/chargers/{identity}",
                     json={"ocpp_version_pin": None}).json()["ocpp_version_pin"] is None
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp1.6", "ocpp2.0.1"]) as cp:
        assert cp.subprotocol == "ocpp2.0.1"


def test_a_pin_must_be_a_version_the_server_speaks(api, identity):
    reply = api.post("/chargers", json={"identity": identity, "ocpp_version_pin": "2.0"})
    assert reply.status_code == 400
    assert "ocpp_version_pin" in reply.json()["message"]
    assert api.get(f"/chargers/{identity}").status_code == 404


def test_a_21_send_is_stored_and_never_answered(server, api, identity):
    send = [6, "s-1", "NotifyPeriodicEventStream",
            {"id": 1, "pending": 0, "basetime": "2026-12-03T10:00:00Z",
             "data": [{"t": 0, "v": "231.5"}]}]
    with RawSocket(server.ws_url, identity, subprotocols=["ocpp2.1"]) as raw:
        raw.send(json.dumps(send))
        raw.send('[6,"s-2","NotifyPeriodicEventStream",{"id":1}]')  # invalid: no reply either
        # The next thing the charger hears is the answer to its Heartbeat, nothing before.
        assert raw.exchange('[2,"h1","Heartbeat",{}]')[:2] == [3, "h1"]

    def stored():
        items = api.get(f"/chargers/{identity}/messages", params={"direction": "in"}).json()
        return [m for m in items["items"] if m["message_type"] == 6]

    sends = wait_for(lambda: len(stored()) == 2 and stored())
    assert {m["message_id"] for m in sends} == {"s-1", "s-2"}
    assert all(m["action"] == "NotifyPeriodicEventStream" for m in sends)


def test_a_21_callresulterror_is_the_commands_outcome(server, api, identity):
    import threading

    with RawSocket(server.ws_url, identity, subprotocols=["ocpp2.1"]) as raw:
        raw.exchange('[2,"h1","Heartbeat",{}]')
        result = {}
        sender = threading.Thread(target=lambda: result.update(reply=api.post(
            f"/chargers/{identity}/commands",
            json={"action": "Reset", "payload": {"type": "Immediate"}})))
        sender.start()
        call = json.loads(raw.recv(timeout=15))
        assert call[0] == 2 and call[2] == "Reset" and call[3] == {"type": "Immediate"}
        raw.send(json.dumps([5, call[1], "InternalError", "reply could not be built", {}]))
        sender.join(30)
    body = result["reply"].json()
    assert body["status"] == "error", body
    assert body["error"]["code"] == "InternalError"
    assert body["error"]["description"] == "reply could not be built"

