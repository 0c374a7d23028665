"""Documents kept in the staff console: every version of a document added, replaced, retired
or restored there (``bot.store.documents``); the files in ``data/documents`` stay the base.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("doc_id", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16)),
        sa.Column("title", sa.String(255)),
        sa.Column("title_en", sa.String(255)),
        sa.Column("publisher", sa.String(255)),
        sa.Column("source", sa.String(1000)),
        sa.Column("verified", sa.Date),
        sa.Column("sections", sa.Text),
        sa.Column("text", sa.Text),
        sa.Column("origin", sa.String(8)),
        sa.Column("filename", sa.String(255)),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("comment", sa.String(255)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_document_versions_doc_id", "document_versions", ["doc_id"])


def downgrade() -> None:
    op.drop_index("ix_document_versions_doc_id", table_name="document_versions")
    op.drop_table("document_versions")
