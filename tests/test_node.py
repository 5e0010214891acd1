"""The node knows its role and features: defaults from the role (the same as the Ansible
inventory's), CONSTELLATION_FEATURES replacing them, an admin's switch winning over both, each
feature with its health; ``GET /api/v1/node`` and the console's node page show the same."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import yaml
from jsonschema import Draft202012Validator

from app.services.node_features import FEATURES, ROLE_DEFAULTS
from tests.conftest import Api
from tests.support.server import ROOT, LiveServer

PASSWORD = "correct-horse-9"
# Inventory features that are the app's own concern (redis and postgresql are services the
# app uses, not features it switches); the access point is one feature per mode.
APP_FEATURES = {"rfid", "lcd", "desktop_notifications", "workers", "nginx"}


def _strict_errors(server_url: str, name: str, instance) -> list[str]:
    document = requests.get(server_url + "/api/v1/openapi.json", timeout=10).json()
    root = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    return [e.message for e in Draft202012Validator(root).iter_errors(instance)]


def _login(base: str, name: str) -> requests.Session:
    session = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      session.get(base + "/console/login", timeout=30).text).group(1)
    reply = session.post(base + "/console/login", data={"csrf_token": token, "name": name,
                                                        "password": PASSWORD, "next": ""},
                         allow_redirects=False, timeout=60)
    assert reply.status_code == 302
    return session


def test_role_defaults_are_the_inventorys_feature_lists():
    for path in (ROOT / "inventory" / "group_vars").glob("*.yml"):
        data = yaml.safe_load(path.read_text())
        features = set(data["node_features"])
        expected = features & APP_FEATURES
        if "access_point" in features:
            expected.add("public_wifi" if data["access_point_mode"] == "public"
                         else "ap_router")
        assert set(ROLE_DEFAULTS[data["node_role"]]) == expected, path.name
    assert {f for names in ROLE_DEFAULTS.values() for f in names} <= set(FEATURES)


def test_the_environment_file_names_the_role_and_the_apps_features():
    template = (ROOT / "roles/constellation/templates/constellation.env.j2").read_text()
    assert "NODE_ROLE='{{ constellation_node_role }}'" in template
    glue = (ROOT / "inventory/group_vars/all/main.yml").read_text()
    assert "constellation_node_role: \"{{ node_role" in glue


def test_an_unknown_feature_or_role_stops_start_up(tmp_path):
    srv = LiveServer(env={"CONSTELLATION_FEATURES": "rfid,teleport"}, instance_dir=str(tmp_path))
    result = srv.flask("db", "upgrade", check=False)
    assert result.returncode != 0 and "unknown features teleport" in result.stderr
    srv = LiveServer(env={"NODE_ROLE": "mothership"}, instance_dir=str(tmp_path))
    result = srv.flask("db", "upgrade", check=False)
    assert result.returncode != 0 and "NODE_ROLE must be one of" in result.stderr


@pytest.fixture
def control(live_server_factory, tmp_path) -> LiveServer:
    return live_server_factory(instance_dir=str(tmp_path), NODE_ROLE="control",
                               UPGRADE_CHANNEL="stable",
                               UPGRADE_STATE_FILE=str(tmp_path / "upgrade-state.json"))


def test_node_answers_role_features_health_and_interfaces(control, tmp_path):
    (tmp_path / "upgrade-state.json").write_text(
        '{"current": {"version": "v1.2.0", "since": "2030-01-01T00:00:00+0000"}, '
        '"failed": {"abc": "v1.3.0: not healthy"}}')
    admin = Api(control.url, control.create_user("node-admin", role="admin"))
    viewer = Api(control.url, control.create_user("node-viewer", role="viewer"))
    node = viewer.get("/node").json()
    assert _strict_errors(control.url, "Node", node) == []
    assert node["role"] == "control" and node["channel"] == "stable"
    assert node["last_upgrade"] == {"version": "v1.2.0", "since": "2030-01-01T00:00:00+0000",
                                    "failed": ["v1.3.0: not healthy"]}
    features = {f["name"]: f for f in node["features"]}
    assert set(features) == set(FEATURES)
    assert {n for n, f in features.items() if f["enabled"]} == set(ROLE_DEFAULTS["control"])
    # No reader service runs and no charger is configured: the check says both.
    rfid = features["rfid"]
    assert not rfid["healthy"] and not rfid["working"] and not rfid["configured"]
    assert "no RFID reader service answers" in rfid["detail"]
    assert "RFID_CHARGER is not set" in rfid["detail"]
    # Without Redis the workers feature says why it cannot work.
    assert "REDIS_URL is not set" in features["workers"]["detail"]
    assert node["redis"] == {"configured": False, "ok": False, "detail": "REDIS_URL is not set"}
    loopback = {i["name"]: i for i in node["interfaces"]}["lo"]
    assert loopback["up"] and "127.0.0.1" in loopback["addresses"]
    assert node["uptime_seconds"] > 0 and node["disk"]["total_bytes"] > 0

    # Switching is for admins; the switch wins over the role's default, and can be undone.
    assert viewer.put("/node/features/lcd", json={"enabled": False}).status_code == 403
    assert admin.put("/node/features/teleport", json={"enabled": True}).status_code == 404
    bad = admin.put("/node/features/lcd", json={"enabled": "no"})
    assert bad.status_code == 400 and "enabled" in bad.json()["message"]
    switched = admin.put("/node/features/lcd", json={"enabled": False}).json()
    lcd = {f["name"]: f for f in switched["features"]}["lcd"]
    assert lcd["enabled"] is False and lcd["default"] is True
    assert lcd["switched_by"] == "node-admin"
    back = admin.put("/node/features/lcd", json={"enabled": None}).json()
    assert {f["name"]: f for f in back["features"]}["lcd"]["enabled"] is True


def test_constellation_features_replace_the_roles_list(live_server_factory, tmp_path):
    srv = live_server_factory(instance_dir=str(tmp_path), NODE_ROLE="satellite",
                              CONSTELLATION_FEATURES="rfid,nginx")
    node = Api(srv.url, srv.create_user("sat", role="viewer")).get("/node").json()
    assert node["role"] == "satellite"
    assert {f["name"] for f in node["features"] if f["enabled"]} == {"rfid", "nginx"}


def test_console_node_page_shows_features_and_admins_switch_them(control):
    control.create_user("page-admin", role="admin")
    control.create_user("page-viewer", role="viewer")
    admin = _login(control.url, "page-admin")
    page = admin.get(control.url + "/console/node", timeout=30)
    assert page.status_code == 200
    assert 'href="/console/node"' in page.text  # linked from the nav
    assert '<dd id="node-role">control</dd>' in page.text
    row = re.search(r'<tr data-feature="nginx">.*?</tr>', page.text, re.S).group(0)
    assert "on" in row and "Switch off" in row and "present" in row
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    reply = admin.post(control.url + "/console/node/features/nginx",
                       data={"csrf_token": token, "state": "off"}, timeout=30)
    assert reply.status_code == 200 and "Feature nginx: off." in reply.text
    row = re.search(r'<tr data-feature="nginx">.*?</tr>', reply.text, re.S).group(0)
    assert "switched by page-admin" in row and "Switch on" in row
    viewer = _login(control.url, "page-viewer")
    page = viewer.get(control.url + "/console/node", timeout=30).text
    assert "Switch on" not in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    refused = viewer.post(control.url + "/console/node/features/nginx",
                          data={"csrf_token": token, "state": "on"}, timeout=30,
                          allow_redirects=False)
    assert refused.status_code == 403


def test_the_docs_say_why_psutil():
    hardware = (Path(ROOT) / "docs" / "hardware.md").read_text()
    assert "netifaces" in hardware and "psutil" in hardware
