"""The migrations build the schema the models describe, and go back down cleanly."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import app.models  # noqa: F401 - registers every table
from app.extensions import db
from tests.support.server import LiveServer

# SQLite reflection skips expression indexes (lower(id_tag)) with a warning: they are checked
# by name below instead.
pytestmark = [pytest.mark.filterwarnings("ignore:Skipped unsupported reflection"),
              pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified")]


def _differences(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), db.metadata)


def _indexes(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'id_tokens'"
        )).scalars())


def test_upgrade_matches_the_models_and_downgrade_undoes_the_last_step(tmp_path):
    srv = LiveServer(instance_dir=str(tmp_path))
    engine = sa.create_engine(f"sqlite:///{tmp_path}/constellation.db")
    try:
        srv.flask("db", "upgrade")
        assert _differences(engine) == []
        assert "ix_id_tokens_id_tag_lower" in _indexes(engine)
        srv.flask("db", "downgrade", "0001")
        assert "ix_id_tokens_id_tag_lower" not in _indexes(engine)
        srv.flask("db", "upgrade")
        assert "(head)" in srv.flask("db", "current").stdout
    finally:
        engine.dispose()
