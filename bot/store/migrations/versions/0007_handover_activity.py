"""Handovers: when the member of staff who took a conversation last acted in it (the claim or
a reply), so a taken conversation nobody answers any more is handed back after
``HANDOVER_IDLE_MINUTES``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handovers") as table:
        table.add_column(sa.Column("active_at", sa.DateTime))
    op.execute("UPDATE handovers SET active_at = claimed_at WHERE claimed_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("handovers") as table:
        table.drop_column("active_at")
