"""Node features switched by an admin, the RFID scan history, operators' LCD messages

New tables only. No row in node_features means the role's default (or
CONSTELLATION_FEATURES) holds.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "node_features",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_node_features")),
    )
    op.create_table(
        "rfid_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("charger", sa.String(length=255), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rfid_scans")),
    )
    with op.batch_alter_table("rfid_scans", schema=None) as batch_op:
        batch_op.create_index("ix_rfid_scans_uid", ["uid", "scanned_at"], unique=False)
    op.create_table(
        "node_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_messages")),
    )


def downgrade():
    op.drop_table("node_messages")
    with op.batch_alter_table("rfid_scans", schema=None) as batch_op:
        batch_op.drop_index("ix_rfid_scans_uid")
    op.drop_table("rfid_scans")
    op.drop_table("node_features")
