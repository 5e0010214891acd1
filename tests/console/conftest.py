"""Fixtures for browser tests: one Chromium for the package (Debian's, driven by Playwright), a
fresh context per test, users of each role logged in once, screenshots saved as test artefacts.

Playwright's own browser download cannot work here, so the browser is ``/usr/bin/chromium``
(``CHROMIUM`` overrides it); ``scripts/install-system-deps.sh`` installs it in CI.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PASSWORD = "correct-horse-9"
ROLES = ("admin", "operator", "viewer")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Generous: the machine is small and shared; waits end as soon as the condition holds.
TIMEOUT_MS = 15_000


# Package scope, not session: while Playwright's sync API is open the main thread counts as
# running an asyncio loop, which tests elsewhere that run their own loop cannot share.
@pytest.fixture(scope="package")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/install-system-deps.sh installs it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def console_users(server) -> dict[str, str]:
    """One user per role on the shared server: role -> user name."""
    names = {}
    for role in ROLES:
        name = f"console-{role}"
        server.flask("users", "create", name, "--password", PASSWORD, "--role", role)
        names[role] = name
    return names


@pytest.fixture(scope="package")
def login_states(browser, server, console_users, tmp_path_factory) -> dict[str, str]:
    """Log each role in once through the form; tests start from the saved session cookie."""
    from playwright.sync_api import expect

    folder = tmp_path_factory.mktemp("states")
    states = {}
    for role, name in console_users.items():
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto("/console/login")
        page.get_by_label("User name").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=TIMEOUT_MS)
        states[role] = str(folder / f"{role}.json")
        context.storage_state(path=states[role])
        context.close()
    return states


@pytest.fixture
def new_page(browser, server, login_states):
    """``new_page(role=None, width=1280)``: a page in a fresh context, logged in as ``role``."""
    contexts = []

    def make(role: str | None = None, width: int = 1280):
        context = browser.new_context(base_url=server.url,
                                      viewport={"width": width, "height": 900},
                                      storage_state=login_states[role] if role else None,
                                      accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return save
