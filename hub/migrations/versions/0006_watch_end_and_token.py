"""say why a watch ended, and keep the token that set it

A watch whose check the policy denied (the agreement expired, the purpose or
the member left it) showed as 'expired', like one past its own end. It now
ends as 'ended' with the policy's reasons. Watches ended before keep their
'expired'.

A watch keeps the id and issue time of the token that set it, so revoking
that token (hub/revocations.py) pauses the watch too. Watches set before have
neither: only a revocation of their investigator pauses them.

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
        batch_op.add_column(sa.Column("token_id", sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.drop_column("token_issued_at")
        batch_op.drop_column("token_id")
        batch_op.drop_column("ended_reasons")
