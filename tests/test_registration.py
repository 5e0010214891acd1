"""Registration is enforced: until Accepted, a charger gets nothing but BootNotification.

OCPP 1.6 section 4.2 and 2.0.1 B02: while Pending or Rejected, any other request is refused with
a CALLERROR (SecurityError) and nothing is stored. An operator's change (reject, disable) takes
effect on the open socket at once.
"""
from __future__ import annotations

import time

import pytest
import websockets

from tests.conftest import Api
from tests.support.charger import RawSocket
from tests.support.server import query

START = ('[2,"st1","StartTransaction",{"connectorId":1,"idTag":"ANY-TAG","meterStart":1000,'
         '"timestamp":"2026-12-02T10:00:00Z"}]')
STOP = ('[2,"sp1","StopTransaction",{"transactionId":1,"meterStop":1500,'
        '"timestamp":"2026-12-02T11:00:00Z"}]')
BOOT = '[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"X"}]'


@pytest.fixture
def pending_server(live_server_factory):
    return live_server_factory(OCPP_UNKNOWN_CHARGERS="pending", OCPP_UNKNOWN_ID_TAGS="accept")


def transactions_of(srv, identity: str) -> int:
    return query(srv, "SELECT count(*) FROM transactions t JOIN chargers c "
                      "ON c.id = t.charger_id WHERE c.identity = ?", identity)[0][0]


def wait_closed(raw: RawSocket, timeout: float = 10) -> int:
    with pytest.raises(websockets.ConnectionClosed) as info:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw.recv(timeout=deadline - time.monotonic())
    return info.value.rcvd.code if info.value.rcvd else 1006


def test_a_pending_charger_gets_only_boot_answered(pending_server):
    srv = pending_server
    with RawSocket(srv.ws_url, "waiting-1") as raw:
        boot = raw.exchange(BOOT)
        assert boot[0] == 3 and boot[2]["status"] == "Pending"
        for frame, unique_id in ((START, "st1"), (STOP, "sp1"),
                                 ('[2,"h1","Heartbeat",{}]', "h1")):
            reply = raw.exchange(frame)
            assert reply[:3] == [4, unique_id, "SecurityError"], reply
        # The socket stays, and Boot is still answered.
        assert raw.exchange(BOOT)[2]["status"] == "Pending"
    assert transactions_of(srv, "waiting-1") == 0


def test_accepting_a_pending_charger_lets_it_in_after_its_next_boot(pending_server):
    srv = pending_server
    api = Api(srv.url, srv.create_user("ops", role="admin"))
    with RawSocket(srv.ws_url, "waiting-2") as raw:
        assert raw.exchange(BOOT)[2]["status"] == "Pending"
        assert raw.exchange(START)[2] == "SecurityError"
        changed = api.patch("/chargers/waiting-2", json={"registration_status": "accepted"})
        assert changed.status_code == 200, changed.text
        assert raw.exchange(BOOT)[2]["status"] == "Accepted"
        reply = raw.exchange(START)
        assert reply[0] == 3 and reply[2]["idTagInfo"]["status"] == "Accepted"
    assert transactions_of(srv, "waiting-2") == 1


def test_a_rejected_charger_is_disconnected_and_refused_on_return(server, api, identity):
    with RawSocket(server.ws_url, identity) as raw:
        assert raw.exchange(BOOT)[2]["status"] == "Accepted"
        changed = api.patch(f"/chargers/{identity}", json={"registration_status": "rejected"})
        assert changed.status_code == 200, changed.text
        assert wait_closed(raw) == 1000
    with RawSocket(server.ws_url, identity) as raw:
        assert raw.exchange(BOOT)[2]["status"] == "Rejected"
        assert raw.exchange(START)[2] == "SecurityError"
    assert transactions_of(server, identity) == 0


def test_a_disabled_charger_is_disconnected_and_kept_out(server, api, identity):
    with RawSocket(server.ws_url, identity) as raw:
        assert raw.exchange(BOOT)[2]["status"] == "Accepted"
        assert api.patch(f"/chargers/{identity}", json={"enabled": False}).status_code == 200
        assert wait_closed(raw) == 1000
    with pytest.raises(websockets.InvalidStatus) as info:
        RawSocket(server.ws_url, identity).__enter__()
    assert info.value.response.status_code == 404
