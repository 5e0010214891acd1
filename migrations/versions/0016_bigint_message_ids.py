"""64-bit ids for the tables that grow by rows per charger message, on PostgreSQL.

PostgreSQL's ``serial`` is 32 bits: at 2,000 messages/s (two message-log rows each) the message
log's ids pass 2**31 within a week, retention or not, and every insert then fails. SQLite's
INTEGER PRIMARY KEY is 64 bits already, so there this does nothing. The ALTER rewrites each
table under a lock: on a large database, run it in a maintenance window.

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLES = ("message_log", "meter_values", "status_notifications", "transaction_events",
          "security_events", "charger_events")


def _retype(sql_type: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN id TYPE {sql_type}")
        # The sequence behind the serial column: it has a type (and a maximum) of its own.
        op.execute(f"DO $$ BEGIN EXECUTE 'ALTER SEQUENCE ' || "
                   f"pg_get_serial_sequence('{table}', 'id') || ' AS {sql_type}'; END $$")


def upgrade():
    _retype("BIGINT")


def downgrade():
    _retype("INTEGER")  # fails, as it should, once an id is past 2**31
