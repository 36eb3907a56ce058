"""say why a watch ended: the policy's reasons, beside a new state 'ended'

A watch whose check the policy denied (the agreement expired, the purpose or
the member left it) showed as 'expired', like one past its own end. It now
ends as 'ended' with the policy's reasons. Watches ended before keep their
'expired'.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 00:10:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.drop_column("ended_reasons")
