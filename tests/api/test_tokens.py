"""Tokens: CRUD, validation, and that the stored status is what chargers are told."""
from __future__ import annotations

import pytest
from ocpp.v16 import call

from tests.conftest import Api


def _tag(identity: str, suffix: str) -> str:
    # id tags are at most 20 characters: keep the unique start of the test identity.
    return (identity.split("-")[1] + "-" + suffix)[:20]


def test_crud(api, identity):
    tag = _tag(identity, "crud")
    created = api.post("/tokens", json={"id_tag": tag, "expiry_date": "2031-05-01T12:00:00+02:00",
                                        "parent_id_tag": "FLEET", "note": "van 7"})
    assert created.status_code == 201, created.text
    assert created.json() | {"created_at": None, "updated_at": None} == {
        "id_tag": tag, "type": None, "status": "Accepted", "expiry_date": "2031-05-01T10:00:00Z",
        "parent_id_tag": "FLEET", "note": "van 7", "auto_created": False,
        "created_at": None, "updated_at": None,
    }
    assert api.post("/tokens", json={"id_tag": tag}).status_code == 409
    assert api.get(f"/tokens/{tag}").json()["note"] == "van 7"

    changed = api.patch(f"/tokens/{tag}", json={"status": "Blocked", "expiry_date": None})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["expiry_date"]) == ("Blocked", None)
    assert tag in [t["id_tag"] for t in api.get("/tokens", params={"q": tag}).json()["items"]]

    assert api.delete(f"/tokens/{tag}").status_code == 204
    assert api.get(f"/tokens/{tag}").status_code == 404
    assert api.delete(f"/tokens/{tag}").status_code == 404
    assert api.patch(f"/tokens/{tag}", json={"status": "Accepted"}).status_code == 404


@pytest.mark.parametrize("body, fragment", [
    ({}, "id_tag"),
    ({"id_tag": ""}, "id_tag"),
    ({"id_tag": "X" * 256}, "id_tag"),
    ({"id_tag": "OK", "type": "Magic"}, "type"),
    ({"id_tag": 123}, "id_tag"),
    ({"id_tag": "OK", "status": "accepted"}, "status"),
    ({"id_tag": "OK", "expiry_date": "next week"}, "expiry_date"),
    ({"id_tag": "OK", "expiry_date": 5}, "expiry_date"),
    ({"id_tag": "OK", "expiry_date": "0001-01-01T00:00:00+05:00"}, "expiry_date"),
    ({"id_tag": "OK", "parent_id_tag": "P" * 256}, "parent_id_tag"),
    ({"id_tag": "OK", "colour": "red"}, "colour"),
])
def test_create_rejects_bad_input(api, body, fragment):
    response = api.post("/tokens", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Bad Request"
    assert fragment in response.json()["message"]


def test_patch_rejects_bad_input_and_keeps_the_token(api, identity):
    tag = _tag(identity, "patch")
    assert api.post("/tokens", json={"id_tag": tag}).status_code == 201
    response = api.patch(f"/tokens/{tag}", json={"note": "fine", "status": "Stolen"})
    assert response.status_code == 400
    assert "status" in response.json()["message"]
    assert api.get(f"/tokens/{tag}").json()["note"] is None  # all or nothing
    assert api.patch(f"/tokens/{tag}", data="[]",
                     headers={"Content-Type": "application/json"}).status_code == 400


def test_status_decides_authorize(api, charger, identity):
    good, bad = _tag(identity, "ok"), _tag(identity, "blk")
    assert api.post("/tokens", json={"id_tag": good}).status_code == 201
    assert api.post("/tokens", json={"id_tag": bad, "status": "Blocked"}).status_code == 201
    assert charger.call(call.Authorize(id_tag=good)).id_tag_info["status"] == "Accepted"
    assert charger.call(call.Authorize(id_tag=bad)).id_tag_info["status"] == "Blocked"
    api.patch(f"/tokens/{good}", json={"status": "Blocked"})
    assert charger.call(call.Authorize(id_tag=good)).id_tag_info["status"] == "Blocked"


def test_id_tags_ignore_case_as_ocpp_says(api, charger, identity):
    # A reader that reports a card's UID in lower case must match the card registered in upper.
    tag = _tag(identity, "CARD").upper()
    assert api.post("/tokens", json={"id_tag": tag, "parent_id_tag": "FLEET"}).status_code == 201
    info = charger.call(call.Authorize(id_tag=tag.lower())).id_tag_info
    assert info["status"] == "Accepted" and info["parent_id_tag"] == "FLEET"
    duplicate = api.post("/tokens", json={"id_tag": tag.lower()})
    assert duplicate.status_code == 409 and tag in duplicate.json()["message"]
    assert api.get(f"/tokens/{tag.lower()}").json()["id_tag"] == tag  # stored as entered
    api.patch(f"/tokens/{tag.lower()}", json={"status": "Blocked"})
    assert charger.call(call.Authorize(id_tag=tag)).id_tag_info["status"] == "Blocked"


def test_pagination(api, identity):
    prefix = _tag(identity, "pg")[:16]
    for n in range(3):
        assert api.post("/tokens", json={"id_tag": f"{prefix}{n}"}).status_code == 201
    page = api.get("/tokens", params={"q": prefix, "per_page": 1}).json()
    assert (page["total"], len(page["items"]), page["items"][0]["id_tag"]) == (3, 1, f"{prefix}0")


def test_viewer_cannot_write(api, viewer, identity):
    tag = _tag(identity, "view")
    assert viewer.post("/tokens", json={"id_tag": tag}).status_code == 403
    assert api.post("/tokens", json={"id_tag": tag}).status_code == 201
    assert viewer.get(f"/tokens/{tag}").status_code == 200
    assert viewer.patch(f"/tokens/{tag}", json={"status": "Blocked"}).status_code == 403
    assert viewer.delete(f"/tokens/{tag}").status_code == 403
    assert Api(api.base[:-len("/api/v1")], None).get("/tokens").status_code == 401


def test_non_ascii_capitals_are_one_tag(api, charger, identity):
    """SQLite's lower() folds ASCII only: 'ÖL-CARD' was unreachable and had a twin."""
    n = identity.split("-")[1]
    tag = f"ÖL-{n}-STRAẞE"[:20]
    created = api.post("/tokens", json={"id_tag": tag})
    assert created.status_code == 201, created.text
    folded = f"öl-{n}-strasse"  # Unicode case folding: ẞ -> ss
    for other in (tag.lower(), folded):
        assert api.get(f"/tokens/{other}").json()["id_tag"] == tag
        twin = api.post("/tokens", json={"id_tag": other})
        assert twin.status_code == 409, twin.text
        assert charger.call(call.Authorize(id_tag=other)).id_tag_info["status"] == "Accepted"
    found = api.get("/tokens", params={"q": f"Öl-{n}"}).json()["items"]
    assert [t["id_tag"] for t in found] == [tag]
    tx = charger.call(call.StartTransaction(connector_id=1, id_tag=tag, meter_start=0,
                                            timestamp="2026-05-01T12:00:00Z")).transaction_id
    listed = api.get("/transactions", params={"id_tag": tag.lower()}).json()["items"]
    assert [t["id"] for t in listed] == [tx]
