"""widen person_profiles.agreement for the rotation generation suffix

An agreement id may be 64 characters, and during a rotation of the federation
secret profiles are also stored under ``<agreement>~rotation`` (73): on
PostgreSQL a 64-character column refused them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 20:20:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person_profiles", schema=None) as batch_op:
        batch_op.alter_column("agreement", existing_type=sa.String(64), type_=sa.String(80),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("person_profiles", schema=None) as batch_op:
        batch_op.alter_column("agreement", existing_type=sa.String(80), type_=sa.String(64),
                              existing_nullable=False)
