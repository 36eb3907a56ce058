"""audit sequence numbers and checkpoint sizes as 64-bit integers

The hub's audit log numbers its entries with a BIGINT; the node kept the
sequence numbers and checkpoint sizes it logged with a release as INTEGER,
which PostgreSQL holds in 32 bits: past 2^31 - 1 entries every release would
have failed. (SQLite's integers were 64-bit already.)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 16:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = {"release_log": ("audit_seq", "checkpoint_size"), "log_state": ("size",)}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.Integer(),
                                      type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=sa.BigInteger(),
                                      type_=sa.Integer(), existing_nullable=False)
