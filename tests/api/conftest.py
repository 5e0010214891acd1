"""Fixtures for the API tests: a viewer (read-only) client, created once (the CLI is slow)."""
from __future__ import annotations

import pytest

from tests.conftest import Api


@pytest.fixture(scope="session")
def viewer_token(server) -> str:
    return server.create_user("viewer-api", role="viewer")


@pytest.fixture
def viewer(server, viewer_token) -> Api:
    return Api(server.url, viewer_token)
