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
from app.ocpp.versions import V16


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
