"""OCPP 2.x transactions: the charger's transaction id, EVSE, events by seqNo, remoteStartId

- transactions: charger_transaction_id (the charger's own id, unique per charger), evse_id,
  stopped_reason, remote_start_id, charging_state, offline. Existing (1.6) transactions keep
  everything; the new columns are NULL (offline false) for them.
- transaction_events: one row per TransactionEvent seqNo received (the retry key).
- commands.remote_start_id: the remoteStartId a RequestStartTransaction gave, indexed.
- ix_tx_start_key (the 1.6 StartTransaction retry key) covers 1.6 transactions only.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_START_KEY = ["charger_id", "connector_id", "id_tag", "started_at", "meter_start"]
_ONLY_16 = sa.text("charger_transaction_id IS NULL")


def upgrade():
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.add_column(sa.Column("charger_transaction_id", sa.String(length=36),
                                      nullable=True))
        batch_op.add_column(sa.Column("evse_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("stopped_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("remote_start_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("charging_state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("offline", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index("ix_tx_charger_transaction",
                              ["charger_id", "charger_transaction_id"], unique=True)
    # After the batch (SQLite's table copy would have to reflect a partial index).
    op.drop_index("ix_tx_start_key", table_name="transactions")
    op.create_index("ix_tx_start_key", "transactions", _START_KEY, unique=True,
                    sqlite_where=_ONLY_16, postgresql_where=_ONLY_16)
    op.create_table(
        "transaction_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("transaction_id", sa.Integer(),
                  sa.ForeignKey("transactions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("charger_id", sa.Integer(),
                  sa.ForeignKey("chargers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq_no", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("trigger_reason", sa.String(length=32), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=True),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_transaction_events_seq", "transaction_events",
                    ["transaction_id", "seq_no"], unique=True)
    with op.batch_alter_table("commands") as batch_op:
        batch_op.add_column(sa.Column("remote_start_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_commands_remote_start_id", ["remote_start_id"])


def downgrade():
    with op.batch_alter_table("commands") as batch_op:
        batch_op.drop_index("ix_commands_remote_start_id")
        batch_op.drop_column("remote_start_id")
    op.drop_index("ix_transaction_events_seq", table_name="transaction_events")
    op.drop_table("transaction_events")
    op.drop_index("ix_tx_start_key", table_name="transactions")
    op.create_index("ix_tx_start_key", "transactions", _START_KEY, unique=True)
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.drop_index("ix_tx_charger_transaction")
        for name in ("offline", "charging_state", "remote_start_id", "stopped_reason",
                     "evse_id", "charger_transaction_id"):
            batch_op.drop_column(name)
