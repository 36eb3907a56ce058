"""index pointers by search, for sweeps and watches

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:30:00
"""

from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pointers", schema=None) as batch_op:
        batch_op.create_index("ix_pointers_search", ["search_id", "record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pointers", schema=None) as batch_op:
        batch_op.drop_index("ix_pointers_search")
