"""The OCPP-J session state machine, driven with frames and no sockets."""
from __future__ import annotations

import json

import pytest

from app.ocpp import errors
from app.ocpp.session import (
    CallInProgress,
    CallReceived,
    Ignored,
    OcppSession,
    Rejected,
    ReplyReceived,
)
from app.ocpp.v16 import VERSION as V16


@pytest.fixture
def session() -> OcppSession:
    return OcppSession(V16, handled_actions=frozenset({"Heartbeat", "BootNotification"}))


def reply_of(event) -> list:
    assert isinstance(event, Rejected), event
    return json.loads(event.reply)


def test_valid_call_is_received(session):
    event = session.receive('[2,"1","Heartbeat",{}]')
    assert isinstance(event, CallReceived)
    assert event.call.action == "Heartbeat" and event.call.unique_id == "1"


@pytest.mark.parametrize("frame, code, unique_id", [
    ("not json", "FormationViolation", "-1"),
    ('{"a": 1}', "ProtocolError", "-1"),
    ("[2]", "ProtocolError", "-1"),
    ('[2, 17, "Heartbeat", {}]', "ProtocolError", "-1"),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', "ProtocolError", "-1"),
    ('[2, "9", "Heartbeat", []]', "FormationViolation", "9"),
    ('[2, "9", "Heartbeat"]', "ProtocolError", "9"),
    ('[2, "9", "Teleport", {}]', "NotImplemented", "9"),
    ('[2, "9", "SignCertificate", {"csr": "x"}]', "NotSupported", "9"),
    ('[2, "9", "BootNotification", {"chargePointVendor": "V"}]',
     "OccurenceConstraintViolation", "9"),
    ('[2, "9", "BootNotification", {"chargePointVendor": 5, "chargePointModel": "M"}]',
     "TypeConstraintViolation", "9"),
    ('[2, "9", "Heartbeat", {"extra": 1}]', "FormationViolation", "9"),
])
def test_bad_frames_get_the_16_callerror(session, frame, code, unique_id):
    message_type, reply_id, reply_code, description, details = reply_of(session.receive(frame))
    assert (message_type, reply_id, reply_code) == (4, unique_id, code)
    assert description and isinstance(details, dict)


def test_unknown_message_type_is_ignored_in_16(session):
    assert isinstance(session.receive('[7,"1","x"]'), Ignored)


def test_one_outstanding_call_and_reply_matching(session):
    pending, text = session.start_call("Reset", {"type": "Soft"})
    assert json.loads(text) == [2, pending.unique_id, "Reset", {"type": "Soft"}]
    with pytest.raises(CallInProgress):
        session.start_call("Reset", {"type": "Hard"})
    # A crossing CALL from the charger is still handled while ours is outstanding.
    assert isinstance(session.receive('[2,"c1","Heartbeat",{}]'), CallReceived)
    assert isinstance(session.receive('[3,"other",{}]'), Ignored)
    event = session.receive(json.dumps([3, pending.unique_id, {"status": "Accepted"}]))
    assert isinstance(event, ReplyReceived) and event.message.payload == {"status": "Accepted"}
    session.start_call("Reset", {"type": "Hard"})  # free again


def test_late_reply_after_timeout_is_dropped(session):
    pending, _ = session.start_call("Reset", {"type": "Soft"})
    assert session.expire(pending.unique_id)
    event = session.receive(json.dumps([3, pending.unique_id, {"status": "Accepted"}]))
    assert isinstance(event, Ignored) and event.late


def test_invalid_outgoing_call_is_refused(session):
    with pytest.raises(errors.LocalProtocolError) as info:
        session.start_call("Reset", {"type": "Gentle"})
    assert info.value.code == errors.PROPERTY_CONSTRAINT_VIOLATION
    assert session.pending is None


def test_reply_breaking_the_schema_is_flagged(session):
    pending, _ = session.start_call("Reset", {"type": "Soft"})
    event = session.receive(json.dumps([3, pending.unique_id, {"status": "Maybe"}]))
    assert isinstance(event, ReplyReceived) and event.violation is not None


def test_lenient_session_processes_a_violating_call():
    session = OcppSession(V16, lenient=True)
    event = session.receive('[2,"1","StatusNotification",'
                            '{"connectorId":1,"errorCode":"Weird","status":"Available"}]')
    assert isinstance(event, CallReceived) and event.violation is not None


def test_an_outgoing_call_that_cannot_be_sent_as_text_is_refused(session):
    with pytest.raises(errors.LocalProtocolError) as info:
        session.start_call("DataTransfer", {"vendorId": "acme", "data": "bad \ud800"})
    assert info.value.code == errors.FORMAT_VIOLATION
    assert session.pending is None  # the next command is not blocked by it
    pending, _ = session.start_call("DataTransfer", {"vendorId": "acme", "data": "ok ü"})
    assert pending.action == "DataTransfer"


def test_until_accepted_only_boot_is_answered(session):
    session.accepted = False
    assert reply_of(session.receive('[2,"h1","Heartbeat",{}]'))[:3] == [4, "h1", "SecurityError"]
    boot = '[2,"b1","BootNotification",{"chargePointVendor":"A","chargePointModel":"B"}]'
    assert isinstance(session.receive(boot), CallReceived)
    # An unknown action is still NotImplemented: the charger learns what is wrong first.
    assert reply_of(session.receive('[2,"x1","Fly",{}]'))[2] == "NotImplemented"
    # Replies to our calls are still matched (the CSMS may configure a pending charger).
    pending, _ = session.start_call("Reset", {"type": "Soft"})
    event = session.receive(json.dumps([3, pending.unique_id, {"status": "Accepted"}]))
    assert isinstance(event, ReplyReceived)


# Strict JSON (issue 8): what Python's json module accepts but nothing can store ---------------

STRICT = pytest.mark.parametrize("lenient", [False, True], ids=["strict", "lenient"])


@STRICT
@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"])
def test_non_finite_numbers_in_a_call_are_a_formation_violation(lenient, number):
    session = OcppSession(V16, lenient=lenient)
    frame = ('[2,"n1","StartTransaction",{"connectorId":1,"idTag":"A","timestamp":'
             '"2026-05-01T12:00:00Z","meterStart":' + number + '}]')
    message_type, reply_id, code, description, _ = reply_of(session.receive(frame))
    assert (message_type, reply_id, code) == (4, "n1", "FormationViolation")
    assert number.lstrip("-") in description


@STRICT
@pytest.mark.parametrize("field", ["meterStart", "connectorId"])
def test_integers_beyond_64_bits_are_a_type_constraint_violation(lenient, field):
    session = OcppSession(V16, lenient=lenient)
    payload = {"connectorId": 1, "idTag": "A", "meterStart": 0,
               "timestamp": "2026-05-01T12:00:00Z", field: 2**63}
    message_type, reply_id, code, description, _ = reply_of(
        session.receive(json.dumps([2, "b1", "StartTransaction", payload])))
    assert (message_type, reply_id, code) == (4, "b1", "TypeConstraintViolation")
    assert "64-bit" in description
    # The largest int64 is a number like any other.
    payload[field] = 2**63 - 1
    event = session.receive(json.dumps([2, "b2", "StartTransaction", payload]))
    assert not isinstance(event, Rejected)


def test_deeply_nested_frame_gets_a_callerror(session):
    assert reply_of(session.receive("[" * 10_000 + "]" * 10_000))[:3] == [
        4, "-1", "FormationViolation"]
    # Nested less deep than the parser's limit, in a payload: still an answer, no exception.
    deep = '[2,"d1","Heartbeat",{"x":' + "[" * 900 + "]" * 900 + "}]"
    assert reply_of(session.receive(deep))[:3] == [4, "d1", "FormationViolation"]


def test_lone_surrogate_is_refused_and_the_callerror_can_be_sent(session):
    reply = reply_of(session.receive(r'[2,"\ud800","Heartbeat",{}]'))
    assert reply[:3] == [4, "\ud800", "FormationViolation"]
    event = session.receive(r'[2,"s2","BootNotification",{"chargePointVendor":"\udfff",'
                            r'"chargePointModel":"M"}]')
    assert reply_of(event)[:3] == [4, "s2", "FormationViolation"]
    # What goes on the wire is UTF-8 text: the echoed id is escaped.
    assert event.reply.encode("utf-8")
    assert session.receive(r'[2,"\ud800","Heartbeat",{}]').reply.encode("utf-8") == (
        b'[4,"\\ud800","FormationViolation",'
        b'"Frame has a lone UTF-16 surrogate: not Unicode text",{}]')


def test_escaped_surrogate_pairs_are_text(session):
    event = session.receive(r'[2,"e1","BootNotification",{"chargePointVendor":"\ud83d\ude00",'
                            r'"chargePointModel":"M"}]')
    assert isinstance(event, CallReceived)
    assert event.call.payload["chargePointVendor"] == "\N{GRINNING FACE}"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400"])
def test_reply_with_a_non_finite_number_is_an_invalid_reply(session, number):
    pending, _ = session.start_call("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    event = session.receive(
        f'[3,"{pending.unique_id}",{{"status":"Accepted","chargingSchedule":{{'
        f'"chargingRateUnit":"W","chargingSchedulePeriod":[{{"startPeriod":0,'
        f'"limit":{number}}}]}}}}]')
    assert isinstance(event, ReplyReceived)
    assert event.violation is not None and event.violation.code == errors.FORMAT_VIOLATION
    # What is kept of the reply can be stored and served as JSON.
    period = event.message.payload["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert period == {"startPeriod": 0, "limit": None}
    assert session.pending is None


def test_reply_with_an_integer_beyond_64_bits_is_an_invalid_reply(session):
    pending, _ = session.start_call("GetLocalListVersion", {})
    event = session.receive(f'[3,"{pending.unique_id}",{{"listVersion":{10**20}}}]')
    assert isinstance(event, ReplyReceived)
    assert event.violation.code == errors.TYPE_CONSTRAINT_VIOLATION


def test_callerror_with_a_lone_surrogate_is_kept_as_text(session):
    pending, _ = session.start_call("Reset", {"type": "Soft"})
    event = session.receive(f'[4,"{pending.unique_id}","InternalError","bad \\udc00",{{}}]')
    assert isinstance(event, ReplyReceived)
    assert event.message.description == "bad \ufffd"


@pytest.mark.parametrize("payload", [
    {"connectorId": 2**63, "type": "Operative"},
    {"connectorId": float("nan"), "type": "Operative"},
])
def test_outgoing_call_with_unsendable_numbers_is_refused(session, payload):
    with pytest.raises(errors.LocalProtocolError):
        session.start_call("ChangeAvailability", payload)
    assert session.pending is None
