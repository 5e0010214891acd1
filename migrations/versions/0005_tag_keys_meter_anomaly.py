"""id tags matched by a case-folded key; backwards meters flagged; effect errors noted

- id_tokens.id_tag_key (unique) and transactions.id_tag_key: Unicode case folding done in
  Python (models.token.tag_key), replacing the lower(id_tag) index of 0002: SQLite's lower()
  folds ASCII only, so "ÖL-CARD-1" could never be found. Tokens that differ only in case
  (possible before) keep the oldest one matchable; the others get a key that never matches
  and are reported, for an operator to resolve.
- transactions.meter_anomaly: meter_stop < meter_start. Such rows get energy_wh NULL.
- meter_values.value: NaN and infinities (stored from "Infinity", "1e400"...) become NULL, as
  the code now stores them; the raw value is kept.
- commands.effect_error.
- transactions.meter_start, meter_stop, reservation_id, reported_transaction_id: 64 bits, as
  chargers send them (Integer is 32-bit on PostgreSQL).

Revision ID: 0005
Revises: 0004
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


_CHARGER_NUMBERS = ("meter_start", "meter_stop", "reservation_id", "reported_transaction_id")


def _key(id_tag):
    # Frozen copy of models.token.tag_key: a migration must not change with the code.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", id_tag).casefold())


def upgrade():
    # First: SQLite's batch mode rebuilds the table and does not know expression indexes.
    op.drop_index("ix_id_tokens_id_tag_lower", table_name="id_tokens")
    with op.batch_alter_table("id_tokens") as batch_op:
        batch_op.add_column(sa.Column("id_tag_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("transactions") as batch_op:
        batch_op.add_column(sa.Column("id_tag_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("meter_anomaly", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        for name in _CHARGER_NUMBERS:
            batch_op.alter_column(name, existing_type=sa.Integer(), type_=sa.BigInteger())
    with op.batch_alter_table("commands") as batch_op:
        batch_op.add_column(sa.Column("effect_error", sa.Text(), nullable=True))

    conn = op.get_bind()
    tokens = sa.table("id_tokens", sa.column("id", sa.Integer), sa.column("id_tag", sa.String),
                      sa.column("id_tag_key", sa.String))
    seen = set()
    for token_id, id_tag in conn.execute(
            sa.select(tokens.c.id, tokens.c.id_tag).order_by(tokens.c.id)).all():
        key = _key(id_tag)
        if key in seen:
            print(f"id token {id_tag!r} (id {token_id}) differs only in case from an older "
                  "one: it no longer matches; delete or rename one of them")
            key = f"DUPLICATE {token_id}"  # capitals: no folded key looks like this
        seen.add(key)
        conn.execute(tokens.update().where(tokens.c.id == token_id).values(id_tag_key=key))

    txs = sa.table("transactions", sa.column("id_tag", sa.String),
                   sa.column("id_tag_key", sa.String), sa.column("energy_wh", sa.Float),
                   sa.column("meter_anomaly", sa.Boolean))
    for id_tag in conn.execute(sa.select(txs.c.id_tag).where(txs.c.id_tag.is_not(None))
                               .distinct()).scalars().all():
        conn.execute(txs.update().where(txs.c.id_tag == id_tag).values(id_tag_key=_key(id_tag)))
    conn.execute(txs.update().where(txs.c.energy_wh < 0)
                 .values(energy_wh=None, meter_anomaly=True))

    meter_values = sa.table("meter_values", sa.column("value", sa.Float))
    largest = 1.7976931348623157e308  # +-infinity lie beyond; so does NaN on PostgreSQL
    conn.execute(meter_values.update().where(sa.or_(meter_values.c.value > largest,
                                                    meter_values.c.value < -largest))
                 .values(value=None))

    with op.batch_alter_table("id_tokens") as batch_op:
        batch_op.alter_column("id_tag_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_id_tokens_id_tag_key", ["id_tag_key"])


def downgrade():
    with op.batch_alter_table("id_tokens") as batch_op:
        batch_op.drop_constraint("uq_id_tokens_id_tag_key", type_="unique")
        batch_op.drop_column("id_tag_key")
    op.create_index("ix_id_tokens_id_tag_lower", "id_tokens", [sa.text("lower(id_tag)")])
    with op.batch_alter_table("transactions") as batch_op:
        for name in _CHARGER_NUMBERS:
            batch_op.alter_column(name, existing_type=sa.BigInteger(), type_=sa.Integer())
        batch_op.drop_column("meter_anomaly")
        batch_op.drop_column("id_tag_key")
    with op.batch_alter_table("commands") as batch_op:
        batch_op.drop_column("effect_error")
