"""Services raise one kind of error, below the wire: a ``DomainError`` with a message and the
kind of refusal (its HTTP status), which the API turns into a 4xx in one handler."""
from __future__ import annotations

import pytest

from app.services.errors import DomainError
from tests.support.database import database_url


@pytest.fixture
def app(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url(tmp_path, "services")})
    with app.app_context():
        db.create_all()
        yield app


def refusal(fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    return info.value


def test_services_refuse_with_the_kind_of_refusal(app):
    from app.services import chargers, commands, operator_actions, tokens, transactions_query

    assert refusal(chargers.get, "nobody").status == 404
    assert refusal(chargers.register, "a/b").status == 400
    chargers.register("CP-1")
    assert refusal(chargers.register, "CP-1").status == 409
    assert refusal(chargers.update, "CP-1", {"colour": "red"}).status == 400
    assert refusal(tokens.get, "NO-SUCH-TAG").status == 404
    assert refusal(commands.submit, "nobody", "Reset", {"type": "Soft"}).status == 404
    # Known charger, not connected: a conflict with its state, not bad input.
    assert refusal(commands.submit, "CP-1", "Reset", {"type": "Soft"}).status == 409
    assert refusal(commands.submit, "CP-1", "Fly", {}).status == 400
    assert refusal(operator_actions.close_transaction, 12345, meter_stop=None, reason=None,
                   actor="t", source="test").status == 404
    assert refusal(transactions_query.query, state="sideways").status == 400


def test_the_api_answers_every_refusal_with_its_status_and_message(app):
    client = app.test_client()
    from app.services import users

    token = users.issue_token(users.create_user("ops", "a-long-secret", "admin"))
    headers = {"Authorization": f"Bearer {token}"}
    response = client.get("/api/v1/commands", query_string={"charger": "nobody"}, headers=headers)
    assert response.status_code == 404
    assert response.json["message"] and response.json["error"] == "Not Found"
    response = client.post("/api/v1/chargers/nobody/commands", headers=headers,
                           json={"action": "Reset", "payload": {"type": "Soft"}})
    assert (response.status_code, response.json["error"]) == (404, "Not Found")
