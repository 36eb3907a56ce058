"""initial node schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 16:40:16.923337
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "local_releases",
        sa.Column("request_key", sa.String(length=80), nullable=False),
        sa.Column("release_id", sa.String(length=64), nullable=True),
        sa.Column("requester", sa.String(length=256), nullable=False),
        sa.Column("private_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_key"),
        sa.UniqueConstraint("release_id"),
    )
    op.create_table(
        "log_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("source_id", sa.String(length=256), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "source_id", name="uq_records_source"),
    )
    op.create_table(
        "release_log",
        sa.Column("grant_id", sa.String(length=64), nullable=False),
        sa.Column("release_id", sa.String(length=64), nullable=False),
        sa.Column("pointer", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("requester_agency", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("checkpoint_size", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.JSON(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("grant_id"),
    )
    op.create_table(
        "person_profiles",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.SmallInteger(), nullable=False),
        sa.Column("agreement", sa.String(length=64), nullable=False),
        sa.Column("profile", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "person", "agreement"),
    )
    op.create_table(
        "pointers",
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("requesting_agency", sa.String(length=64), nullable=False),
        sa.Column("search_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("handle"),
    )
    op.create_table(
        "record_tokens",
        sa.Column("token", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", "kind", "record_id"),
    )
    with op.batch_alter_table("record_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_record_tokens_record", ["record_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("record_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_record_tokens_record")

    op.drop_table("record_tokens")
    op.drop_table("pointers")
    op.drop_table("person_profiles")
    op.drop_table("release_log")
    op.drop_table("records")
    op.drop_table("log_state")
    op.drop_table("local_releases")
