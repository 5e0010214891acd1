"""Command forms built from the OCPP schemas, and schema errors mapped back to their field."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from app.console import schema_forms
from app.ocpp import v16, validation


@pytest.mark.parametrize("action", v16.COMMANDS)
def test_every_command_has_a_form(action):
    fields = {f.name: f for f in schema_forms.fields("1.6", action)}
    schema = schema_forms.schema("1.6", action)
    assert set(fields) == set(schema.get("properties", {}))
    for name, prop in schema.get("properties", {}).items():
        if "enum" in prop:
            assert fields[name].kind == "select" and fields[name].choices == prop["enum"]


def test_required_marks_follow_the_schema_except_what_the_server_fills_in():
    reserve = {f.name: f for f in schema_forms.fields("1.6", "ReserveNow")}
    assert reserve["connectorId"].required and reserve["idTag"].required
    assert not reserve["reservationId"].required  # the next free id when empty
    assert not reserve["parentIdTag"].required
    assert "ISO 8601" in reserve["expiryDate"].hint


def test_parse_converts_types_and_names_unreadable_fields():
    payload, errors = schema_forms.parse("1.6", "GetConfiguration",
                                         MultiDict({"key": "A\n\n B \n"}))
    assert payload == {"key": ["A", "B"]} and errors == {}
    payload, errors = schema_forms.parse("1.6", "ChangeAvailability",
                                         MultiDict({"connectorId": "one", "type": "Operative"}))
    assert errors == {"connectorId": "Enter a whole number."}
    payload, errors = schema_forms.parse("1.6", "SetChargingProfile",
                                         MultiDict({"connectorId": "1",
                                                    "csChargingProfiles": "{nope"}))
    assert errors["csChargingProfiles"].startswith("This is not valid JSON")


@pytest.mark.parametrize("action, payload, field, words", [
    ("ChangeConfiguration", {"key": "K" * 51, "value": "1"}, "key", "is too long"),
    ("Reset", {}, "type", "'type' is a required property"),
    ("Reset", {"type": "Gentle"}, "type", "is not one of"),
    ("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "kW", "chargingSchedulePeriod": []}}},
     "csChargingProfiles", "chargingSchedule/chargingRateUnit"),
])
def test_schema_errors_find_their_field(action, payload, field, words):
    error = validation.check("1.6", validation.REQUEST, action, payload)
    message = f"invalid {action} payload: {error.description}"
    assert schema_forms.field_for_error(error.details, message) == field
    assert words in schema_forms.explain(message)
