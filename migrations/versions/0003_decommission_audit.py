"""decommissioned chargers, transactions closed by an operator, and the audit trail

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table("chargers") as batch:
        batch.add_column(sa.Column("decommissioned_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("closed_by", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("charger", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_events_charger", "audit_events", ["charger", "id"])

def downgrade():
    op.drop_index("ix_audit_events_charger", table_name="audit_events")
    op.drop_table("audit_events")
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("closed_by")
    with op.batch_alter_table("chargers") as batch:
        batch.drop_column("decommissioned_at")
