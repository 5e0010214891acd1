"""One server, a mixed fleet: 1.6, 2.0.1 and 2.1 chargers at once, each booting, authorising,
charging and taking an operation in its own version, seen through one API."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call as call16

from tests.support.charger import SimCharger

VERSIONS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _charge_16(cp: SimCharger, tag: str, t0: datetime) -> None:
    cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    assert cp.call(call16.Authorize(id_tag=tag)).id_tag_info["status"] == "Accepted"
    started = cp.call(call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=1000,
                                              timestamp=_iso(t0)))
    cp.call(call16.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                               meter_value=[{"timestamp": _iso(t0 + timedelta(minutes=5)),
                                             "sampled_value": [{"value": "2000"}]}]))
    cp.call(call16.StopTransaction(transaction_id=started.transaction_id, meter_stop=4000,
                                   timestamp=_iso(t0 + timedelta(minutes=10))))


def _charge_2x(cp: SimCharger, tag: str, t0: datetime) -> None:
    call = cp.ocpp.call
    cp.call(call.StatusNotification(timestamp=_iso(t0), connector_status="Available",
                                    evse_id=1, connector_id=1))
    token = {"id_token": tag, "type": "ISO14443"}
    assert cp.call(call.Authorize(id_token=token)).id_token_info["status"] == "Accepted"

    def event(kind: str, seq: int, minutes: int, kwh: float, context: str, **extra):
        return cp.call(call.TransactionEvent(
            event_type=kind, timestamp=_iso(t0 + timedelta(minutes=minutes)),
            trigger_reason="Authorized" if kind == "Started" else "MeterValuePeriodic",
            seq_no=seq, transaction_info={"transaction_id": f"tx-{cp.identity[-12:]}"},
            meter_value=[{"timestamp": _iso(t0 + timedelta(minutes=minutes)), "sampledValue": [
                {"value": kwh, "context": context, "measurand": "Energy.Active.Import.Register",
                 "unitOfMeasure": {"unit": "kWh"}}]}], **extra))

    event("Started", 0, 0, 1.0, "Transaction.Begin", evse={"id": 1, "connector_id": 1},
          id_token=token)
    event("Updated", 1, 5, 2.0, "Sample.Periodic")
    event("Ended", 2, 10, 4.0, "Transaction.End")


def test_a_mixed_fleet_on_one_server(server, api, identity):
    tag = f"MIX-{identity[-12:]}"
    assert api.post("/tokens", json={"id_tag": tag}).status_code == 201
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    fleet = [SimCharger(server.ws_url, f"{identity}-{VERSIONS[p]}-{n}", subprotocols=[p])
             for p in VERSIONS for n in range(2)]
    try:
        for cp in fleet:  # all connected at once, each in its own version
            cp.connect()
        for cp in fleet:
            assert cp.boot().status == "Accepted"
            (_charge_16 if cp.subprotocol == "ocpp1.6" else _charge_2x)(cp, tag, t0)
        for cp in fleet:
            reply = api.post(f"/chargers/{cp.identity}/operations/reset", json={"hard": True})
            assert reply.status_code == 200, reply.text
            action, fields = cp.received[-1]
            assert action == "Reset"
            assert fields["type"] == ("Hard" if cp.subprotocol == "ocpp1.6" else "Immediate")
    finally:
        for cp in fleet:
            cp.close()
    for cp in fleet:
        charger = api.get(f"/chargers/{cp.identity}").json()
        assert charger["ocpp_version"] == VERSIONS[cp.subprotocol]
        [tx] = api.get("/transactions", params={"charger": cp.identity}).json()["items"]
        # 3 kWh each: 1.6 as meter stop minus start, 2.x from Begin to End readings.
        assert tx["energy_wh"] == 3000.0 and tx["id_tag"] == tag
        assert (tx["charger_transaction_id"] is None) == (cp.subprotocol == "ocpp1.6")
