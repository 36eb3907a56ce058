"""keep what each release sent, to answer a retried grant

When the hub loses the node's answer to a release (a deadline, a crash, the
network), it retries with the same grant; the node answers with what it
already logged and sent instead of refusing the grant as used.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 02:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("release_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ciphertext", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("release_log", schema=None) as batch_op:
        batch_op.drop_column("ciphertext")
