"""search rate buckets shared by every hub process on the database

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=330), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("taken", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
