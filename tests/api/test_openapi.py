"""The OpenAPI document: covers every route, is consistent, matches real responses; the HTML
docs page renders it."""
from __future__ import annotations

import re

import pytest
import requests
from jsonschema import Draft202012Validator

from tests.conftest import Api

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def document(server) -> dict:
    response = requests.get(server.url + "/api/v1/openapi.json", timeout=10)  # no token
    assert response.status_code == 200
    return response.json()


def _flask_rules(tmp_path, monkeypatch) -> set[tuple[str, str]]:
    monkeypatch.setenv("CONSTELLATION_INSTANCE_DIR", str(tmp_path))
    from app import create_app

    app = create_app()
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") and rule.rule != "/api/v1":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        found |= {(path, method.lower()) for method in rule.methods & METHODS}
    return found


def test_every_route_is_documented(document, tmp_path, monkeypatch):
    routes = _flask_rules(tmp_path, monkeypatch)
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item if method.upper() in METHODS}
    assert routes, "no /api/v1 routes found"
    assert routes - documented == set(), "routes missing from openapi.json"
    assert documented - routes == set(), "openapi.json documents routes that do not exist"


def test_document_is_consistent(document):
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"#/components/schemas/([^"]+)"', str(document).replace("'", '"'))
    assert set(refs) - set(schemas) == set(), "dangling $ref"
    for name in schemas:  # each schema is valid JSON Schema 2020-12
        Draft202012Validator.check_schema(schemas[name])
    for path, item in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method, op in item.items():
            declared = {p["name"] for p in op.get("parameters", ()) if p["in"] == "path"}
            assert declared == names, f"{method} {path}: path parameters"
            assert op["summary"] and op["responses"]
            if op.get("security") != []:
                assert "401" in op["responses"], f"{method} {path}: 401"
            if method in ("post", "patch", "delete") and path != "/openapi.json":
                assert "403" in op["responses"], f"{method} {path}: 403"


def _validate(document: dict, schema_name: str, instance) -> None:
    root = {"$ref": f"#/components/schemas/{schema_name}",
            "components": document["components"]}
    errors = [e.message for e in Draft202012Validator(root).iter_errors(instance)]
    assert errors == [], f"{schema_name}: {errors}"


def test_responses_match_the_schemas(document, api, charger, identity):
    from ocpp.v16 import call

    charger.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                         status="Available"))
    _validate(document, "ChargerPage", api.get("/chargers", params={"q": identity}).json())
    _validate(document, "Charger", api.get(f"/chargers/{identity}").json())
    _validate(document, "MessagePage", api.get(f"/chargers/{identity}/messages").json())
    _validate(document, "StatusNotificationPage",
              api.get(f"/chargers/{identity}/status-history").json())
    command = api.post(f"/chargers/{identity}/commands", json={"action": "GetConfiguration"})
    _validate(document, "Command", command.json())
    _validate(document, "ConfigurationKeyPage",
              api.get(f"/chargers/{identity}/configuration").json())
    started = charger.call(call.StartTransaction(connector_id=1, id_tag="OA-1", meter_start=0,
                                                 timestamp="2030-01-01T00:00:00Z"))
    _validate(document, "TransactionDetail",
              api.get(f"/transactions/{started.transaction_id}").json())
    _validate(document, "TransactionPage", api.get("/transactions").json())
    _validate(document, "Transaction",
              api.post(f"/transactions/{started.transaction_id}/close").json())
    _validate(document, "AuditEventPage", api.get("/audit").json())
    _validate(document, "Charger", api.delete(f"/chargers/{identity}").json())
    _validate(document, "Token", api.post("/tokens", json={"id_tag": f"OA-{identity[:10]}",
                                                           "note": "x"}).json())
    _validate(document, "Error", api.get("/tokens/none-such").json())
    for path, name in (("/reservations", "Reservation"), ("/firmware", "FirmwareFile"),
                       ("/firmware-deployments", "FirmwareDeployment"),
                       ("/diagnostics", "DiagnosticsRequest"), ("/data-transfers", "DataTransfer"),
                       ("/commands", "Command"), ("/tokens", "Token")):
        _validate(document, f"{name}Page", api.get(path).json())


def test_docs_page(server, document):
    response = Api(server.url, None).get("/docs")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    html = response.text
    for path in document["paths"]:
        assert path in html
    assert "<script" not in html and "https://" not in html  # works offline
    assert 'id="schema-Charger"' in html
    # Markdown code spans are code, and what is inside them is escaped, not markup.
    assert "<code>Authorization: Bearer &lt;token&gt;</code>" in html
    assert "`" not in html
