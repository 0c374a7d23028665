"""Tables of the assistant's own database. Change them only together with a migration."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()

BOOKED = "booked"
CANCELLED = "cancelled"
PENDING = "pending"
SENDING = "sending"
SENT = "sent"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class Booking(Base):
    """A company visit (virksomhedsbesøg). A time slot can hold one booked visit: the partial
    unique index ``uq_booking_active_slot`` enforces it in the database."""

    __tablename__ = "bookings"
    id = sa.Column(sa.Integer, primary_key=True)
    reference = sa.Column(sa.String(20), unique=True)  # KB-2026-0042, set after insert
    request_key = sa.Column(sa.String(64), nullable=False, unique=True)  # confirming twice = one booking
    sender_id = sa.Column(sa.String(255), nullable=False)
    company_name = sa.Column(sa.String(255), nullable=False)
    cvr = sa.Column(sa.String(8))
    address = sa.Column(sa.String(255))
    contact_name = sa.Column(sa.String(255), nullable=False)
    email = sa.Column(sa.String(255), nullable=False)
    phone = sa.Column(sa.String(32), nullable=False)
    topic = sa.Column(sa.Text, nullable=False)
    slot_start = sa.Column(sa.DateTime, nullable=False)  # local time, Europe/Copenhagen
    duration_minutes = sa.Column(sa.Integer, nullable=False, default=60)
    language = sa.Column(sa.String(2), nullable=False, default="da")
    status = sa.Column(sa.String(16), nullable=False, default=BOOKED)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.Index("uq_booking_active_slot", "slot_start", unique=True,
                 sqlite_where=sa.text("status = 'booked'"),
                 postgresql_where=sa.text("status = 'booked'")),
    )


class Notification(Base):
    """An e-mail waiting to be sent (outbox): kept until sent, retried with back-off."""

    __tablename__ = "notifications"
    id = sa.Column(sa.Integer, primary_key=True)
    booking_id = sa.Column(sa.Integer, sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    kind = sa.Column(sa.String(32), nullable=False)  # staff_booked, user_booked, staff_cancelled, …
    recipient = sa.Column(sa.String(255), nullable=False)
    status = sa.Column(sa.String(16), nullable=False, default=PENDING)
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    last_error = sa.Column(sa.String(255))
    next_attempt_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    sent_at = sa.Column(sa.DateTime)


class Feedback(Base):
    """Thumbs up/down on one of the assistant's answers, for staff review."""

    __tablename__ = "feedback"
    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False)
    bot_message = sa.Column(sa.Text, nullable=False)
    rating = sa.Column(sa.String(8), nullable=False)  # up | down
    comment = sa.Column(sa.Text)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.CheckConstraint("rating IN ('up', 'down')", name="ck_feedback_rating"),)
