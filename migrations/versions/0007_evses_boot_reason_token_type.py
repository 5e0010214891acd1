"""EVSEs on connectors, the boot reason, token types and 2.1-length tokens

- connectors.evse_id and status_notifications.evse_id: a 2.x connector is (evse_id,
  connector_id); every existing (1.6) connector is its own EVSE, so evse_id = connector_id.
  The connectors' unique key becomes (charger_id, evse_id, connector_id).
- status_notifications.error_code is nullable: 2.x reports none.
- chargers.last_boot_reason: the 2.x BootNotification reason.
- id_tokens.type (NULL for 1.6 idTags); id_tag and parent_id_tag widened to 255 (2.1), and
  id_tag_key to three times that (case folding can triple a length).

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("chargers") as batch_op:
        batch_op.add_column(sa.Column("last_boot_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("connectors") as batch_op:
        batch_op.add_column(sa.Column("evse_id", sa.Integer(), nullable=True))
    op.execute("UPDATE connectors SET evse_id = connector_id")
    with op.batch_alter_table("connectors") as batch_op:
        batch_op.drop_constraint("uq_connectors_charger_id", type_="unique")
        batch_op.create_unique_constraint("uq_connectors_charger_id",
                                          ["charger_id", "evse_id", "connector_id"])
    with op.batch_alter_table("status_notifications") as batch_op:
        batch_op.add_column(sa.Column("evse_id", sa.Integer(), nullable=True))
        batch_op.alter_column("error_code", existing_type=sa.String(length=32), nullable=True)
    op.execute("UPDATE status_notifications SET evse_id = connector_id")
    with op.batch_alter_table("id_tokens") as batch_op:
        batch_op.add_column(sa.Column("type", sa.String(length=20), nullable=True))
        batch_op.alter_column("id_tag", existing_type=sa.String(length=20),
                              type_=sa.String(length=255), existing_nullable=False)
        batch_op.alter_column("parent_id_tag", existing_type=sa.String(length=20),
                              type_=sa.String(length=255), existing_nullable=True)
        batch_op.alter_column("id_tag_key", existing_type=sa.String(length=64),
                              type_=sa.String(length=765), existing_nullable=False)


def downgrade():
    # Tokens longer than 1.6 allows cannot be kept in the narrower columns.
    op.execute("DELETE FROM id_tokens WHERE length(id_tag) > 20")
    with op.batch_alter_table("id_tokens") as batch_op:
        batch_op.alter_column("id_tag_key", existing_type=sa.String(length=765),
                              type_=sa.String(length=64), existing_nullable=False)
        batch_op.alter_column("parent_id_tag", existing_type=sa.String(length=255),
                              type_=sa.String(length=20), existing_nullable=True)
        batch_op.alter_column("id_tag", existing_type=sa.String(length=255),
                              type_=sa.String(length=20), existing_nullable=False)
        batch_op.drop_column("type")
    op.execute("DELETE FROM status_notifications WHERE error_code IS NULL")
    with op.batch_alter_table("status_notifications") as batch_op:
        batch_op.alter_column("error_code", existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column("evse_id")
    # 2.x connectors sharing a connector id across EVSEs cannot all be kept: keep one each.
    op.execute("DELETE FROM connectors WHERE id NOT IN (SELECT min(id) FROM connectors "
               "GROUP BY charger_id, connector_id)")
    with op.batch_alter_table("connectors") as batch_op:
        batch_op.drop_constraint("uq_connectors_charger_id", type_="unique")
        batch_op.create_unique_constraint("uq_connectors_charger_id",
                                          ["charger_id", "connector_id"])
    with op.batch_alter_table("connectors") as batch_op:
        batch_op.drop_column("evse_id")
    with op.batch_alter_table("chargers") as batch_op:
        batch_op.drop_column("last_boot_reason")
