"""The device model service below the wire: NotifyReport parts in any order and retried,
completion by tbc, Get/SetVariables results, ItemsPerMessage and chunking."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services.device_model_values import (
    ComponentRef,
    ReportedVariable,
    VariableAttribute,
    VariableCharacteristics,
    VariableRef,
    VariableResult,
)
from tests.support.database import database_url

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
HEARTBEAT = VariableRef(ComponentRef("OCPPCommCtrlr"), "HeartbeatInterval")
ITEMS_GET = VariableRef(ComponentRef("DeviceDataCtrlr"), "ItemsPerMessage", "GetVariables")
CONNECTOR = VariableRef(ComponentRef("Connector", None, 1, 1), "AvailabilityState")


@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "dm")})
    with app.app_context():
        db.create_all()
        yield app


@pytest.fixture
def charger_id(app):
    from app.extensions import db
    from app.models import Charger

    charger = Charger(identity="DM-1", registration_status="accepted")
    db.session.add(charger)
    db.session.commit()
    return charger.id


def reported(ref, value, mutability="ReadWrite", data_type="integer"):
    return ReportedVariable(ref, (VariableAttribute("Actual", value, mutability),),
                            VariableCharacteristics(data_type, False, unit="s"))


def record(charger_id, seq_no, tbc, items, request_id=7):
    from app.extensions import db
    from app.services import device_model

    with db.engine.begin() as conn:
        return device_model.record_report(conn, charger_id, request_id, seq_no, tbc, items, NOW,
                                          NOW)


def listed(charger_id, **filters):
    from app.extensions import db
    from app.services import device_model

    db.session.expire_all()
    return [device_model.variable_to_dict(v) for v in
            db.session.execute(device_model.variables(charger_id, **filters)).scalars()]


def report(charger_id):
    from app.extensions import db
    from app.services import device_model

    db.session.expire_all()
    return device_model.report_to_dict(
        db.session.execute(device_model.reports(charger_id)).scalars().one())


def test_parts_out_of_order_complete_only_when_all_are_in(charger_id):
    last = record(charger_id, 2, False, [reported(CONNECTOR, "Operative", "ReadOnly", "string")])
    assert not last.complete and report(charger_id)["parts_expected"] == 3
    first = record(charger_id, 0, True, [reported(HEARTBEAT, "300")])
    assert not first.complete
    middle = record(charger_id, 1, True, [reported(ITEMS_GET, "2", "ReadOnly")])
    assert middle.complete and middle.parts_received == 3
    r = report(charger_id)
    assert r["complete"] and r["items_received"] == 3 and r["completed_at"] is not None
    names = [(v["component"]["name"], v["variable"]["name"]) for v in listed(charger_id)]
    assert names == [("Connector", "AvailabilityState"), ("DeviceDataCtrlr", "ItemsPerMessage"),
                     ("OCPPCommCtrlr", "HeartbeatInterval")]
    connector = listed(charger_id, component="connector")[0]
    assert connector["component"] == {"name": "Connector", "instance": None, "evse_id": 1,
                                      "connector_id": 1}
    assert connector["attributes"][0]["mutability"] == "ReadOnly"
    assert connector["characteristics"]["data_type"] == "string"


def test_a_retried_part_is_stored_once_and_variables_are_upserted(charger_id):
    record(charger_id, 0, True, [reported(HEARTBEAT, "300")])
    again = record(charger_id, 0, True, [reported(HEARTBEAT, "300")])
    assert again.duplicate and again.parts_received == 1
    assert report(charger_id)["items_received"] == 1
    # A later report with the same variable (names differ in case) updates the same row.
    record(charger_id, 0, False, [reported(VariableRef(ComponentRef("ocppcommctrlr"),
                                                       "heartbeatinterval"), "600")], 8)
    rows = listed(charger_id)
    assert len(rows) == 1 and rows[0]["attributes"][0]["value"] == "600"
    assert rows[0]["report_request_id"] == 8


def test_a_single_part_with_tbc_false_completes_and_a_part_after_the_end_is_refused(charger_id):
    from app.services.errors import InvalidReport

    assert record(charger_id, 0, False, [reported(HEARTBEAT, "300")]).complete
    with pytest.raises(InvalidReport):
        record(charger_id, 1, True, [reported(ITEMS_GET, "2")])
    with pytest.raises(InvalidReport):
        record(charger_id, -1, True, [])


def test_get_and_set_results(charger_id):
    from app.extensions import db
    from app.services import device_model

    record(charger_id, 0, False, [reported(HEARTBEAT, "300")])
    unknown = VariableRef(ComponentRef("Nope"), "Nothing")
    with db.engine.begin() as conn:
        device_model.record_get_results(conn, charger_id, [
            VariableResult(CONNECTOR, "Accepted", value="Operative"),
            VariableResult(unknown, "UnknownComponent")], NOW)
    assert [v["variable"]["name"] for v in listed(charger_id)] == ["AvailabilityState",
                                                                   "HeartbeatInterval"]
    with db.engine.begin() as conn:
        device_model.record_set_results(conn, charger_id, [
            VariableResult(HEARTBEAT, "Accepted", value="120")], NOW)
    hb = listed(charger_id, variable="HeartbeatInterval")[0]
    assert hb["attributes"][0]["value"] == "120" and hb["attributes"][0]["last_status"] == \
        "Accepted"
    assert hb["characteristics"]["unit"] == "s"  # a result keeps what the report said
    with db.engine.begin() as conn:
        device_model.record_set_results(conn, charger_id, [
            VariableResult(HEARTBEAT, "RebootRequired", value="90"),
            VariableResult(CONNECTOR, "Rejected", value="Inoperative", reason="ReadOnly"),
            VariableResult(unknown, "UnknownVariable", value="1")], NOW)
    hb = listed(charger_id, variable="heartbeatinterval")[0]["attributes"][0]
    assert (hb["value"], hb["pending_value"], hb["last_status"]) == ("120", "90",
                                                                    "RebootRequired")
    conn_attr = listed(charger_id, component="Connector")[0]["attributes"][0]
    assert conn_attr["value"] == "Operative"
    assert (conn_attr["last_status"], conn_attr["last_status_reason"]) == ("Rejected",
                                                                           "ReadOnly")
    assert len(listed(charger_id)) == 2  # nothing added for the unknown one
    assert [v["variable"]["name"] for v in listed(charger_id, q="operat")] == [
        "AvailabilityState"]


def test_items_per_message_and_chunking(charger_id):
    from app.services import device_model

    assert device_model.items_per_message(charger_id) == device_model.DEFAULT_ITEMS_PER_MESSAGE
    record(charger_id, 0, False, [
        reported(ITEMS_GET, "2", "ReadOnly"),
        reported(VariableRef(ComponentRef("DeviceDataCtrlr"), "ItemsPerMessageSetVariables"),
                 "3", "ReadOnly")])
    assert device_model.items_per_message(charger_id, "GetVariables") == 2
    assert device_model.items_per_message(charger_id, "SetVariables") == 3
    assert device_model.chunk(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    assert device_model.chunk([], 2) == []
    with pytest.raises(ValueError):
        device_model.chunk([1], 0)


def test_the_adapter_pairs_set_results_with_the_values_asked_for():
    from app.ocpp.v201 import device_model as adapter

    request = {"setVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeValue": "60"},
        {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
         "variable": {"name": "Enabled"}, "attributeType": "Target", "attributeValue": "false"}]}
    response = {"setVariableResult": [
        {"component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
         "variable": {"name": "Enabled"}, "attributeType": "Target", "attributeStatus": "Rejected",
         "attributeStatusInfo": {"reasonCode": "ReadOnly"}},
        {"component": {"name": "ocppcommctrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attributeStatus": "Accepted"}]}
    results = adapter.variable_results("SetVariables", request, response)
    assert [(r.status, r.attribute_type, r.value, r.reason) for r in results] == [
        ("Rejected", "Target", "false", "ReadOnly"), ("Accepted", "Actual", "60", None)]
    from app.services.device_model_values import VariableRequest

    wire = adapter.request_to_wire("SetVariables", [VariableRequest(CONNECTOR, "Target", "x")])
    assert wire == {"setVariableData": [{
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
        "variable": {"name": "AvailabilityState"}, "attributeType": "Target",
        "attributeValue": "x"}]}
