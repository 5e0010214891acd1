"""The OCPP-J session for 2.0.1 and 2.1, driven with frames and no sockets: their message-type
rules, 2.1's SEND and CALLRESULTERROR, 2.x error spelling, and subprotocol negotiation."""
from __future__ import annotations

import json

import pytest

from app.ocpp import frames
from app.ocpp.session import (
    CallReceived,
    Ignored,
    OcppSession,
    Rejected,
    ReplyReceived,
    SendReceived,
)
from app.ocpp.supported import build_registry
from app.ocpp.v21 import VERSION as V21
from app.ocpp.v201 import VERSION as V201
from app.ocpp.versions import parse_subprotocols

HANDLED = frozenset({"Heartbeat", "BootNotification"})


def session(version) -> OcppSession:
    return OcppSession(version, handled_actions=HANDLED)


def reply_of(event) -> list:
    assert isinstance(event, Rejected), event
    return json.loads(event.reply)


@pytest.mark.parametrize("version", [V201, V21], ids=["2.0.1", "2.1"])
def test_a_valid_2x_call_is_received(version):
    event = session(version).receive(
        '[2,"1","BootNotification",{"reason":"PowerUp",'
        '"chargingStation":{"vendorName":"Acme","model":"Volt-2"}}]')
    assert isinstance(event, CallReceived) and event.call.action == "BootNotification"


@pytest.mark.parametrize("version", [V201, V21], ids=["2.0.1", "2.1"])
@pytest.mark.parametrize("frame, code", [
    # Spelt with two r's in 2.x (1.6: Occurence).
    ('[2,"9","BootNotification",{"reason":"PowerUp"}]', "OccurrenceConstraintViolation"),
    # A 1.6 payload on a 2.x connection: its fields are unknown ones there.
    ('[2,"9","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
     "FormatViolation"),
    ('[2,"9","Heartbeat",{"extra":1}]', "FormatViolation"),
    ('[2,"9","Heartbeat",[]]', "FormatViolation"),
    ('[2,"9","Teleport",{}]', "NotImplemented"),
    # Known to 2.x, no handler here: NotSupported (the ocpp package swaps these two).
    ('[2,"9","SignCertificate",{"csr":"x"}]', "NotSupported"),
    ('[2, 17, "Heartbeat", {}]', "RpcFrameworkError"),
])
def test_bad_2x_frames_get_the_2x_callerror(version, frame, code):
    message_type, _, reply_code, description, details = reply_of(session(version).receive(frame))
    assert (message_type, reply_code) == (4, code)
    assert description and isinstance(details, dict)


def test_an_unreadable_frame_is_answered_with_id_minus_one():
    message_type, unique_id, code, _, _ = reply_of(session(V201).receive("not json"))
    assert (message_type, unique_id, code) == (4, "-1", "FormatViolation")


def test_201_refuses_an_unknown_message_type_and_21_ignores_it():
    assert reply_of(session(V201).receive('[7,"1","x"]'))[2] == "MessageTypeNotSupported"
    assert isinstance(session(V21).receive('[7,"1","x"]'), Ignored)


def test_201_knows_no_send():
    # SEND (6) is a 2.1 message type: for 2.0.1 it is unknown.
    frame = '[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,"basetime":' \
            '"2026-12-03T10:00:00Z","data":[]}]'
    assert reply_of(session(V201).receive(frame))[2] == "MessageTypeNotSupported"


def test_21_send_is_received_and_never_answered():
    event = session(V21).receive(
        '[6,"s1","NotifyPeriodicEventStream",{"id":1,"pending":0,'
        '"basetime":"2026-12-03T10:00:00Z","data":[{"t":0,"v":"230"}]}]')
    assert isinstance(event, SendReceived)
    assert event.violation is None and event.send.action == "NotifyPeriodicEventStream"


@pytest.mark.parametrize("frame, code", [
    ('[6,"s2","NotifyPeriodicEventStream",{"id":1}]', "OccurrenceConstraintViolation"),
    ('[6,"s3","Teleport",{}]', "NotImplemented"),
    ('[6,"s4","NotifyPeriodicEventStream",[]]', "FormatViolation"),
])
def test_a_bad_21_send_is_recorded_with_its_fault_and_still_not_answered(frame, code):
    event = session(V21).receive(frame)
    assert isinstance(event, SendReceived)
    assert event.violation is not None and event.violation.code == code


def test_21_callresulterror_answers_our_call():
    s = session(V21)
    pending, _ = s.start_call("Reset", {"type": "Immediate"})
    event = s.receive(json.dumps([5, pending.unique_id, "InternalError", "could not build", {}]))
    assert isinstance(event, ReplyReceived)
    assert isinstance(event.message, frames.CallResultError)
    assert event.message.code == "InternalError"
    assert s.pending is None


def test_201_treats_callresulterror_as_an_unknown_message_type():
    s = session(V201)
    s.start_call("Reset", {"type": "Immediate"})
    assert reply_of(s.receive('[5,"x","InternalError","",{}]'))[2] == "MessageTypeNotSupported"


def test_2x_commands_are_checked_against_the_2x_schemas():
    s = session(V201)
    pending, text = s.start_call("Reset", {"type": "OnIdle"})
    assert json.loads(text)[2:] == ["Reset", {"type": "OnIdle"}]
    s.expire(pending.unique_id)
    with pytest.raises(Exception) as info:
        s.start_call("Reset", {"type": "Soft"})  # a 1.6 value
    assert "Soft" in str(info.value) or "type" in str(info.value)


@pytest.mark.parametrize("header, expected", [
    (None, []),
    ("", []),
    ("ocpp1.6", ["ocpp1.6"]),
    (",ocpp2.0.1", ["ocpp2.0.1"]),
    (" ocpp1.6 , ,OCPP2.1", ["ocpp1.6", "OCPP2.1"]),
])
def test_offered_subprotocols_are_read_leniently(header, expected):
    assert parse_subprotocols(header) == expected


@pytest.mark.parametrize("offered, pin, version, echoed", [
    (["ocpp1.6", "ocpp2.0.1"], None, "2.0.1", "ocpp2.0.1"),
    (["ocpp1.6", "ocpp2.0.1", "ocpp2.1"], None, "2.1", "ocpp2.1"),
    (["ocpp2.0.1", "ocpp2.1"], "2.0.1", "2.0.1", "ocpp2.0.1"),
    (["ocpp2.1", "ocpp1.6"], "1.6", "1.6", "ocpp1.6"),
    # Compared without case; answered exactly as the charger spelt it.
    (["OCPP2.0.1"], None, "2.0.1", "OCPP2.0.1"),
    # ocpp2.0 (the old draft) is not spoken.
    (["ocpp2.0"], None, None, None),
    (["ocpp1.6"], "2.1", None, None),
])
def test_the_server_preference_and_the_pin_decide(offered, pin, version, echoed):
    negotiated = build_registry().negotiate(offered, pin)
    if version is None:
        assert negotiated is None
    else:
        assert (negotiated.version.name, negotiated.subprotocol) == (version, echoed)
