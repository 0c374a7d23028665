"""Staff console: staff users, the append-only audit log, conversation reviews, notes and
message annotations, content edits, and the follow-up state of bookings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_no_{verb} BEFORE {verb} ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
"""
APPEND_ONLY_POSTGRES = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    with op.batch_alter_table("bookings", recreate="auto") as batch:
        batch.add_column(sa.Column("follow_up", sa.String(16), nullable=False, server_default="new"))
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False),
        sa.Column("locked_until", sa.DateTime),
        sa.Column("last_sign_in_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.CheckConstraint("role IN ('reviewer', 'admin')", name="ck_staff_role"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in APPEND_ONLY_POSTGRES:
            op.execute(statement)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(APPEND_ONLY_SQLITE.format(verb=verb))
    op.create_table(
        "conversation_reviews",
        sa.Column("sender_id", sa.String(255), primary_key=True),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "message_annotations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("predicted", sa.String(255)),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("new_topic", sa.Boolean, nullable=False),
        sa.Column("annotated_by", sa.String(64), nullable=False),
        sa.Column("annotated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("sender_id", "event_id", name="uq_annotation_message"),
    )
    op.create_table(
        "content_edits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("comment", sa.String(255)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_content_edits_item", "content_edits", ["kind", "key"])


def downgrade() -> None:
    op.drop_table("content_edits")
    op.drop_table("message_annotations")
    op.drop_table("conversation_notes")
    op.drop_table("conversation_reviews")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_log")  # SQLite drops the table's triggers with it
    op.drop_table("staff_users")
    with op.batch_alter_table("bookings", recreate="auto") as batch:
        batch.drop_column("follow_up")
