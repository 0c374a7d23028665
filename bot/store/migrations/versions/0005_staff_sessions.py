"""Staff sessions that can be ended (a per-member session generation) and sign-in back-off
per (name, source address) instead of per account.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users", recreate="auto") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "staff_sign_in_failures",
        sa.Column("pair", sa.String(64), primary_key=True),
        sa.Column("name_key", sa.String(64), nullable=False, index=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", sa.DateTime, nullable=False, index=True),
        sa.Column("locked_until", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("staff_sign_in_failures")
    with op.batch_alter_table("staff_users", recreate="auto") as batch:
        batch.drop_column("session_generation")
