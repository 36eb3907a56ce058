"""keep the token that set each watch and asked for each release

A watch keeps the id (jti) and issue time (iat) of the token that set it, and
a release those of the token that asked for it, so a revocation of that token
(hub/revocations.py), not only of its investigator, pauses the watch and
stops a custodian approving the release. Rows from before have neither: only
revocations of their investigator apply to them (an unknown issue time counts
as before any ``issued_before``).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 01:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("watches", "releases"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("token_id", sa.String(length=256), nullable=True))
            batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(timezone=True),
                                          nullable=True))


def downgrade() -> None:
    for table in ("releases", "watches"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("token_issued_at")
            batch_op.drop_column("token_id")
