"""Scheduled work: alerts, 15-minute meter-value aggregates, the daily energy summary

New tables only: existing rows are untouched (raw meter values are folded by the job, not here).

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _charger_fk(table: str, nullable: bool = False) -> list:
    return [sa.Column("charger_id", sa.Integer(), nullable=nullable),
            sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"],
                                    name=op.f(f"fk_{table}_charger_id_chargers"),
                                    ondelete="CASCADE")]


def upgrade():
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        *_charger_fk("alerts"),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_active", ["kind", "cleared_at"], unique=False)
        batch_op.create_index("ix_alerts_charger", ["charger_id", "raised_at"], unique=False)

    op.create_table(
        "meter_value_aggregates",
        sa.Column("id", sa.Integer(), nullable=False),
        *_charger_fk("meter_value_aggregates"),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("transaction_id", sa.Integer(), nullable=True),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=True),
        sa.Column("location", sa.String(length=16), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=True),
        sa.Column("bucket_start", sa.DateTime(), nullable=True),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("avg", sa.Float(), nullable=True),
        sa.Column("last", sa.Float(), nullable=True),
        sa.Column("last_at", sa.DateTime(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_value_aggregates")),
    )
    with op.batch_alter_table("meter_value_aggregates", schema=None) as batch_op:
        batch_op.create_index("ix_meter_value_aggregates_series", ["charger_id", "bucket_start"],
                              unique=False)
        batch_op.create_index("ix_meter_value_aggregates_tx", ["transaction_id", "bucket_start"],
                              unique=False)

    op.create_table(
        "daily_energy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_charger_fk("daily_energy", nullable=True),
        sa.Column("energy_wh", sa.Float(), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_energy")),
    )
    with op.batch_alter_table("daily_energy", schema=None) as batch_op:
        batch_op.create_index("ix_daily_energy_day", ["day", "charger_id"], unique=False)


def downgrade():
    for table, indexes in (("daily_energy", ["ix_daily_energy_day"]),
                           ("meter_value_aggregates", ["ix_meter_value_aggregates_tx",
                                                       "ix_meter_value_aggregates_series"]),
                           ("alerts", ["ix_alerts_charger", "ix_alerts_active"])):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in indexes:
                batch_op.drop_index(name)
        op.drop_table(table)
