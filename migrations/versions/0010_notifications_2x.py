"""OCPP 2.x station notifications: security events, NotifyEvent rows, charging limits,
reported charging profiles, customer information, display messages, other reports as sent

And the 2.x requestId beside firmware and log status notifications. New tables only (and two
nullable columns): existing rows are untouched.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("charger_events",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.BigInteger(), nullable=False),
    sa.Column("timestamp", sa.DateTime(), nullable=True),
    sa.Column("trigger", sa.String(length=16), nullable=False),
    sa.Column("cause", sa.BigInteger(), nullable=True),
    sa.Column("actual_value", sa.Text(), nullable=False),
    sa.Column("tech_code", sa.String(length=50), nullable=True),
    sa.Column("tech_info", sa.String(length=500), nullable=True),
    sa.Column("cleared", sa.Boolean(), nullable=False),
    sa.Column("transaction_id", sa.String(length=36), nullable=True),
    sa.Column("variable_monitoring_id", sa.BigInteger(), nullable=True),
    sa.Column("event_notification_type", sa.String(length=32), nullable=False),
    sa.Column("component_name", sa.String(length=50), nullable=False),
    sa.Column("component_instance", sa.String(length=50), nullable=True),
    sa.Column("evse_id", sa.Integer(), nullable=True),
    sa.Column("connector_id", sa.Integer(), nullable=True),
    sa.Column("variable_name", sa.String(length=50), nullable=False),
    sa.Column("variable_instance", sa.String(length=50), nullable=True),
    sa.Column("problem", sa.Boolean(), nullable=False),
    sa.Column("generated_at", sa.DateTime(), nullable=True),
    sa.Column("seq_no", sa.BigInteger(), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_charger_events_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charger_events"))
    )
    with op.batch_alter_table("charger_events", schema=None) as batch_op:
        batch_op.create_index("ix_charger_events_charger_time", ["charger_id", "timestamp"], unique=False)
        batch_op.create_index("ix_charger_events_key", ["charger_id", "event_id", "timestamp"], unique=True)

    op.create_table("charging_limits",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("evse_id", sa.Integer(), nullable=False),
    sa.Column("source", sa.String(length=20), nullable=False),
    sa.Column("is_grid_critical", sa.Boolean(), nullable=True),
    sa.Column("is_local_generation", sa.Boolean(), nullable=True),
    sa.Column("schedules", sa.JSON(), nullable=True),
    sa.Column("reported_at", sa.DateTime(), nullable=True),
    sa.Column("cleared_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_charging_limits_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_charging_limits"))
    )
    with op.batch_alter_table("charging_limits", schema=None) as batch_op:
        batch_op.create_index("ix_charging_limits_key", ["charger_id", "evse_id", "source"], unique=True)

    op.create_table("customer_information",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("request_id", sa.BigInteger(), nullable=False),
    sa.Column("seq_no", sa.BigInteger(), nullable=False),
    sa.Column("generated_at", sa.DateTime(), nullable=True),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("tbc", sa.Boolean(), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_customer_information_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_information"))
    )
    with op.batch_alter_table("customer_information", schema=None) as batch_op:
        batch_op.create_index("ix_customer_information_key", ["charger_id", "request_id", "seq_no"], unique=True)

    op.create_table("reported_charging_profiles",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("request_id", sa.BigInteger(), nullable=False),
    sa.Column("source", sa.String(length=20), nullable=False),
    sa.Column("evse_id", sa.Integer(), nullable=False),
    sa.Column("profile_id", sa.BigInteger(), nullable=False),
    sa.Column("profile", sa.JSON(), nullable=True),
    sa.Column("tbc", sa.Boolean(), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_reported_charging_profiles_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_charging_profiles"))
    )
    with op.batch_alter_table("reported_charging_profiles", schema=None) as batch_op:
        batch_op.create_index("ix_reported_profiles_key", ["charger_id", "request_id", "source", "evse_id", "profile_id"], unique=True)

    op.create_table("reported_display_messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("request_id", sa.BigInteger(), nullable=False),
    sa.Column("message_id", sa.BigInteger(), nullable=False),
    sa.Column("priority", sa.String(length=16), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=True),
    sa.Column("info", sa.JSON(), nullable=True),
    sa.Column("tbc", sa.Boolean(), nullable=False),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_reported_display_messages_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_display_messages"))
    )
    with op.batch_alter_table("reported_display_messages", schema=None) as batch_op:
        batch_op.create_index("ix_reported_display_messages_key", ["charger_id", "request_id", "message_id"], unique=True)

    op.create_table("security_events",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=True),
    sa.Column("source", sa.String(length=8), nullable=False),
    sa.Column("type", sa.String(length=50), nullable=False),
    sa.Column("timestamp", sa.DateTime(), nullable=True),
    sa.Column("tech_info", sa.String(length=255), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_security_events_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events"))
    )
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.create_index("ix_security_events_charger", ["charger_id", "timestamp"], unique=False)
        batch_op.create_index("ix_security_events_timestamp", ["timestamp"], unique=False)

    op.create_table("station_reports",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("charger_id", sa.Integer(), nullable=False),
    sa.Column("action", sa.String(length=64), nullable=False),
    sa.Column("request_id", sa.BigInteger(), nullable=True),
    sa.Column("evse_id", sa.Integer(), nullable=True),
    sa.Column("payload", sa.JSON(), nullable=True),
    sa.Column("received_at", sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(["charger_id"], ["chargers.id"], name=op.f("fk_station_reports_charger_id_chargers"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_station_reports"))
    )
    with op.batch_alter_table("station_reports", schema=None) as batch_op:
        batch_op.create_index("ix_station_reports_charger", ["charger_id", "action", "id"], unique=False)

    with op.batch_alter_table("diagnostics_status_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocpp_request_id", sa.BigInteger(), nullable=True))

    with op.batch_alter_table("firmware_status_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocpp_request_id", sa.BigInteger(), nullable=True))



def downgrade():
    with op.batch_alter_table("firmware_status_notifications", schema=None) as batch_op:
        batch_op.drop_column("ocpp_request_id")

    with op.batch_alter_table("diagnostics_status_notifications", schema=None) as batch_op:
        batch_op.drop_column("ocpp_request_id")

    with op.batch_alter_table("station_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_station_reports_charger")

    op.drop_table("station_reports")
    with op.batch_alter_table("security_events", schema=None) as batch_op:
        batch_op.drop_index("ix_security_events_timestamp")
        batch_op.drop_index("ix_security_events_charger")

    op.drop_table("security_events")
    with op.batch_alter_table("reported_display_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_reported_display_messages_key")

    op.drop_table("reported_display_messages")
    with op.batch_alter_table("reported_charging_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_reported_profiles_key")

    op.drop_table("reported_charging_profiles")
    with op.batch_alter_table("customer_information", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_information_key")

    op.drop_table("customer_information")
    with op.batch_alter_table("charging_limits", schema=None) as batch_op:
        batch_op.drop_index("ix_charging_limits_key")

    op.drop_table("charging_limits")
    with op.batch_alter_table("charger_events", schema=None) as batch_op:
        batch_op.drop_index("ix_charger_events_key")
        batch_op.drop_index("ix_charger_events_charger_time")

    op.drop_table("charger_events")
