"""Transactions and reservations hold tokens as long as any version's (2.1: 255 characters)

0007 widened id_tokens; a 2.x transaction or reservation with a token over 20 characters
(2.0.1 allows 36) could not be stored until this step.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.alter_column("id_tag", type_=sa.String(255), existing_nullable=True)
        batch_op.alter_column("id_tag_key", type_=sa.String(765), existing_nullable=True)
        batch_op.alter_column("stop_id_tag", type_=sa.String(255), existing_nullable=True)
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.alter_column("id_tag", type_=sa.String(255), existing_nullable=False)
        batch_op.alter_column("parent_id_tag", type_=sa.String(255), existing_nullable=True)


def downgrade():
    # Tokens longer than 1.6's are clipped on the way down: the old columns cannot hold them.
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE transactions SET id_tag = substr(id_tag, 1, 20), "
                         "stop_id_tag = substr(stop_id_tag, 1, 20), "
                         "id_tag_key = substr(id_tag_key, 1, 64)"))
    conn.execute(sa.text("UPDATE reservations SET id_tag = substr(id_tag, 1, 20), "
                         "parent_id_tag = substr(parent_id_tag, 1, 20)"))
    with op.batch_alter_table("reservations") as batch_op:
        batch_op.alter_column("parent_id_tag", type_=sa.String(20), existing_nullable=True)
        batch_op.alter_column("id_tag", type_=sa.String(20), existing_nullable=False)
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.alter_column("stop_id_tag", type_=sa.String(20), existing_nullable=True)
        batch_op.alter_column("id_tag_key", type_=sa.String(64), existing_nullable=True)
        batch_op.alter_column("id_tag", type_=sa.String(20), existing_nullable=True)
