"""initial hub schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23 16:00:45.222909
"""

from alembic import op
import sqlalchemy as sa


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entry", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_agency"), ["agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_event"), ["event"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_recorded_at"), ["recorded_at"], unique=False)

    op.create_table(
        "checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    op.create_table(
        "relayed_pointers",
        sa.Column("handle", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("requesting_agency", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=256), nullable=False),
        sa.Column("agreement", sa.String(length=64), nullable=False),
        sa.Column("search_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handle"),
    )
    op.create_table(
        "releases",
        sa.Column("release_id", sa.String(length=40), nullable=False),
        sa.Column("request_key", sa.String(length=80), nullable=False),
        sa.Column("pointer", sa.String(length=80), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("record_type", sa.String(length=32), nullable=False),
        sa.Column("requester_agency", sa.String(length=64), nullable=False),
        sa.Column("requester", sa.String(length=256), nullable=False),
        sa.Column("requester_roles", sa.JSON(), nullable=False),
        sa.Column("requester_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("agreement", sa.String(length=64), nullable=False),
        sa.Column("case_number", sa.String(length=64), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("withhold", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=256), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("grant", sa.LargeBinary(), nullable=True),
        sa.Column("grant_id", sa.String(length=64), nullable=True),
        sa.Column("grant_seq", sa.BigInteger(), nullable=True),
        sa.Column("grant_entry", sa.LargeBinary(), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("withheld", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("release_id"),
        sa.UniqueConstraint("requester_agency", "requester", "request_key", name="uq_release_request"),
    )
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_releases_owner"), ["owner"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_releases_owner"))

    op.drop_table("releases")
    op.drop_table("relayed_pointers")
    op.drop_table("merkle_nodes")
    op.drop_table("checkpoints")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_entries_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_event"))
        batch_op.drop_index(batch_op.f("ix_audit_entries_agency"))

    op.drop_table("audit_entries")
