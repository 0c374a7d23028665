"""Human handover: handovers (queue, claims), callback requests, staffed hours, and an outbox
that serves any notification (a row is about a booking or a callback request).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(255)),
        sa.Column("company", sa.String(255)),
        sa.Column("answered", sa.Text),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("requested_at", sa.DateTime, nullable=False),
        sa.Column("claimed_at", sa.DateTime),
        sa.Column("ended_at", sa.DateTime),
    )
    op.create_index("uq_handover_open", "handovers", ["sender_id"], unique=True,
                    sqlite_where=sa.text("status IN ('waiting', 'claimed')"),
                    postgresql_where=sa.text("status IN ('waiting', 'claimed')"))
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(24), nullable=False, unique=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(255)),
        sa.Column("cvr", sa.String(8)),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("time_window", sa.String(255), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("consent_at", sa.DateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handled_by", sa.String(64)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="ck_callback_reachable"),
        sa.CheckConstraint("status IN ('new', 'in_progress', 'done')", name="ck_callback_status"),
    )
    op.create_table(
        "staffed_hours",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("schedule", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    with op.batch_alter_table("notifications", recreate="auto") as batch:
        batch.add_column(sa.Column("callback_id", sa.Integer))
        batch.create_foreign_key("fk_notifications_callback", "callback_requests", ["callback_id"], ["id"],
                                 ondelete="CASCADE")


def downgrade() -> None:
    with op.batch_alter_table("notifications", recreate="auto") as batch:
        batch.drop_constraint("fk_notifications_callback", type_="foreignkey")
        batch.drop_column("callback_id")
    op.drop_table("staffed_hours")
    op.drop_table("callback_requests")
    op.drop_index("uq_handover_open", table_name="handovers")
    op.drop_table("handovers")
