"""Operations below the wire: argument checks, each version's wording, and docs/operations.md
listing exactly the operations the code has."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.ocpp.supported import build_registry
from app.services import operations
from app.services.errors import DomainError
from tests.support.database import database_url

DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "ops")})
    with app.app_context():
        db.create_all()
        yield app


def _versions():
    return {v.name: v for v in build_registry()}


def test_the_doc_table_lists_exactly_the_registered_operations():
    documented = re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(), re.MULTILINE)
    assert len(documented) == len(set(documented)), "an operation is listed twice"
    assert set(documented) == set(operations.OPERATIONS)
    for version in _versions().values():
        assert set(version.operations) == set(operations.OPERATIONS), version.name


def test_arguments_are_checked_with_defaults():
    checked = operations.check_arguments("reserve", {
        "token": "CARD", "expires_at": "2030-01-01T12:00:00+02:00"})
    assert checked["expires_at"] == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert checked["token_type"] == "Central" and checked["evse_id"] is None
    assert operations.check_arguments("reset", None) == {"hard": False}
    assert operations.check_arguments("set_configuration", {"key": "K", "value": True}
                                      )["value"] == "true"
    for name, args, word in [
        ("start", {"token": " CARD"}, "token"),
        ("start", {"token": "CARD", "evse_id": True}, "evse_id"),
        ("availability", {}, "operative"),
        ("upload_logs", {"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"},
         "since"),
        ("update_firmware", {"firmware_file_id": 1, "location": "ftp://x"}, "firmware_file_id"),
        ("reset", [], "JSON object"),
    ]:
        with pytest.raises(DomainError) as raised:
            operations.check_arguments(name, args)
        assert raised.value.status == 400 and word in raised.value.message
    with pytest.raises(DomainError) as raised:
        operations.check_arguments("brew", {})
    assert raised.value.status == 404


def _word(version: str, name: str, args: dict):
    return _versions()[version].operations[name](operations.check_arguments(name, args))


def test_each_version_words_the_same_operation():
    assert _word("1.6", "reset", {"hard": True}).payload == {"type": "Hard"}
    assert _word("2.0.1", "reset", {"hard": True}).payload == {"type": "Immediate"}
    start = _word("2.0.1", "start", {"token": "CARD", "evse_id": 2})
    assert start.action == "RequestStartTransaction"
    assert start.options == {"remote_start_id": start.payload["remoteStartId"]}
    assert start.payload["evseId"] == 2
    assert _word("1.6", "start", {"token": "CARD", "evse_id": 2}).payload == {
        "idTag": "CARD", "connectorId": 2}
    key = _word("2.0.1", "get_configuration", {"keys": ["EVSE.1/AvailabilityState"]})
    assert key.payload == {"getVariableData": [{
        "component": {"name": "EVSE", "instance": "1"},
        "variable": {"name": "AvailabilityState"}}]}
    firmware = _word("2.0.1", "update_firmware", {"firmware_file_id": 3})
    assert (firmware.payload, firmware.options) == ({"firmware": {}}, {"firmware_file_id": 3})


def test_token_rules_per_version():
    with pytest.raises(DomainError):
        _word("1.6", "start", {"token": "x" * 21})
    with pytest.raises(DomainError):
        _word("2.0.1", "start", {"token": "x" * 37})
    with pytest.raises(DomainError):
        _word("2.0.1", "start", {"token": "x", "token_type": "Card"})
    assert _word("2.1", "start", {"token": "x" * 200, "token_type": "Card"}
                 ).payload["idToken"] == {"idToken": "x" * 200, "type": "Card"}


def test_a_2x_stop_needs_the_chargers_transaction_id(app):
    from app.extensions import db
    from app.models import Charger, Transaction

    charger = Charger(identity="OPS-TX", ocpp_version="2.0.1")
    db.session.add(charger)
    db.session.flush()
    tx = Transaction(charger_id=charger.id, connector_id=1, started_at=datetime.now(UTC))
    db.session.add(tx)
    db.session.commit()
    if hasattr(tx, "charger_transaction_id"):
        tx.charger_transaction_id = "st-42"
        db.session.commit()
        assert _word("2.0.1", "stop", {"transaction_id": tx.id}).payload == {
            "transactionId": "st-42"}
    else:
        with pytest.raises(DomainError) as raised:
            _word("2.0.1", "stop", {"transaction_id": tx.id})
        assert raised.value.status == 422
        assert "has not reported its transaction id" in raised.value.message
    assert _word("1.6", "stop", {"transaction_id": tx.id}).payload == {"transactionId": tx.id}


def test_local_list_from_stored_tokens(app):
    from app.services import tokens

    tokens.create("CARD-A", {"status": "Accepted", "parent_id_tag": "FLEET"})
    tokens.create("CARD-B", {"status": "Blocked",
                             "expiry_date": "2030-01-01T00:00:00Z"})
    v16 = _word("1.6", "publish_local_list", {}).payload
    assert v16 == {"updateType": "Full", "localAuthorizationList": [
        {"idTag": "CARD-A", "idTagInfo": {"status": "Accepted", "parentIdTag": "FLEET"}},
        {"idTag": "CARD-B", "idTagInfo": {"status": "Blocked",
                                          "expiryDate": "2030-01-01T00:00:00.000Z"}}]}
    v2 = _word("2.0.1", "publish_local_list", {"full": False}).payload
    assert v2 == {"updateType": "Differential", "localAuthorizationList": [
        {"idToken": {"idToken": "CARD-A", "type": "ISO14443"},
         "idTokenInfo": {"status": "Accepted",
                         "groupIdToken": {"idToken": "FLEET", "type": "Central"}}},
        {"idToken": {"idToken": "CARD-B", "type": "ISO14443"},
         "idTokenInfo": {"status": "Blocked",
                         "cacheExpiryDateTime": "2030-01-01T00:00:00.000Z"}}]}


def test_a_job_runs_an_operation_and_is_refused_like_the_api(app):
    from app import jobs
    from app.extensions import db
    from app.models import Charger

    db.session.add(Charger(identity="OPS-JOB", ocpp_version="2.0.1"))
    db.session.commit()
    for identity, name, args, status in [
        ("OPS-NONE", "reset", {}, 404),
        ("OPS-JOB", "reset", {"hard": "now"}, 400),
        ("OPS-JOB", "reset", {}, 409),  # not connected
    ]:
        with pytest.raises(DomainError) as raised:
            jobs.run_operation(identity, name, args)
        assert raised.value.status == status, raised.value.message
