"""users.session_version: console sessions can be revoked (logout, password change)

Revision ID: 0003_fix_http
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_fix_http"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False,
                                   server_default="0"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
