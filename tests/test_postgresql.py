"""The same server on PostgreSQL (the production database): charger traffic, commands, restart."""
from __future__ import annotations

import signal

from ocpp.v16 import call

from tests.conftest import Api
from tests.support.charger import SimCharger
from tests.support.server import query


def test_charger_traffic_and_commands_on_postgresql(postgres, live_server_factory, tmp_path):
    url = postgres.create_database("constellation_traffic")
    srv = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    api = Api(srv.url, srv.create_user("pgadmin"))
    with SimCharger(srv.ws_url, "PG-1") as cp:
        assert cp.boot(firmware_version="2.0").status == "Accepted"
        for status in ("Available", "Preparing"):
            cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status=status))
        start = cp.call(call.StartTransaction(connector_id=1, id_tag="PGTAG", meter_start=10,
                                              timestamp="2026-05-01T10:00:00Z"))
        assert cp.call(call.StartTransaction(connector_id=1, id_tag="PGTAG", meter_start=10,
                                             timestamp="2026-05-01T10:00:00Z")
                       ).transaction_id == start.transaction_id
        cp.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                 meter_value=[{"timestamp": "2026-05-01T10:01:00Z",
                                               "sampledValue": [{"value": "0.5", "unit": "kWh"}]}]))
        body = api.post("/chargers/PG-1/commands", json={"action": "GetConfiguration"}).json()
        assert body["status"] == "completed"
        srv.stop(signal.SIGKILL)
    again = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    with SimCharger(again.ws_url, "PG-1") as cp:
        cp.call(call.StopTransaction(meter_stop=1010, timestamp="2026-05-01T10:30:00Z",
                                     transaction_id=start.transaction_id))
    assert query(again, "SELECT energy_wh FROM transactions WHERE id = ?",
                 start.transaction_id) == [(1000.0,)]
    assert query(again, "SELECT value, unit FROM meter_values WHERE transaction_id = ?",
                 start.transaction_id) == [(500.0, "Wh")]
    assert query(again, "SELECT c.status FROM connectors c JOIN chargers ch ON ch.id = "
                 "c.charger_id WHERE ch.identity = 'PG-1'") == [("Preparing",)]
    assert query(again, "SELECT count(*) FROM configuration_keys") == [(2,)]


def test_charger_numbers_text_and_tags_on_postgresql(postgres, live_server_factory, tmp_path):
    """What SQLite lets pass and PostgreSQL would refuse: meters past 32 bits, a lenient
    charger's overlong text; and id tags folded the same way as on SQLite."""
    import json

    from tests.support.charger import RawSocket

    url = postgres.create_database("constellation_domain")
    srv = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    api = Api(srv.url, srv.create_user("pgadmin"))
    assert api.post("/chargers", json={"identity": "PG-L", "lenient": True}).status_code == 201
    assert api.post("/tokens", json={"id_tag": "ÖL-CARD-1"}).status_code == 201
    assert api.post("/tokens", json={"id_tag": "öl-card-1"}).status_code == 409
    big = 2**40
    with RawSocket(srv.ws_url, "PG-L", compression=None) as raw:
        boot = raw.exchange(json.dumps([2, "b", "BootNotification", {
            "chargePointVendor": "V" * 1000, "chargePointModel": "M"}]))
        assert boot[0] == 3, boot
        authorize = raw.exchange('[2,"a","Authorize",{"idTag":"öl-card-1"}]')
        assert authorize[2]["idTagInfo"]["status"] == "Accepted"
        start = raw.exchange(json.dumps([2, "s", "StartTransaction", {
            "connectorId": 1, "idTag": "öl-card-1", "meterStart": big,
            "timestamp": "2026-05-01T10:00:00Z", "reservationId": big}]))
        assert start[0] == 3, start
        tx_id = start[2]["transactionId"]
        for reported in (tx_id, big):
            stop = raw.exchange(json.dumps([2, "p", "StopTransaction", {
                "transactionId": reported, "meterStop": big + 1000,
                "timestamp": "2026-05-01T10:30:00Z", "reason": "R" * 1000}]))
            assert stop[0] == 3, stop
    assert query(srv, "SELECT length(vendor) FROM chargers WHERE identity = 'PG-L'") == [(64,)]
    assert query(srv, "SELECT meter_start, meter_stop, energy_wh, reported_transaction_id, "
                 "length(stop_reason) FROM transactions ORDER BY id") == [
        (big, big + 1000, 1000.0, None, 32), (None, big + 1000, None, big, 32)]
    listed = api.get("/transactions", params={"id_tag": "ÖL-card-1"}).json()["items"]
    assert [t["id"] for t in listed] == [tx_id]


def test_ocpp201_transaction_events_on_postgresql(postgres, live_server_factory, tmp_path):
    """Migration 0008 and the 2.x transaction path on PostgreSQL: a retried seqNo stored once,
    energy from Begin to End, and a charger's 36-character transaction id."""
    url = postgres.create_database("constellation_tx201")
    srv = live_server_factory(instance_dir=str(tmp_path), DATABASE_URL=url)
    tx_id = "f" * 36

    def event(cp, event_type, seq_no, at, kwh, context, **fields):
        return cp.call(cp.ocpp.call.TransactionEvent(
            event_type=event_type, timestamp=at, seq_no=seq_no,
            trigger_reason=fields.pop("trigger_reason", "MeterValuePeriodic"),
            transaction_info={"transaction_id": tx_id, **fields.pop("info", {})},
            meter_value=[{"timestamp": at, "sampledValue": [
                {"value": kwh, "context": context, "unitOfMeasure": {"unit": "kWh"}}]}],
            **fields))

    with SimCharger(srv.ws_url, "PG-201", subprotocols=["ocpp2.0.1"]) as cp:
        for _ in range(2):  # a retry: a new message id, the same seqNo
            started = event(cp, "Started", 0, "2026-05-01T10:00:00Z", 100.0,
                            "Transaction.Begin", trigger_reason="Authorized",
                            evse={"id": 1, "connector_id": 1},
                            id_token={"id_token": "PG-CARD", "type": "ISO14443"})
            assert started.id_token_info == {"status": "Unknown"}
        event(cp, "Ended", 1, "2026-05-01T10:30:00Z", 101.5, "Transaction.End",
              info={"stopped_reason": "EVDisconnected"})
    assert query(srv, "SELECT charger_transaction_id, evse_id, meter_start, meter_stop, "
                 "energy_wh, stopped_reason FROM transactions") == [
        (tx_id, 1, 100000, 101500, 1500.0, "EVDisconnected")]
    assert query(srv, "SELECT count(*) FROM transaction_events") == [(2,)]
    assert query(srv, "SELECT count(*) FROM meter_values") == [(2,)]
