"""HTTP edges of the API: out-of-range numbers and unknown filters are 4xx with a message, and
every response carries the security headers (CSP per response type)."""
from __future__ import annotations

from tests.conftest import Api


def test_unknown_charger_filter_on_commands_is_404(api, identity):
    response = api.get("/commands", params={"charger": "nope-" + identity})
    assert response.status_code == 404
    assert "nope-" + identity in response.json()["message"]


def test_numbers_beyond_int64_are_4xx(api):
    for page in (10**17, 10**20, "x", 0):
        response = api.get("/commands", params={"page": page})
        assert response.status_code == 400, (page, response.text)
        assert "page must be" in response.json()["message"]
    for path in (f"/commands/{2**63}", f"/reservations/{10**20}",
                 f"/diagnostics/files/{10**20}", f"/transactions/{2**64}"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/json"
    assert api.get(f"/commands/{2**63 - 1}").status_code == 404  # the largest id: no row


def test_security_headers_on_json_and_the_docs_page(server, api):
    for response in (api.get("/chargers"), api.get("/no-such-endpoint"),
                     Api(server.url, None).get("/chargers")):
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    docs = Api(server.url, None).get("/docs")
    assert docs.status_code == 200
    csp = docs.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    # The page's one inline style is allowed by this response's nonce, and nothing else is.
    nonce = csp.split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in docs.text
    assert "unsafe-inline" not in csp
    assert docs.headers["X-Frame-Options"] == "DENY"
    assert docs.headers["X-Content-Type-Options"] == "nosniff"
    assert docs.headers["Referrer-Policy"] == "same-origin"
    assert Api(server.url, None).get("/docs").headers["Content-Security-Policy"] != csp
