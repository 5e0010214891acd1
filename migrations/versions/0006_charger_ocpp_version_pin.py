"""chargers.ocpp_version_pin: an operator pins a charger to one OCPP version

NULL (every existing charger) keeps the server's preference among the versions a charger
offers; "1.6", "2.0.1" or "2.1" is the only version it may negotiate.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("chargers") as batch_op:
        batch_op.add_column(sa.Column("ocpp_version_pin", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("chargers") as batch_op:
        batch_op.drop_column("ocpp_version_pin")
