"""watches' and notifications' audit sequence numbers as 64-bit integers

The audit log numbers its entries with a BIGINT; watches and notifications
kept theirs as INTEGER, which PostgreSQL holds in 32 bits: past 2^31 - 1
entries adding a watch, a watch match or a deconfliction notice would have
failed. (SQLite's integers were 64-bit already.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 16:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("watches", "notifications")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("audit_seq", existing_type=sa.Integer(),
                                  type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("audit_seq", existing_type=sa.BigInteger(),
                                  type_=sa.Integer(), existing_nullable=False)
