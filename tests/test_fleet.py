"""Many chargers at once: the fleet simulator (bench/fleet.py) against a live server."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.support.server import query

FLEET = Path(__file__).resolve().parent.parent / "bench" / "fleet.py"


def test_fifty_chargers_metering_at_once_every_reply_matched_and_stored(live_server_factory):
    srv = live_server_factory(OCPP_UNKNOWN_ID_TAGS="accept")
    run = subprocess.run(
        [sys.executable, str(FLEET), "--url", srv.ws_url, "--chargers", "50",
         "--workload", "meter", "--mode", "closed", "--warmup", "1", "--duration", "3", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    result = json.loads(run.stdout)
    assert result["connected"] == 50
    assert result["errors"] == 0 and result["answered"] == result["sent"] > 0
    # Each charger enrolled itself and started one transaction; every MeterValues it was
    # answered for is stored with its three sampled values (warm-up ones included).
    assert query(srv, "SELECT count(*) FROM chargers")[0][0] == 50
    assert query(srv, "SELECT count(DISTINCT charger_id) FROM transactions")[0][0] == 50
    stored = query(srv, "SELECT count(*) FROM meter_values WHERE transaction_id IS NOT NULL")
    assert stored[0][0] >= 3 * result["answered"]
    # Frames in and out reach the message log with the next commits.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        logged = query(srv, "SELECT count(*) FROM message_log WHERE action = 'MeterValues'")
        if logged[0][0] >= 2 * result["answered"]:
            break
        time.sleep(0.2)
    assert logged[0][0] >= 2 * result["answered"]
