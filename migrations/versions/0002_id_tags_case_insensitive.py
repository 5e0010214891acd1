"""id tags are case-insensitive: index lower(id_tag)

OCPP's id tags are CiString20. Lookups compare lower(id_tag); this index keeps them fast.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_id_tokens_id_tag_lower", "id_tokens", [sa.text("lower(id_tag)")])


def downgrade():
    op.drop_index("ix_id_tokens_id_tag_lower", table_name="id_tokens")
