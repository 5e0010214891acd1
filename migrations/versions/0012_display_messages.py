"""Display messages as the CSMS knows them on each station: set by SetDisplayMessage, found by
GetDisplayMessages, until cleared. A new table: existing rows are untouched.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("display_messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("message_id", sa.BigInteger(), nullable=False),
    sa.Column("priority", sa.String(length=16), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=True),
    sa.Column("transaction_id", sa.String(length=36), nullable=True),
    sa.Column("info", sa.JSON(), nullable=True),
    sa.Column("source", sa.String(length=8), nullable=False),
    sa.Column("last_status", sa.String(length=32), nullable=True),
    sa.Column("command_id", sa.Integer(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=True),
    sa.Column("cleared_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_display_messages_charger_id_chargers"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["command_id"], ["commands.id"], name=op.f("fk_display_messages_command_id_commands"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_display_messages"))
    )
    with op.batch_alter_table("display_messages", schema=None) as batch_op:
        batch_op.create_index("ix_display_messages_key", ["charger_id", "message_id"], unique=True)


def downgrade():
    with op.batch_alter_table("display_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_display_messages_key")
    op.drop_table("display_messages")
