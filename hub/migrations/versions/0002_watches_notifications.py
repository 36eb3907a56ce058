"""watches, notifications and deconfliction subjects

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_agency", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("watch_id", sa.String(length=64), nullable=True),
        sa.Column("handle", sa.String(length=80), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_recipient",
                              ["recipient_agency", "recipient", "created_at"], unique=False)
        batch_op.create_index("uq_notifications_watch_handle", ["watch_id", "handle"],
                              unique=True)
    op.create_table(
        "search_subjects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("agreement", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("search_id", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("searched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("search_subjects", schema=None) as batch_op:
        batch_op.create_index("ix_search_subjects_digest", ["digest", "searched_at"],
                              unique=False)
        batch_op.create_index("ix_search_subjects_time", ["searched_at"], unique=False)
    op.create_table(
        "watches",
        sa.Column("watch_id", sa.String(length=40), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("agreement", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("tokens", sa.LargeBinary(), nullable=False),
        sa.Column("filters", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("watch_id"),
    )
    with op.batch_alter_table("watches", schema=None) as batch_op:
        batch_op.create_index("ix_watches_owner", ["agency", "actor"], unique=False)
        batch_op.create_index("ix_watches_state", ["state"], unique=False)
    op.create_table(
        "watch_seen",
        sa.Column("watch_id", sa.String(length=40), nullable=False),
        sa.Column("handle", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("watch_id", "handle"),
    )


def downgrade() -> None:
    op.drop_table("watch_seen")
    op.drop_table("watches")
    op.drop_table("search_subjects")
    op.drop_table("notifications")
