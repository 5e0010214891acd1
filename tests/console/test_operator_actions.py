"""The console over plain HTTP: energy so far of running transactions, no live power for
offline chargers, decommissioning (admin only) and closing a transaction by hand, both in the
audit page."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from tests.api.helpers import poll
from tests.support.charger import SimCharger

from .test_access import _csrf, _login


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _row(html: str, identity: str) -> str:
    found = re.search(rf'<tr data-charger="{re.escape(identity)}".*?</tr>', html, re.S)
    return found.group(0) if found else ""


def test_running_energy_on_the_transaction_pages_and_no_power_offline(server, console_users,
                                                                       identity):
    s, _ = _login(server.url, console_users["viewer"])
    rows = f"{server.url}/console/fragments/charger-rows?id={identity}"
    with SimCharger(server.ws_url, identity) as cp:
        cp.boot()
        cp.call(call.StatusNotification(connector_id=1, error_code="NoError", status="Charging"))
        t0 = datetime.now(UTC).replace(microsecond=0)
        tx_id = cp.call(call.StartTransaction(connector_id=1, id_tag="CON-1", meter_start=1000,
                                              timestamp=_iso(t0))).transaction_id
        cp.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[
            {"timestamp": _iso(t0 + timedelta(seconds=60)), "sampledValue": [
                {"value": "2500", "measurand": "Energy.Active.Import.Register"},
                {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]))
        live = poll(lambda: _row(s.get(rows, timeout=30).text, identity),
                    lambda row: "7.00 kW" in row)
        assert "7.00 kW" in live and "1.50 kWh" in live
    offline = poll(lambda: _row(s.get(rows, timeout=30).text, identity),
                   lambda row: 'data-connected="0"' in row)
    assert 'data-connected="0"' in offline
    # Energy so far stays, live power does not.
    assert "7.00 kW" not in offline and "1.50 kWh" in offline
    listed = s.get(f"{server.url}/console/transactions?charger={identity}", timeout=30).text
    assert re.search(r'class="tx-energy">1\.50 kWh <small>so far</small>', listed)
    page = s.get(f"{server.url}/console/transactions/{tx_id}", timeout=30).text
    assert re.search(r'id="tx-energy">1\.50 kWh so far<', page)
    # A viewer gets no close button.
    assert "Close transaction" not in page


def test_decommission_and_close_from_the_console_with_the_audit(server, console_users,
                                                               identity):
    admin, _ = _login(server.url, console_users["admin"])
    operator, _ = _login(server.url, console_users["operator"])
    charger_url = f"{server.url}/console/chargers/{identity}"
    with SimCharger(server.ws_url, identity) as cp:
        cp.boot()
        tx_id = cp.call(call.StartTransaction(
            connector_id=1, id_tag="CON-2", meter_start=100,
            timestamp=_iso(datetime.now(UTC).replace(microsecond=0)))).transaction_id
        # Only an admin sees the button and may use it.
        page = operator.get(charger_url, timeout=30).text
        assert "Decommission" not in page
        assert operator.post(charger_url + "/decommission", data={"csrf_token": _csrf(page)},
                             timeout=30).status_code == 403
        page = admin.get(charger_url, timeout=30).text
        assert 'data-confirm="Decommission' in page
        done = admin.post(charger_url + "/decommission", data={"csrf_token": _csrf(page)},
                          timeout=30)
        assert done.status_code == 200 and "is decommissioned" in done.text
        assert 'id="decommissioned"' in done.text
    dashboard = admin.get(f"{server.url}/console/?q={identity}", timeout=30).text
    assert f'data-charger="{identity}"' not in dashboard
    dashboard = admin.get(f"{server.url}/console/?q={identity}&state=decommissioned",
                          timeout=30).text
    assert f'data-charger="{identity}"' in dashboard

    # An operator closes the stuck transaction; a bad meter reading is explained, not a 500.
    tx_url = f"{server.url}/console/transactions/{tx_id}"
    page = operator.get(tx_url, timeout=30).text
    assert 'data-confirm="Close transaction' in page
    bad = operator.post(tx_url + "/close", data={"csrf_token": _csrf(page), "meter_stop": "-5"},
                        timeout=30)
    assert bad.status_code == 200 and "Transaction not closed" in bad.text
    closed = operator.post(tx_url + "/close", data={"csrf_token": _csrf(page),
                                                    "meter_stop": "600", "reason": ""},
                           timeout=30)
    assert closed.status_code == 200 and "closed (ClosedByOperator)" in closed.text
    assert re.search(r'id="tx-energy">500 Wh<', closed.text)
    audit = admin.get(f"{server.url}/console/commands?charger={identity}", timeout=30).text
    table = re.search(r'<table class="stack" id="operator-actions">.*?</table>', audit, re.S)
    actions = re.findall(r'data-label="Action">([^<]+)<', table.group(0))
    assert actions == ["transaction.closed", "charger.decommissioned"]
    assert console_users["operator"] in table.group(0) and console_users["admin"] in table.group(0)
