"""Diagnostics uploads: a failed upload leaves no file behind, and an upload link takes one
upload."""
from __future__ import annotations

import os
from urllib.parse import quote

import requests

from tests.conftest import Api
from tests.support.charger import SimCharger


def _stored(srv) -> list[str]:
    folder = os.path.join(srv.instance_dir, "files", "diagnostics")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def _upload_url(api: Api, identity: str) -> str:
    sent = api.post(f"/chargers/{quote(identity, safe='')}/commands",
                    json={"action": "GetDiagnostics"})
    assert sent.status_code == 200, sent.text
    return sent.json()["request"]["location"]


def test_oversized_chunked_upload_leaves_no_file(live_server_factory):
    srv = live_server_factory(MAX_UPLOAD_BYTES=str(256 * 1024))
    api = Api(srv.url, srv.create_user("uploads-admin"))
    with SimCharger(srv.ws_url, "UPLOAD-1") as cp:
        cp.boot()
        location = _upload_url(api, "UPLOAD-1")

        def chunks():  # no Content-Length: the limit is found while reading
            for _ in range(16):
                yield b"x" * 65536

        too_big = requests.put(location, data=chunks(), timeout=30)
        assert too_big.status_code == 413
        assert _stored(srv) == []
        # The same link still takes a proper upload afterwards, which is kept.
        ok = requests.put(location, data=b"small log\n", timeout=30)
        assert ok.status_code == 201, ok.text
        assert len(_stored(srv)) == 1


def test_an_upload_link_takes_one_upload(api, charger, identity, server):
    location = _upload_url(api, identity)
    first = requests.put(location, data=b"first\n", timeout=30)
    assert first.status_code == 201, first.text
    for attempt in (lambda: requests.put(location, data=b"second\n", timeout=30),
                    lambda: requests.post(location, files={"file": ("d.log", b"third\n")},
                                          timeout=30)):
        again = attempt()
        assert again.status_code == 410
        assert "used already" in again.text
    diag = api.get("/diagnostics", params={"charger": identity}).json()["items"][0]
    assert diag["status"] == "Uploaded"
    assert [f["size"] for f in diag["files"]] == [len(b"first\n")]
