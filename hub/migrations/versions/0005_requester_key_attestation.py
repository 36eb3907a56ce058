"""keep each release request's key attestation, to relay it to the owning node

The requesting node signs the one-time key a record is to be sealed to
(accord/attestation.py); the hub keeps the signature and the certificate with
the release and sends both with the grant, and the owning node checks them.
Releases requested before have none: their owning node refuses them, and they
are asked for again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("requester_key_signature", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("requester_certificate", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("requester_certificate")
        batch_op.drop_column("requester_key_signature")
