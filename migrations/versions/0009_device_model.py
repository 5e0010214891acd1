"""device model: a 2.x charger's variables, their attributes, and its NotifyReport series

device_variables (per charger, keyed by the case-folded component/variable key, with the
characteristics), device_variable_attributes (Actual, Target, MinSet, MaxSet with the latest
Get/Set outcome), device_reports and device_report_parts (which seqNos of a requestId are in).
New tables only: existing data is untouched.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "device_variables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charger_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("component_name", sa.String(length=50), nullable=False),
        sa.Column("component_instance", sa.String(length=50), nullable=True),
        sa.Column("evse_id", sa.Integer(), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("variable_name", sa.String(length=50), nullable=False),
        sa.Column("variable_instance", sa.String(length=50), nullable=True),
        sa.Column("data_type", sa.String(length=16), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("min_limit", sa.Float(), nullable=True),
        sa.Column("max_limit", sa.Float(), nullable=True),
        sa.Column("values_list", sa.Text(), nullable=True),
        sa.Column("supports_monitoring", sa.Boolean(), nullable=True),
        sa.Column("report_request_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charger_id", "key", name="uq_device_variables_charger_key"),
    )
    op.create_index("ix_device_variables_component", "device_variables",
                    ["charger_id", "component_name"])
    op.create_table(
        "device_variable_attributes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("variable_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("mutability", sa.String(length=9), nullable=True),
        sa.Column("persistent", sa.Boolean(), nullable=True),
        sa.Column("constant", sa.Boolean(), nullable=True),
        sa.Column("last_status", sa.String(length=32), nullable=True),
        sa.Column("last_status_reason", sa.String(length=20), nullable=True),
        sa.Column("last_status_at", sa.DateTime(), nullable=True),
        sa.Column("pending_value", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["variable_id"], ["device_variables.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("variable_id", "type", name="uq_device_variable_attributes_type"),
    )
    op.create_table(
        "device_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("charger_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("report_base", sa.String(length=32), nullable=True),
        sa.Column("command_id", sa.Integer(), nullable=True),
        sa.Column("request_status", sa.String(length=32), nullable=True),
        sa.Column("parts_received", sa.Integer(), nullable=False),
        sa.Column("items_received", sa.Integer(), nullable=False),
        sa.Column("last_seq_no", sa.Integer(), nullable=True),
        sa.Column("generated_at", sa.DateTime(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["command_id"], ["commands.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("charger_id", "request_id", name="uq_device_reports_charger_request"),
    )
    op.create_table(
        "device_report_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("seq_no", sa.Integer(), nullable=False),
        sa.Column("tbc", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["report_id"], ["device_reports.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "seq_no", name="uq_device_report_parts_seq"),
    )


def downgrade():
    op.drop_table("device_report_parts")
    op.drop_table("device_reports")
    op.drop_table("device_variable_attributes")
    op.drop_index("ix_device_variables_component", table_name="device_variables")
    op.drop_table("device_variables")
