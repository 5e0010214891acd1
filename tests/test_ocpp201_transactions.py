"""2.x transactions over real websockets: TransactionEvent and MeterValues from the ``ocpp``
package's v201/v21 ChargePoint, checked through ``/api/v1/transactions`` as an operator would."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.exceptions import OCPPError

from tests.support.charger import SimCharger


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture
def station(server, identity):
    cp = SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]).connect()
    assert cp.subprotocol == "ocpp2.0.1"
    yield cp
    cp.close()


def _tag(identity: str) -> str:
    return "K-" + "-".join(identity.split("-")[:2])  # unique per test, within 20 characters


def _energy(kwh: float, at: datetime, context: str = "Sample.Periodic", **extra) -> dict:
    return {"timestamp": _iso(at), "sampledValue": [
        {"value": kwh, "measurand": "Energy.Active.Import.Register", "context": context,
         "unitOfMeasure": {"unit": "kWh"}}, *extra.get("more", [])]}


def _event(cp, event_type: str, seq_no: int, at: datetime, tx_id: str, **fields):
    fields.setdefault("trigger_reason", "Authorized")
    info = {"transaction_id": tx_id, **fields.pop("info", {})}
    return cp.call(cp.ocpp.call.TransactionEvent(
        event_type=event_type, timestamp=_iso(at), seq_no=seq_no, transaction_info=info,
        **fields))


def _transactions(api, identity) -> list[dict]:
    body = api.get("/transactions", params={"charger": identity})
    assert body.status_code == 200, body.text
    return body.json()["items"]


def test_a_full_session_started_updated_ended(api, station, identity):
    tag = _tag(identity)
    assert api.post("/tokens", json={"id_tag": tag}).status_code == 201
    t0 = datetime.now(UTC).replace(microsecond=0)
    started = _event(station, "Started", 0, t0, "TX-A1", evse={"id": 1, "connector_id": 1},
                     id_token={"id_token": tag, "type": "ISO14443"},
                     info={"charging_state": "Charging"},
                     meter_value=[_energy(10.0, t0, "Transaction.Begin")])
    assert started.id_token_info == {"status": "Accepted"}

    running = _transactions(api, identity)
    assert len(running) == 1 and running[0]["state"] == "active"
    assert (running[0]["charger_transaction_id"], running[0]["evse_id"],
            running[0]["connector_id"], running[0]["id_tag"]) == ("TX-A1", 1, 1, tag)

    updated = _event(station, "Updated", 1, t0 + timedelta(minutes=10), "TX-A1",
                     trigger_reason="MeterValuePeriodic", meter_value=[{
                         "timestamp": _iso(t0 + timedelta(minutes=10)), "sampledValue": [
                             {"value": 12.5, "measurand": "Energy.Active.Import.Register",
                              "unitOfMeasure": {"unit": "kWh"}},
                             {"value": 11, "measurand": "Power.Active.Import",
                              "unitOfMeasure": {"unit": "W", "multiplier": 3}}]}])
    assert updated.id_token_info is None  # no idToken in the request: no idTokenInfo
    assert _transactions(api, identity)[0]["energy_so_far_wh"] == 2500.0

    # A 2.x MeterValues carries no transaction id: it is linked by its EVSE.
    station.call(station.ocpp.call.MeterValues(evse_id=1, meter_value=[
        _energy(13.0, t0 + timedelta(minutes=12))]))
    _event(station, "Ended", 2, t0 + timedelta(minutes=20), "TX-A1",
           trigger_reason="EVCommunicationLost",
           info={"stopped_reason": "EVDisconnected", "charging_state": "Idle"},
           meter_value=[_energy(14.25, t0 + timedelta(minutes=20), "Transaction.End")])

    [tx] = _transactions(api, identity)
    assert tx["state"] == "stopped"
    assert (tx["meter_start"], tx["meter_stop"], tx["energy_wh"]) == (10000, 14250, 4250.0)
    assert (tx["stopped_reason"], tx["stop_reason"]) == ("EVDisconnected", "EVDisconnected")
    assert tx["remote_start_id"] is None
    assert tx["charger_transaction_id"] == "TX-A1" and isinstance(tx["id"], int)
    assert (tx["started_at"], tx["stopped_at"]) == (_iso(t0), _iso(t0 + timedelta(minutes=20)))
    documented = api.get("/openapi.json").json()["components"]["schemas"]["Transaction"]
    assert set(tx) == set(documented["properties"])  # the spec names what the API shows
    detail = api.get(f"/transactions/{tx['id']}").json()
    readings = [(mv["measurand"], mv["value"], mv["unit"]) for mv in detail["meter_values"]]
    assert readings == [
        ("Energy.Active.Import.Register", 10000.0, "Wh"),
        ("Energy.Active.Import.Register", 12500.0, "Wh"),
        ("Power.Active.Import", 11000.0, "W"),
        ("Energy.Active.Import.Register", 13000.0, "Wh"),
        ("Energy.Active.Import.Register", 14250.0, "Wh"),
    ]


def test_a_retry_with_a_new_message_id_is_stored_once(api, station, identity):
    t0 = datetime.now(UTC).replace(microsecond=0)
    kwargs = {"evse": {"id": 2, "connector_id": 1},
              "id_token": {"id_token": "NO-SUCH-CARD", "type": "ISO14443"},
              "meter_value": [_energy(1.0, t0, "Transaction.Begin")]}
    first = _event(station, "Started", 0, t0, "TX-R1", **kwargs)
    retry = _event(station, "Started", 0, t0, "TX-R1", **kwargs)  # the ocpp package: new id
    # 2.x says Unknown for a token the CSMS does not know (1.6 said Invalid); both answers
    # carry idTokenInfo because both requests had an idToken.
    assert first.id_token_info == retry.id_token_info == {"status": "Unknown"}
    [tx] = _transactions(api, identity)
    detail = api.get(f"/transactions/{tx['id']}").json()
    assert len(detail["meter_values"]) == 1
    assert tx["evse_id"] == 2


def test_the_token_in_a_later_updated_gets_its_idtokeninfo(api, station, identity):
    tag = _tag(identity)
    expiry = "2031-05-01T12:00:00Z"
    assert api.post("/tokens", json={"id_tag": tag, "expiry_date": expiry,
                                     "parent_id_tag": "FLEET-9"}).status_code == 201
    t0 = datetime.now(UTC).replace(microsecond=0)
    plugged = _event(station, "Started", 0, t0, "TX-C1", trigger_reason="CablePluggedIn",
                     evse={"id": 1, "connector_id": 1})
    assert plugged.id_token_info is None
    authorized = _event(station, "Updated", 1, t0 + timedelta(seconds=30), "TX-C1",
                        id_token={"id_token": tag.lower(), "type": "ISO14443"})
    assert authorized.id_token_info == {
        "status": "Accepted", "cache_expiry_date_time": "2031-05-01T12:00:00.000Z",
        "group_id_token": {"id_token": "FLEET-9", "type": "Central"}}
    assert _transactions(api, identity)[0]["id_tag"] == tag.lower()


def test_an_updated_after_ended_does_not_reopen(api, station, identity):
    t0 = datetime.now(UTC).replace(microsecond=0)
    _event(station, "Ended", 3, t0 + timedelta(minutes=5), "TX-E1", offline=True,
           evse={"id": 1, "connector_id": 1}, info={"stopped_reason": "Local"},
           meter_value=[_energy(5.0, t0 + timedelta(minutes=5), "Transaction.End")])
    _event(station, "Updated", 1, t0 + timedelta(minutes=1), "TX-E1", offline=True,
           trigger_reason="MeterValuePeriodic", info={"charging_state": "Charging"},
           meter_value=[_energy(4.0, t0 + timedelta(minutes=1))])
    [tx] = _transactions(api, identity)
    assert tx["state"] == "stopped" and tx["stopped_reason"] == "Local"
    assert tx["energy_wh"] == 1000.0
    assert tx["started_at"] == _iso(t0 + timedelta(minutes=1))


def test_an_impossible_evse_is_refused_with_a_callerror(api, station, identity):
    with pytest.raises(OCPPError) as refused:
        _event(station, "Started", 0, datetime.now(UTC), "TX-BAD", evse={"id": 0})
    assert "evse id 0" in str(refused.value)
    assert _transactions(api, identity) == []


def test_an_ocpp21_remote_session_keeps_its_remote_start_id(server, api, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.1"]) as cp:
        assert cp.subprotocol == "ocpp2.1"
        t0 = datetime.now(UTC).replace(microsecond=0)
        started = _event(cp, "Started", 0, t0, "TX-21", trigger_reason="RemoteStart",
                         evse={"id": 1, "connector_id": 2},
                         id_token={"id_token": "REMOTE-21", "type": "Central"},
                         info={"remote_start_id": 77},
                         meter_value=[_energy(0.5, t0, "Transaction.Begin")])
        assert started.id_token_info == {"status": "Unknown"}
        _event(cp, "Ended", 1, t0 + timedelta(minutes=3), "TX-21", trigger_reason="RemoteStop",
               info={"stopped_reason": "Remote"},
               meter_value=[_energy(0.583, t0 + timedelta(minutes=3), "Transaction.End")])
    [tx] = _transactions(api, identity)
    assert (tx["charger_transaction_id"], tx["remote_start_id"]) == ("TX-21", 77)
    assert (tx["evse_id"], tx["connector_id"]) == (1, 2)
    assert tx["energy_wh"] == pytest.approx(83.0)
    assert tx["stop_reason"] == "Remote"


def test_the_console_shows_the_evse_and_the_chargers_id(server, api, station, identity):
    from tests.console.test_access import PASSWORD, _login

    server.flask("users", "create", "tx201-viewer", "--password", PASSWORD, "--role", "viewer",
                 check=False)  # once per server
    viewer, response = _login(server.url, "tx201-viewer")
    assert response.status_code == 302
    _event(station, "Started", 0, datetime.now(UTC), "TX-UI-1", trigger_reason="RemoteStart",
           evse={"id": 2, "connector_id": 1}, info={"remote_start_id": 5})
    [tx] = _transactions(api, identity)
    page = viewer.get(f"{server.url}/console/transactions/{tx['id']}", timeout=30)
    assert page.status_code == 200
    assert "EVSE #2 connector #1" in page.text
    assert "TX-UI-1 (remote start 5)" in page.text
    export = viewer.get(f"{server.url}/console/transactions.csv", params={"charger": identity},
                        timeout=30)
    [row] = list(csv.DictReader(io.StringIO(export.text)))
    assert (row["evse_id"], row["charger_transaction_id"], row["remote_start_id"]) == (
        "2", "TX-UI-1", "5")


def test_a_retry_on_a_new_connection_after_a_lost_reply_is_stored_once(server, api, identity):
    """The reply to an Updated is lost with the connection; the charger reconnects and sends
    the event again: the new connection knows nothing of it, the database does."""
    t0 = datetime.now(UTC).replace(microsecond=0)
    updated = {"trigger_reason": "MeterValuePeriodic",
               "meter_value": [_energy(21.0, t0 + timedelta(minutes=1))]}
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        _event(cp, "Started", 0, t0, "TX-RC", evse={"id": 1, "connector_id": 1},
               meter_value=[_energy(20.0, t0, "Transaction.Begin")])
        _event(cp, "Updated", 1, t0 + timedelta(minutes=1), "TX-RC", **updated)
        _event(cp, "Updated", 1, t0 + timedelta(minutes=1), "TX-RC", **updated)  # same conn
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        _event(cp, "Updated", 1, t0 + timedelta(minutes=1), "TX-RC", **updated)
        _event(cp, "Updated", 2, t0 + timedelta(minutes=2), "TX-RC",
               trigger_reason="MeterValuePeriodic",
               meter_value=[_energy(22.0, t0 + timedelta(minutes=2))])
        _event(cp, "Ended", 3, t0 + timedelta(minutes=3), "TX-RC",
               meter_value=[_energy(23.0, t0 + timedelta(minutes=3), "Transaction.End")])
    [tx] = _transactions(api, identity)
    detail = api.get(f"/transactions/{tx['id']}").json()
    assert [mv["value"] for mv in detail["meter_values"]] == [20000.0, 21000.0, 22000.0,
                                                               23000.0]
    assert tx["energy_wh"] == 3000.0


def test_the_start_operation_is_linked_to_the_transaction_it_led_to(server, api, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        cp.call(cp.ocpp.call.Heartbeat())
        command = api.post(f"/chargers/{identity}/operations/start",
                           json={"token": "REMOTE-1", "evse_id": 1})
        assert command.status_code == 200, command.text
        remote_start_id = command.json()["request"]["remoteStartId"]
        assert command.json()["remote_start_id"] == remote_start_id
        _event(cp, "Started", 0, datetime.now(UTC), "TX-OP-1", trigger_reason="RemoteStart",
               evse={"id": 1, "connector_id": 1},
               id_token={"id_token": "REMOTE-1", "type": "Central"},
               info={"remote_start_id": remote_start_id})
    [tx] = _transactions(api, identity)
    assert tx["remote_start_id"] == remote_start_id
    linked = api.get(f"/commands/{command.json()['id']}").json()
    assert linked["transaction_id"] == tx["id"]


@pytest.mark.parametrize("subprotocol, length", [("ocpp2.0.1", 36), ("ocpp2.1", 255)])
def test_a_token_as_long_as_the_version_allows_starts_a_transaction(server, api, identity,
                                                                  subprotocol, length):
    tag = ("LONG-" + identity).ljust(length, "X")[:length]
    assert api.post("/tokens", json={"id_tag": tag, "type": "eMAID"}).status_code == 201
    with SimCharger(server.ws_url, identity, subprotocols=[subprotocol]) as cp:
        t0 = datetime.now(UTC).replace(microsecond=0)
        started = _event(cp, "Started", 0, t0, "TX-LONG", evse={"id": 1, "connector_id": 1},
                         id_token={"id_token": tag, "type": "eMAID"},
                         meter_value=[_energy(1.0, t0, "Transaction.Begin")])
        assert started.id_token_info["status"] == "Accepted"
    [tx] = _transactions(api, identity)
    assert tx["id_tag"] == tag and tx["charger_transaction_id"] == "TX-LONG"


def test_the_stop_operation_names_the_chargers_own_transaction_id(server, api, identity):
    with SimCharger(server.ws_url, identity, subprotocols=["ocpp2.0.1"]) as cp:
        cp.call(cp.ocpp.call.Heartbeat())
        _event(cp, "Started", 0, datetime.now(UTC), "TX-STOP-1", evse={"id": 1, "connector_id": 1},
               id_token={"id_token": "STOPPER", "type": "ISO14443"})
        [tx] = _transactions(api, identity)
        reply = api.post(f"/chargers/{identity}/operations/stop",
                         json={"transaction_id": tx["id"]})
        assert reply.status_code == 200, reply.text
        action, fields = cp.received[-1]
        assert (action, fields["transaction_id"]) == ("RequestStopTransaction", "TX-STOP-1")
