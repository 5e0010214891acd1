"""Taking chargers out of service and closing transactions that never got their stop, through
the API, with the audit trail; the dashboard's live power only for connected chargers."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import websockets
from ocpp.v16 import call

from tests.api.helpers import poll
from tests.support.charger import SimCharger
from tests.support.server import query


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _audit(api, identity: str) -> list[tuple]:
    items = api.get("/audit", params={"charger": identity}).json()["items"]
    return [(e["action"], e["actor"], e["source"], e["target"]) for e in items]


def _start(cp, meter_start: int = 1000, register: str | None = None) -> int:
    t0 = datetime.now(UTC).replace(microsecond=0)
    tx_id = cp.call(call.StartTransaction(connector_id=1, id_tag="LIFE", meter_start=meter_start,
                                          timestamp=_iso(t0))).transaction_id
    if register is not None:
        cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[
            {"timestamp": _iso(t0 + timedelta(seconds=60)), "sampledValue": [
                {"value": register, "measurand": "Energy.Active.Import.Register"},
                {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]))
    return tx_id


def test_decommission_keeps_the_history_and_refuses_the_charger(server, api, viewer, charger,
                                                                 identity):
    tx_id = _start(charger, register="1500")
    assert viewer.delete(f"/chargers/{identity}").status_code == 403
    operator = server.create_user("lifecycle-operator", role="operator")
    from tests.conftest import Api

    assert Api(server.url, operator).delete(f"/chargers/{identity}").status_code == 403

    gone = api.delete(f"/chargers/{identity}")
    assert gone.status_code == 200, gone.text
    assert gone.json()["decommissioned_at"].endswith("Z") and gone.json()["enabled"] is False
    # Its live session is closed, and it is refused when it comes back.
    body = poll(lambda: api.get(f"/chargers/{identity}").json(), lambda b: not b["connected"])
    assert body["connected"] is False
    with pytest.raises(websockets.InvalidStatus) as info:
        SimCharger(server.ws_url, identity).connect()
    assert info.value.response.status_code == 404
    # Hidden from the list, found on request; history kept; it cannot simply be re-enabled.
    assert api.get("/chargers", params={"q": identity}).json()["total"] == 0
    listed = api.get("/chargers", params={"q": identity, "decommissioned": "true"}).json()
    assert [c["id"] for c in listed["items"]] == [identity]
    assert api.get(f"/transactions/{tx_id}").status_code == 200
    assert api.patch(f"/chargers/{identity}", json={"enabled": True}).status_code == 409
    assert api.delete(f"/chargers/{identity}", params={"purge": "true"}).status_code == 409
    assert api.get(f"/chargers/{identity}").status_code == 200

    back = api.post(f"/chargers/{identity}/recommission")
    assert back.status_code == 200 and back.json()["decommissioned_at"] is None
    assert api.post(f"/chargers/{identity}/recommission").status_code == 409
    with SimCharger(server.ws_url, identity) as cp:
        assert cp.boot().status == "Accepted"
    assert _audit(api, identity) == [("charger.recommissioned", "admin-test", "api", None),
                                     ("charger.decommissioned", "admin-test", "api", None)]


def test_a_charger_without_transactions_can_be_deleted_for_good(server, api, identity):
    with SimCharger(server.ws_url, identity) as cp:
        cp.boot()
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                        status="Available"))
        assert api.post(f"/chargers/{identity}/commands",
                        json={"action": "GetConfiguration"}).json()["status"] == "completed"
        refused = api.delete(f"/chargers/{identity}", params={"purge": "true"})
        assert refused.status_code == 409 and "connected" in refused.json()["message"]
    poll(lambda: api.get(f"/chargers/{identity}").json(), lambda b: not b["connected"])
    deleted = api.delete(f"/chargers/{identity}", params={"purge": "true"})
    assert deleted.status_code == 204, deleted.text
    assert api.get(f"/chargers/{identity}").status_code == 404
    assert query(server, "SELECT count(*) FROM commands c LEFT JOIN chargers h ON "
                 "h.id = c.charger_id WHERE h.id IS NULL") == [(0,)]
    assert _audit(api, identity) == [("charger.deleted", "admin-test", "api", None)]
    assert api.delete("/chargers/nobody-" + identity).status_code == 404


def test_close_a_transaction_that_never_got_its_stop(server, api, viewer, charger, identity):
    tx_id = _start(charger, register="2.5")  # Wh: 2.5 Wh register below meter_start
    other = _start(charger, meter_start=10, register="5010")
    assert viewer.post(f"/transactions/{tx_id}/close").status_code == 403
    for body, fragment in (({"meter_stop": "x"}, "meter_stop"), ({"meter_stop": 999}, "below"),
                           ({"meter_stop": 10**30}, "64-bit"), ({"reason": "r" * 33},
                                                                    "reason"),
                           ({"colour": 1}, "colour")):
        bad = api.post(f"/transactions/{tx_id}/close", json=body)
        assert bad.status_code == 400 and fragment in bad.json()["message"], bad.text
    assert api.post(f"/transactions/{tx_id}/close", data="[1]",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/transactions/999999999/close").status_code == 404
    assert api.post(f"/transactions/{10**20}/close").status_code == 404

    # With no body: energy from the newest register reading, which went backwards (never < 0).
    closed = api.post(f"/transactions/{tx_id}/close")
    assert closed.status_code == 200, closed.text
    tx = closed.json()
    assert (tx["state"], tx["stop_reason"], tx["closed_by"]) == ("stopped", "ClosedByOperator",
                                                                 "admin-test")
    assert (tx["meter_stop"], tx["energy_wh"]) == (2, 0.0)
    assert api.post(f"/transactions/{tx_id}/close").status_code == 409
    # Given numbers win over the reading.
    tx = api.post(f"/transactions/{other}/close",
                  json={"meter_stop": 3010, "reason": "StuckAfterBench"}).json()
    assert (tx["meter_stop"], tx["energy_wh"], tx["stop_reason"]) == (3010, 3000.0,
                                                                     "StuckAfterBench")
    # The charger's own stop, should it come after all, replaces the operator's estimate.
    charger.call(call.StopTransaction(transaction_id=other, meter_stop=5010,
                                      timestamp=_iso(datetime.now(UTC)), reason="EVDisconnected"))
    tx = api.get(f"/transactions/{other}").json()
    assert (tx["energy_wh"], tx["stop_reason"], tx["closed_by"]) == (5000.0, "EVDisconnected",
                                                                     None)
    assert _audit(api, identity) == [
        ("transaction.closed", "admin-test", "api", str(other)),
        ("transaction.closed", "admin-test", "api", str(tx_id))]
