"""keep watch labels at the node

An investigator's label of a watch ("Jazzy's phone") is free text that may
name the identifiers the watch is for; the gateway keeps it here and the hub
registers the watch without it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 02:20:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_labels",
        sa.Column("watch_id", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("watch_id"),
    )


def downgrade() -> None:
    op.drop_table("watch_labels")
