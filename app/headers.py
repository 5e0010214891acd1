"""Security headers on every response of the app: console pages and their error pages, the API
docs page, API JSON, chargers' file downloads, routing errors (404, 405) included.

The Content-Security-Policy depends on what the response is: an HTML page loads only what the
app serves (scripts and styles from /static, no inline script); everything else (JSON, files,
CSV) loads nothing at all. A page that needs one inline ``<style>`` (the self-contained API docs)
marks it with ``nonce="{{ csp_nonce() }}"``, and only that response's policy allows it.
"""
from __future__ import annotations

import secrets

from flask import Flask, Response, g

HTML_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'{style}; "
            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
            "form-action 'self'; base-uri 'none'; object-src 'none'")
# Not a page: nothing in it may run, load or be framed, even if a browser renders it.
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def csp_nonce() -> str:
    """A nonce for this response's inline style (made on first use, then the same)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy() -> str:
    """The policy for the current request's response if it is an HTML page."""
    nonce = g.get("csp_nonce")
    return HTML_CSP.format(style=f" 'nonce-{nonce}'" if nonce else "")


def _set_headers(response: Response) -> Response:
    if response.status_code == 101:  # a websocket upgrade: no document follows
        return response
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        # A download is not a page of ours, whatever its type (a charger names its uploads).
        page = response.mimetype == "text/html" and not headers.get(
            "Content-Disposition", "").startswith("attachment")
        headers["Content-Security-Policy"] = content_security_policy() if page else OTHER_CSP
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    return response


def init_app(app: Flask) -> None:
    """Set the headers after every request, including errors Flask answers itself."""
    app.after_request(_set_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
