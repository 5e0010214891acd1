"""Chargers: listing, detail after boot and status, registration and settings, auth."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from ocpp.v16 import call

from tests.api.helpers import poll
from tests.conftest import Api


def test_requires_a_valid_token(server):
    anonymous = Api(server.url, None)
    response = anonymous.get("/chargers")
    assert response.status_code == 401
    assert response.json()["message"]
    assert Api(server.url, "cst_not-a-token").get("/chargers").status_code == 401


def test_detail_after_boot_and_status(api, charger, identity):
    charger.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                         status="Available"))
    charger.call(call.StatusNotification(connector_id=0, error_code="NoError",
                                         status="Available"))
    body = poll(lambda: api.get(f"/chargers/{quote(identity, safe='')}").json(),
                lambda b: len(b.get("connectors", [])) == 2)
    assert body["id"] == identity
    assert body["connected"] is True
    assert body["ocpp_version"] == "1.6"
    assert (body["vendor"], body["model"]) == ("Acme", "Volt-1")
    assert body["last_heartbeat"].endswith("Z")
    assert [c["connector_id"] for c in body["connectors"]] == [0, 1]
    connector = body["connectors"][1]
    assert connector["status"] == "Available"
    assert connector["error_code"] == "NoError"
    assert connector["status_timestamp"].endswith("Z")

    listed = api.get("/chargers", params={"q": identity, "connected": "true"}).json()
    assert [c["id"] for c in listed["items"]] == [identity]
    assert api.get("/chargers", params={"q": identity, "connected": "false"}).json()["total"] == 0

    charger.close()
    body = poll(lambda: api.get(f"/chargers/{quote(identity, safe='')}").json(),
                lambda b: b["connected"] is False)
    assert body["connected"] is False
    assert body["disconnected_at"].endswith("Z")
    listed = api.get("/chargers", params={"q": identity, "connected": "false"}).json()
    assert [c["id"] for c in listed["items"]] == [identity]


def test_register_and_update(api, identity):
    created = api.post("/chargers", json={"identity": identity, "description": "Bay 3",
                                          "registration_status": "pending"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == identity
    assert created.json()["registration_status"] == "pending"
    assert created.json()["connected"] is False
    assert created.json()["connectors"] == []

    duplicate = api.post("/chargers", json={"identity": identity})
    assert duplicate.status_code == 409
    assert identity in duplicate.json()["message"]

    changed = api.patch(f"/chargers/{identity}", json={"enabled": False, "lenient": True,
                                                       "description": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["lenient"]) == (False, True)
    assert changed.json()["description"] is None
    assert api.get(f"/chargers/{identity}").json()["enabled"] is False


def test_identities_with_special_characters(api, identity):
    special = f"{identity}.a|b:c%d"
    assert api.post("/chargers", json={"identity": special}).status_code == 201
    response = api.get(f"/chargers/{quote(special, safe='')}")
    assert response.status_code == 200
    assert response.json()["id"] == special
    # '%' and '_' in q are literal, not LIKE wildcards.
    assert api.get("/chargers", params={"q": "|b:c%d"}).json()["total"] >= 1
    assert api.get("/chargers", params={"q": f"{identity}%z"}).json()["total"] == 0


@pytest.mark.parametrize("body, fragment", [
    ({}, "identity"),
    ({"identity": ""}, "identity"),
    ({"identity": "x" * 65}, "identity"),
    ({"identity": "a/b"}, "'/'"),
    ({"identity": 12}, "identity"),
    ({"identity": "ok-{n}", "enabled": "yes"}, "enabled"),
    ({"identity": "ok-{n}", "registration_status": "Accepted"}, "registration_status"),
    ({"identity": "ok-{n}", "vendor": "Acme"}, "vendor"),
])
def test_register_rejects_bad_input(api, identity, body, fragment):
    body = {k: (v.format(n=identity) if isinstance(v, str) else v) for k, v in body.items()}
    response = api.post("/chargers", json=body)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["message"]


def test_bad_requests_are_not_500(api, identity):
    assert api.post("/chargers", data="not json",
                    headers={"Content-Type": "application/json"}).status_code == 400
    assert api.patch("/chargers/nope-" + identity, json={"enabled": True}).status_code == 404
    assert api.get("/chargers/nope-" + identity).status_code == 404
    assert api.get("/chargers", params={"connected": "maybe"}).status_code == 400
    assert api.get("/chargers", params={"per_page": "x"}).status_code == 400


def test_pagination(api, identity):
    for n in range(3):
        assert api.post("/chargers", json={"identity": f"{identity}-{n}"}).status_code == 201
    page = api.get("/chargers", params={"q": identity, "per_page": 1, "page": 2}).json()
    assert page["total"] == 3
    assert page["per_page"] == 1 and page["page"] == 2
    assert [c["id"] for c in page["items"]] == [f"{identity}-1"]


def test_viewer_can_read_but_not_write(viewer, api, identity):
    assert viewer.get("/chargers").status_code == 200
    response = viewer.post("/chargers", json={"identity": identity})
    assert response.status_code == 403
    assert response.json()["message"]
    assert api.post("/chargers", json={"identity": identity}).status_code == 201
    assert viewer.patch(f"/chargers/{identity}", json={"enabled": False}).status_code == 403
