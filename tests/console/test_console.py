"""What an operator does in the console, in a real browser against the live server, with a
simulated OCPP charger on the other side."""
from __future__ import annotations

import csv
import re

import requests
from ocpp.v16 import call
from playwright.sync_api import expect

from tests.support.charger import SimCharger

from .conftest import PASSWORD, TIMEOUT_MS


def _meter(tx_id: int, when: str, watts: float, wh: float) -> call.MeterValues:
    return call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[{
        "timestamp": when,
        "sampledValue": [
            {"value": str(watts / 1000), "unit": "kW", "measurand": "Power.Active.Import"},
            {"value": str(wh), "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
        ],
    }])


def test_login_rejects_a_wrong_password_and_logs_out(new_page, server):
    # Its own user: logging out ends every session of the user, the saved logins' too.
    server.flask("users", "create", "logout-operator", "--password", PASSWORD,
                 "--role", "operator")
    page = new_page()
    page.goto("/console/transactions")
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    page.get_by_label("User name").fill("logout-operator")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("Wrong user name or password"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # Back where they were going.
    expect(page.get_by_role("heading", name="Transactions")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_dashboard_shows_a_charger_arrive_and_change_without_reloading(new_page, server,
                                                                       identity, screenshot):
    page = new_page("operator")
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    # Filtered to this charger: the shared server holds other tests' chargers too.
    page.goto(f"/console/?q={identity}")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=TIMEOUT_MS)
    page.evaluate("window.__notReloaded = true")
    row = page.locator(f'tr[data-charger="{identity}"]')
    expect(row).to_have_count(0)

    cp = SimCharger(server.ws_url, identity).connect()
    try:
        cp.boot()
        expect(row).to_be_visible(timeout=TIMEOUT_MS)
        expect(row.locator("td.conn")).to_contain_text("Online", timeout=TIMEOUT_MS)
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
        expect(row.locator('li[data-connector="1"]')).to_contain_text("Available",
                                                                      timeout=TIMEOUT_MS)
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                        status="Preparing"))
        tx = cp.call(call.StartTransaction(connector_id=1, id_tag="DASH-TAG", meter_start=0,
                                           timestamp="2026-11-28T10:00:00Z"))
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        cp.call(_meter(tx.transaction_id, "2026-11-28T10:01:00Z", 7400, 120))
        expect(row.locator('li[data-connector="1"]')).to_contain_text("Charging",
                                                                      timeout=TIMEOUT_MS)
        expect(row.locator("td.power")).to_have_text("7.40 kW", timeout=TIMEOUT_MS)
        expect(page.locator("#count-charging")).not_to_have_text("0", timeout=TIMEOUT_MS)
        cp.call(call.StatusNotification(connector_id=2, error_code="GroundFailure",
                                        status="Faulted"))
        expect(row.locator('li[data-connector="2"]')).to_contain_text("GroundFailure",
                                                                      timeout=TIMEOUT_MS)
        expect(page.locator("#count-faulted")).not_to_have_text("0", timeout=TIMEOUT_MS)
        screenshot(page, "dashboard")
    finally:
        cp.close()
    expect(row.locator("td.conn")).to_contain_text("Offline", timeout=TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded") is True
    # Every asset and every live request came from the app itself: no CDN.
    assert requested and all(url.startswith(server.url + "/") for url in requested), requested

    # The fault is among the status and security events.
    page.goto(f"/console/events/status?charger={identity}")
    expect(page.locator("#events-table")).to_contain_text("GroundFailure")


def test_send_a_command_and_see_its_reply_and_schema_errors(new_page, charger, screenshot):
    page = new_page("operator")
    page.goto(f"/console/chargers/{charger.identity}")
    expect(page.get_by_role("heading", name=f"Charger {charger.identity}")).to_be_visible()
    screenshot(page, "charger")
    page.locator("#cmd-Reset summary").click()
    page.locator("#cmd-Reset").get_by_label("Type").select_option("Soft")
    page.get_by_role("button", name="Send Reset").click()
    expect(page.locator("#command-status")).to_have_text("completed", timeout=TIMEOUT_MS)
    expect(page.locator("#command-response")).to_contain_text('"status": "Accepted"')
    assert ("Reset", {"type": "Soft"}) in charger.received

    # A value the schema refuses: the error is said next to the field it is about.
    page.goto(f"/console/chargers/{charger.identity}/commands/ChangeConfiguration")
    page.get_by_label("Key").fill("K" * 60)
    page.get_by_label("Value").fill("1")
    page.get_by_role("button", name="Send ChangeConfiguration").click()
    error = page.locator("#ChangeConfiguration-key-error")
    expect(error).to_contain_text("is too long", timeout=TIMEOUT_MS)
    expect(page.get_by_label("Key")).to_have_attribute("aria-invalid", "true")
    assert not any(a == "ChangeConfiguration" for a, _ in charger.received)

    # Configuration: fetch the keys from the charger, change one and apply it.
    page.goto(f"/console/chargers/{charger.identity}")
    page.get_by_role("button", name="Fetch from the charger").click()
    expect(page.get_by_text("GetConfiguration: the charger answered.")).to_be_visible()
    key_row = page.locator('#config-table tr[data-key="HeartbeatInterval"]')
    expect(key_row.get_by_label("Value of HeartbeatInterval")).to_have_value("300")
    expect(page.locator('#config-table tr[data-key="NumberOfConnectors"]')
           ).to_contain_text("read only")
    key_row.get_by_label("Value of HeartbeatInterval").fill("600")
    key_row.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("HeartbeatInterval = '600'. ChangeConfiguration: the charger "
                            "answered Accepted.")).to_be_visible()
    assert ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "600"}
            ) in charger.received

    # The command history on the charger page has it, with who sent it.
    page.goto(f"/console/chargers/{charger.identity}#command-history")
    history = page.locator("#command-table")
    expect(history).to_contain_text("Reset")
    expect(history).to_contain_text("console-operator (console)")
    # The fleet-wide audit trail, filtered by user.
    page.goto(f"/console/commands?user=console-operator&charger={charger.identity}")
    audit = page.locator("#audit-table tbody tr")
    expect(audit.filter(has_text="Reset")).to_contain_text("console-operator (console)")
    expect(audit.filter(has_text="ChangeConfiguration")).to_contain_text("completed: Accepted")


def test_stop_a_transaction_then_find_it_with_its_chart_and_export_csv(new_page, charger,
                                                                       screenshot):
    cp = charger
    cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
    tx = cp.call(call.StartTransaction(connector_id=1, id_tag="STOP-TAG", meter_start=1000,
                                       timestamp="2026-11-28T10:00:00Z"))
    tx_id = tx.transaction_id
    for minute, (watts, wh) in enumerate([(3600, 1000), (7200, 1060), (7000, 1180)]):
        cp.call(_meter(tx_id, f"2026-11-28T10:{minute:02d}:30Z", watts, wh))

    page = new_page("operator")
    page.goto(f"/console/chargers/{cp.identity}")
    connector = page.locator('#connector-table tr[data-connector="1"]')
    expect(connector.locator(".live-power")).to_have_text("7.00 kW")
    cp.call(_meter(tx_id, "2026-11-28T10:03:30Z", 11000, 1300))
    expect(connector.locator(".live-power")).to_have_text("11.00 kW", timeout=TIMEOUT_MS)

    page.get_by_role("button", name=f"Stop transaction #{tx_id}").click()
    expect(page.get_by_text("RemoteStopTransaction: the charger answered Accepted.")
           ).to_be_visible(timeout=TIMEOUT_MS)
    assert ("RemoteStopTransaction", {"transaction_id": tx_id}) in cp.received
    # The charger ends it as a real one would; the page follows without reloading.
    cp.call(call.StopTransaction(transaction_id=tx_id, meter_stop=1450,
                                 timestamp="2026-11-28T10:05:00Z", reason="Remote"))
    cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Available"))
    expect(connector.locator(".connector-status")).to_contain_text("Available",
                                                                   timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name=f"Stop transaction #{tx_id}")).to_have_count(0)

    page.goto("/console/transactions")
    page.get_by_label("Charger").fill(cp.identity)
    page.get_by_label("State").select_option("stopped")
    page.get_by_role("button", name="Filter").click()
    row = page.locator(f'tr[data-transaction="{tx_id}"]')
    expect(row.locator(".tx-state")).to_contain_text("stopped")
    expect(row).to_contain_text("450 Wh")
    screenshot(page, "transactions")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export these as CSV").click()
    rows = list(csv.DictReader(open(info.value.path(), encoding="utf-8")))
    assert [r["id"] for r in rows] == [str(tx_id)]
    assert rows[0]["charger"] == cp.identity and rows[0]["state"] == "stopped"
    assert float(rows[0]["energy_wh"]) == 450

    row.get_by_role("link", name=f"#{tx_id}").click()
    expect(page.get_by_role("heading", name=f"Transaction #{tx_id}")).to_be_visible()
    expect(page.locator("svg.chart.power polyline")).to_have_count(1)
    expect(page.locator("svg.chart.energy polyline")).to_have_count(1)
    expect(page.locator("svg.chart.power title")).to_contain_text("highest 11 kW")
    screenshot(page, "transaction-detail")


def test_message_log_tails_live(new_page, charger):
    page = new_page("viewer")
    page.goto(f"/console/chargers/{charger.identity}/messages")
    expect(page.locator("#log-tail")).to_contain_text("BootNotification")
    expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=TIMEOUT_MS)
    charger.call(call.DataTransfer(vendor_id="tail-test", data="hello"))
    expect(page.locator("#log-tail")).to_contain_text("tail-test", timeout=TIMEOUT_MS)


def test_a_viewer_cannot_send_commands(new_page, charger):
    page = new_page("viewer")
    page.goto(f"/console/chargers/{charger.identity}")
    expect(page.get_by_role("heading", name=f"Charger {charger.identity}")).to_be_visible()
    expect(page.locator("#commands")).to_have_count(0)
    expect(page.get_by_role("button", name="Fetch from the charger")).to_have_count(0)
    # Not only hidden: the server refuses the form even with a valid CSRF token.
    page.goto(f"/console/chargers/{charger.identity}/commands/Reset")
    expect(page.get_by_role("button", name="Send Reset")).to_have_count(0)
    token = page.evaluate("document.cookie")  # HttpOnly: the session cookie is not visible
    assert "session" not in token
    response = page.request.post(f"/console/chargers/{charger.identity}/commands/Reset",
                                 form={"type": "Hard"})
    assert response.status == 403
    assert "can look but not change" in response.text()
    assert not any(a == "Reset" for a, _ in charger.received)
    page.goto("/console/users")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    # Reading is fine: the API page lists the OpenAPI document's operations.
    page.goto("/console/api")
    expect(page.locator("#api-table")).to_contain_text("/chargers/{identity}/commands")


def _wait_for(predicate, timeout: float = 15.0):
    """Wait for something the browser cannot see (what the simulated charger received)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_tokens_create_block_import_with_a_report_export_and_publish(new_page, charger,
                                                                     screenshot, tmp_path):
    page = new_page("operator")
    page.goto("/console/tokens")
    page.get_by_role("textbox", name="Id tag (required)", exact=True).fill("UI-TOKEN-1")
    page.get_by_label("Note").fill("made in the browser")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Token UI-TOKEN-1 created.")).to_be_visible()
    page.get_by_role("button", name="Block UI-TOKEN-1").click()
    expect(page.locator('tr[data-token="UI-TOKEN-1"] .token-status')).to_have_text("Blocked")
    page.get_by_role("link", name="Edit UI-TOKEN-1").click()
    page.get_by_label("Parent id tag").fill("P" * 256)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#edit-parent_id_tag-error")).to_contain_text("1 to 255 characters")
    page.get_by_label("Parent id tag").fill("FLEET-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Token UI-TOKEN-1 saved.")).to_be_visible()
    expect(page.locator('tr[data-token="UI-TOKEN-1"]')).to_contain_text("FLEET-1")

    upload = tmp_path / "tokens.csv"
    upload.write_text("id_tag,status,expiry_date,note\n"
                      "IMP-GOOD-1,Accepted,,first\n"
                      f"IMP-WAY-TOO-LONG-{'X' * 240},Accepted,,too long\n"
                      "IMP-GOOD-2,,2099-01-01T00:00:00Z,second\n"
                      "IMP-BAD-STATUS,Maybe,,bad status\n", encoding="utf-8")
    page.get_by_label("CSV file to import").set_input_files(str(upload))
    page.get_by_role("button", name="Import tokens").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("2 created, 0 updated, 2 rejected.")
    rejected = page.locator("#rejected tbody tr")
    expect(rejected).to_have_count(2)
    expect(rejected.nth(0)).to_contain_text("3")
    expect(rejected.nth(0)).to_contain_text("1 to 255 characters")
    expect(rejected.nth(1)).to_contain_text("IMP-BAD-STATUS")
    expect(rejected.nth(1)).to_contain_text("The status must be one of")
    expect(page.locator('tr[data-token="IMP-GOOD-2"]')).to_contain_text("2099-01-01")
    screenshot(page, "tokens")

    with page.expect_download() as info:
        page.get_by_role("link", name="Export all tokens as CSV").click()
    exported = {r["id_tag"]: r for r in csv.DictReader(open(info.value.path(),
                                                            encoding="utf-8"))}
    assert exported["IMP-GOOD-1"]["status"] == "Accepted"
    assert exported["UI-TOKEN-1"]["status"] == "Blocked"

    page.get_by_label(charger.identity).check()
    page.get_by_role("button", name="Publish the local list").click()
    expect(page.get_by_text(re.compile(rf"SendLocalList \(\d+ accepted tokens\) sent to "
                                       rf"{re.escape(charger.identity)}"))).to_be_visible()
    sent = _wait_for(lambda: [p for a, p in charger.received if a == "SendLocalList"])
    tags = {e["id_tag"] for e in sent[0]["local_authorization_list"]}
    assert {"IMP-GOOD-1", "IMP-GOOD-2"} <= tags
    assert "UI-TOKEN-1" not in tags  # blocked: not published
    assert sent[0]["update_type"] == "Full"

    page.get_by_role("button", name="Expire IMP-GOOD-2").click()
    expect(page.locator('tr[data-token="IMP-GOOD-2"] .token-status')).to_have_text("Expired")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete IMP-GOOD-1").click()
    expect(page.get_by_text("Token IMP-GOOD-1 deleted.")).to_be_visible()
    expect(page.locator('tr[data-token="IMP-GOOD-1"]')).to_have_count(0)


def test_reservations_firmware_and_diagnostics(new_page, charger):
    page = new_page("operator")
    page.goto("/console/reservations")
    page.get_by_label("Charger (connected)").select_option(charger.identity)
    page.get_by_role("textbox", name="Connector (required)").fill("1")
    page.get_by_label("Token (id tag)").fill("RES-TAG")
    page.get_by_label("Expires at (UTC)").fill("2099-01-01T10:00")
    page.get_by_role("button", name="Reserve").click()
    expect(page.get_by_text("ReserveNow: the charger answered Accepted.")).to_be_visible()
    row = page.locator("#reservation-table tbody tr", has_text="RES-TAG")
    expect(row).to_contain_text("Accepted")
    row.get_by_role("button", name=re.compile("Cancel reservation")).click()
    expect(page.get_by_text("CancelReservation: the charger answered Accepted.")).to_be_visible()
    expect(page.locator("#reservation-table tbody tr", has_text="RES-TAG")
           ).to_contain_text("cancelled")

    page.goto("/console/firmware")
    page.get_by_label("Firmware file to upload").set_input_files({
        "name": "volt-2.0.bin", "mimeType": "application/octet-stream",
        "buffer": b"\x7fFIRMWARE" * 100})
    page.get_by_role("button", name="Upload firmware", exact=True).click()
    expect(page.get_by_text("Uploaded volt-2.0.bin (900 bytes")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-live", "on")
    page.get_by_role("combobox", name="Firmware file (required)").select_option(
        label="volt-2.0.bin")
    page.get_by_label(charger.identity).check()
    page.get_by_role("button", name="Roll out").click()
    # A rollout is a bulk operation: its page follows the progress without a reload.
    expect(page.get_by_text("Firmware rollout to 1 charger(s) started.")).to_be_visible()
    expect(page.locator("#bulk-status")).to_have_text("finished")
    expect(page.locator("#bulk-progress")).to_have_attribute("value", "1")
    expect(page.locator("#bulk-results tbody tr", has_text=charger.identity)
           ).to_contain_text("completed")
    page.goto("/console/firmware")
    deployment = page.locator("#deployments tbody tr", has_text=charger.identity).first
    expect(deployment).to_contain_text("accepted")
    sent = _wait_for(lambda: [p for a, p in charger.received if a == "UpdateFirmware"])
    assert sent[0]["location"].endswith("/volt-2.0.bin")

    page.goto("/console/diagnostics")
    page.get_by_label(charger.identity).check()
    page.get_by_role("button", name="Send GetDiagnostics").click()
    expect(page.get_by_text(f"GetDiagnostics sent to {charger.identity}")).to_be_visible()
    expect(page.locator("#diagnostics-live")).to_contain_text("diag.zip")
    # The charger uploads to the URL it was given; the file can then be downloaded here.
    asked = _wait_for(lambda: [p for a, p in charger.received if a == "GetDiagnostics"])
    upload = requests.put(asked[0]["location"] + "/diag.zip", data=b"PK diagnostics",
                          timeout=30)
    assert upload.status_code == 201
    page.reload()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download diag.zip").first.click()
    assert open(info.value.path(), "rb").read() == b"PK diagnostics"


def test_phone_width_and_keyboard(new_page, charger, screenshot):
    page = new_page("operator", width=390)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/console/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # Nothing wider than the phone's screen: no sideways scrolling of the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "dashboard-phone")
    # The first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    page.goto(f"/console/chargers/{charger.identity}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # A command by keyboard alone: open the form, choose, send.
    page.goto(f"/console/chargers/{charger.identity}/commands/TriggerMessage")
    page.get_by_label("Requested message").focus()
    page.keyboard.press("ArrowDown")  # the first message after the blank choice
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send TriggerMessage")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#command-status")).to_have_text("completed")
    # No script error and nothing the Content-Security-Policy had to block.
    assert problems == []


def test_register_a_charger_and_hold_it_pending(new_page, server, identity):
    page = new_page("operator")
    page.goto("/console/")
    page.get_by_role("textbox", name="Identity (required)").fill(identity)
    page.get_by_role("button", name="Register charger").click()
    expect(page.get_by_text(f"Charger {identity} registered")).to_be_visible()
    page.get_by_label("Registration (BootNotification answer)").select_option("pending")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text(f"Settings of {identity} saved.")).to_be_visible()
    with SimCharger(server.ws_url, identity) as cp:
        assert cp.boot().status == "Pending"


def test_admin_manages_users_and_a_disabled_user_is_logged_out(new_page, browser, server):
    page = new_page("admin")
    page.goto("/console/users")
    page.get_by_role("textbox", name="User name (required)").fill("temp-operator")
    page.get_by_label("Password").fill("short")
    page.get_by_role("combobox", name="Role (required)").select_option("operator")
    page.get_by_role("button", name="Create user").click()
    expect(page.locator("#user-password-error")).to_have_text(
        "Password must be at least 8 characters.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Created operator temp-operator.")).to_be_visible()

    other = new_page()
    other.goto("/console/login")
    other.get_by_label("User name").fill("temp-operator")
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Log in").click()
    expect(other.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_label("Role of temp-operator", exact=True).select_option("viewer")
    page.get_by_role("button", name="Change role of temp-operator").click()
    expect(page.get_by_text("temp-operator is now an active viewer.")).to_be_visible()
    page.get_by_role("button", name="Disable temp-operator").click()
    expect(page.get_by_text("temp-operator is now a disabled viewer.")).to_be_visible()
    other.goto("/console/")
    expect(other.get_by_role("heading", name="Log in")).to_be_visible()


def test_node_page_fits_a_phone_and_admins_switch_features(new_page, screenshot):
    page = new_page("admin", width=390)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/console/")
    page.get_by_role("link", name="Node").click()
    expect(page.get_by_role("heading", name="This node")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "node-phone")
    row = page.locator('tr[data-feature="nginx"]')
    before = row.locator(".enabled").inner_text()
    row.get_by_role("button", name="Switch").click()
    expect(page.get_by_text("Feature nginx:")).to_be_visible()
    assert page.locator('tr[data-feature="nginx"] .enabled').inner_text() != before
    page.locator('tr[data-feature="nginx"]').get_by_role("button", name="Back to default").click()
    expect(page.locator('tr[data-feature="nginx"] .enabled')).to_contain_text("(default)")
    assert problems == []
