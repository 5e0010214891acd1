"""Bulk operations and their per-charger results. New tables: existing rows are untouched.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("bulk_operations",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("operation", sa.String(length=32), nullable=False),
    sa.Column("args", sa.JSON(), nullable=True),
    sa.Column("selection", sa.JSON(), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("max_in_flight", sa.Integer(), nullable=False),
    sa.Column("cancel_requested", sa.Boolean(), nullable=False),
    sa.Column("requested_by", sa.String(length=64), nullable=True),
    sa.Column("source", sa.String(length=16), nullable=False),
    sa.Column("job_id", sa.String(length=64), nullable=True),
    sa.Column("base_url", sa.String(length=255), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=True),
    sa.Column("started_at", sa.DateTime(), nullable=True),
    sa.Column("finished_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operations"))
    )
    op.create_table("bulk_operation_results",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("bulk_id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("identity", sa.String(length=64), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("command_id", sa.Integer(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["bulk_id"], ["bulk_operations.id"], name=op.f("fk_bulk_operation_results_bulk_id_bulk_operations"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_bulk_operation_results_charger_id_chargers"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["command_id"], ["commands.id"], name=op.f("fk_bulk_operation_results_command_id_commands"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_operation_results"))
    )
    with op.batch_alter_table("bulk_operation_results", schema=None) as batch_op:
        batch_op.create_index("ix_bulk_operation_results_bulk", ["bulk_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("bulk_operation_results", schema=None) as batch_op:
        batch_op.drop_index("ix_bulk_operation_results_bulk")
    op.drop_table("bulk_operation_results")
    op.drop_table("bulk_operations")
