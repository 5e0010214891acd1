"""A large tokens CSV import runs off the event loop: chargers are answered while it runs, and
every row is imported or rejected with its reason, as before."""
from __future__ import annotations

import re
import threading

from ocpp.v16 import call

from tests.support.charger import SimCharger
from tests.support.server import query

from .conftest import PASSWORD
from .test_access import _csrf, _login

ROWS = 10_000
# Heartbeats sent one after another once the import is under way; all must be answered before
# the import answers. With the import's database work in the event loop, each one waited for
# seconds (a few of them outlast the whole import).
HEARTBEATS = 10


def _count(srv) -> int:
    return query(srv, "SELECT count(*) FROM id_tokens WHERE id_tag LIKE 'BULK-%'")[0][0]


def test_chargers_are_served_during_a_large_import(live_server_factory):
    srv = live_server_factory()
    srv.flask("users", "create", "importer", "--password", PASSWORD, "--role", "operator")
    session, response = _login(srv.url, "importer")
    assert response.status_code == 302
    token = _csrf(session.get(srv.url + "/console/tokens", timeout=30).text)
    lines = ["id_tag,status,note"]
    lines += [f"BULK-{n:05d},Accepted,row {n}" for n in range(ROWS - 3)]
    lines += ["BULK-00001,Blocked,again: an update", "BULK-BAD-STATUS,Maybe,",
              f"BULK-WAY-TOO-LONG-{'X' * 240},Accepted,"]
    body = ("\n".join(lines) + "\n").encode()

    result: dict = {}
    done = threading.Event()

    def run_import() -> None:
        try:
            result["response"] = session.post(
                srv.url + "/console/tokens/import", data={"csrf_token": token},
                files={"file": ("tokens.csv", body, "text/csv")}, timeout=300)
        finally:
            done.set()

    with SimCharger(srv.ws_url, "IMPORT-CP") as cp:
        cp.boot()
        importer = threading.Thread(target=run_import)
        importer.start()
        while _count(srv) == 0 and not done.is_set():  # the import is under way
            done.wait(0.01)
        answered = 0
        for _ in range(HEARTBEATS):
            if done.is_set():
                break
            reply = cp.call(call.Heartbeat())
            assert reply.current_time
            answered += 1
        import_still_running = not done.is_set()
        importer.join()
    # Before the fix not one was answered while the import ran (the worker was killed).
    assert answered >= 3 and (import_still_running or answered == HEARTBEATS), \
        f"{answered} heartbeats answered before the import returned"

    page = result["response"]
    assert page.status_code == 200
    assert f"{ROWS - 3} created, 1 updated, 2 rejected." in page.text
    rejected = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page.text)
    assert [(line, tag) for line, tag, _ in rejected] == [
        (str(ROWS), "BULK-BAD-STATUS"), (str(ROWS + 1), f"BULK-WAY-TOO-LONG-{'X' * 240}")]
    assert "The status must be one of" in rejected[0][2]
    assert "1 to 255 characters" in rejected[1][2]
    assert _count(srv) == ROWS - 3
    assert query(srv, "SELECT status, note FROM id_tokens WHERE id_tag = 'BULK-00001'") == [
        ("Blocked", "again: an update")]
