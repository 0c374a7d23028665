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
    reference = sa.Column(sa.String(24), unique=True)  # KB-2026-7QH4KM: year + random part
    #: The same conversation confirming the same visit twice books once (while it is active).
    request_key = sa.Column(sa.String(64), nullable=False, index=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
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
    # staff follow-up (the console): new | confirmed | done; apart from ``status``, which the
    # active-slot index uses. A cancelled booking has status cancelled whatever this says.
    follow_up = sa.Column(sa.String(16), nullable=False, default="new", server_default="new")
    #: iCalendar SEQUENCE: incremented by every change of the invitation (move, cancel).
    sequence = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")
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
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    bot_message = sa.Column(sa.Text, nullable=False)
    rating = sa.Column(sa.String(8), nullable=False)  # up | down
    comment = sa.Column(sa.Text)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.CheckConstraint("rating IN ('up', 'down')", name="ck_feedback_rating"),)


# --- staff console (bot/console; migration 0003) ---

REVIEWER = "reviewer"
ADMIN = "admin"
FOLLOW_UPS = ("new", "confirmed", "done")


class StaffUser(Base):
    """A member of staff who may sign in to the console. ``password_hash`` is argon2id."""

    __tablename__ = "staff_users"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False, unique=True)
    role = sa.Column(sa.String(16), nullable=False, default=REVIEWER)
    password_hash = sa.Column(sa.String(255), nullable=False)
    active = sa.Column(sa.Boolean, nullable=False, default=True)
    failed_attempts = sa.Column(sa.Integer, nullable=False, default=0)  # wrong passwords in a row
    locked_until = sa.Column(sa.DateTime)
    last_sign_in_at = sa.Column(sa.DateTime)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.CheckConstraint("role IN ('reviewer', 'admin')", name="ck_staff_role"),)


class AuditEntry(Base):
    """One line of the append-only audit log (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    actor = sa.Column(sa.String(64), nullable=False)  # staff name, or "cli"
    action = sa.Column(sa.String(32), nullable=False)  # sign_in, view_transcript, erase, …
    target = sa.Column(sa.String(255))  # a sender id, booking reference, intent, …
    detail = sa.Column(sa.Text)  # never message texts or personal data


class ConversationReview(Base):
    """Staff's state of one conversation: tags and "reviewed by / when"."""

    __tablename__ = "conversation_reviews"
    sender_id = sa.Column(sa.String(255), primary_key=True)
    tags = sa.Column(sa.Text, nullable=False, default="")  # comma-separated
    reviewed_by = sa.Column(sa.String(64))
    reviewed_at = sa.Column(sa.DateTime)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ConversationNote(Base):
    """An internal note on a conversation (never shown to the user)."""

    __tablename__ = "conversation_notes"
    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    author = sa.Column(sa.String(64), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)


class MessageAnnotation(Base):
    """A reviewer's label on one user message: the intent it should have had, or a new topic."""

    __tablename__ = "message_annotations"
    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    event_id = sa.Column(sa.Integer, nullable=False)  # the tracker store's event id
    text = sa.Column(sa.Text, nullable=False)
    predicted = sa.Column(sa.String(255))
    intent = sa.Column(sa.String(255), nullable=False)
    new_topic = sa.Column(sa.Boolean, nullable=False, default=False)
    annotated_by = sa.Column(sa.String(64), nullable=False)
    annotated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("sender_id", "event_id", name="uq_annotation_message"),)


class ContentEdit(Base):
    """One change of an answer or contact made in the console: the values before and after
    (JSON; ``after`` null = back to the file's text). The newest row per item is live."""

    __tablename__ = "content_edits"
    id = sa.Column(sa.Integer, primary_key=True)
    kind = sa.Column(sa.String(16), nullable=False)  # answer | contact
    key = sa.Column(sa.String(128), nullable=False)  # intent or contact id
    before = sa.Column(sa.Text)
    after = sa.Column(sa.Text)
    author = sa.Column(sa.String(64), nullable=False)
    comment = sa.Column(sa.String(255))
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)

    __table_args__ = (sa.Index("ix_content_edits_item", "kind", "key"),)
