"""Booking integrity: a cancelled or moved time can be booked again (the request key is no
longer unique: the active-slot index alone decides), invitations carry a SEQUENCE that each
change increments, and references are longer (a random part).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings", recreate="auto") as batch:
        batch.add_column(sa.Column("sequence", sa.Integer, nullable=False, server_default="0"))
        batch.alter_column("reference", type_=sa.String(24), existing_type=sa.String(20))
    # The request key identified one confirmation for ever; now it only makes the same
    # conversation's repeated confirmation idempotent while that booking is active.
    bind = op.get_bind()
    for constraint in sa.inspect(bind).get_unique_constraints("bookings"):
        if constraint["column_names"] == ["request_key"]:
            # SQLite's inline UNIQUE has no name: the naming convention gives it one to drop.
            with op.batch_alter_table("bookings", recreate="auto",
                                      naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"}) as batch:
                batch.drop_constraint(constraint.get("name") or "uq_bookings_request_key", type_="unique")
    for index in sa.inspect(bind).get_indexes("bookings"):
        if index["column_names"] == ["request_key"] and index.get("unique"):
            op.drop_index(index["name"], table_name="bookings")
    op.create_index("ix_bookings_request_key", "bookings", ["request_key"])
    op.create_index("ix_bookings_sender_id", "bookings", ["sender_id"])
    op.create_index("ix_feedback_sender_id", "feedback", ["sender_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_sender_id", table_name="feedback")
    op.drop_index("ix_bookings_sender_id", table_name="bookings")
    op.drop_index("ix_bookings_request_key", table_name="bookings")
    with op.batch_alter_table("bookings", recreate="auto") as batch:
        batch.drop_column("sequence")
