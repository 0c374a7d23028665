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
    """An e-mail waiting to be sent (outbox): kept until sent, retried with back-off. It is
    about a booking or a callback request (one of the two keys is set); ``kind`` says which
    e-mail (``bot/notify``)."""

    __tablename__ = "notifications"
    id = sa.Column(sa.Integer, primary_key=True)
    booking_id = sa.Column(sa.Integer, sa.ForeignKey("bookings.id", ondelete="CASCADE"))
    callback_id = sa.Column(sa.Integer, sa.ForeignKey("callback_requests.id", ondelete="CASCADE"))
    kind = sa.Column(sa.String(32), nullable=False)  # staff_booked, user_booked, staff_callback, …
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
    #: Sessions carry the value of their sign-in; raising it (sign-out, new password, disabling)
    #: ends every session of the member, also copied cookies (migration 0005).
    session_generation = sa.Column(sa.Integer, nullable=False, default=0, server_default="0")

    __table_args__ = (sa.CheckConstraint("role IN ('reviewer', 'admin')", name="ck_staff_role"),)


class SignInFailure(Base):
    """Wrong sign-ins in a row for one (name, source address) pair, and its back-off. Both are
    stored as SHA-256 digests only: the name may be a mistyped password, the address is personal
    data (migration 0005)."""

    __tablename__ = "staff_sign_in_failures"
    pair = sa.Column(sa.String(64), primary_key=True)  # sha256(name, address)
    name_key = sa.Column(sa.String(64), nullable=False, index=True)  # sha256(name): a new password clears it
    failures = sa.Column(sa.Integer, nullable=False, default=0)
    last_failure_at = sa.Column(sa.DateTime, nullable=False, index=True)
    locked_until = sa.Column(sa.DateTime)


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
    #: When the user sent the message (UTC; migration 0006): ``text`` copies it, so the
    #: marking is purged with the message, not later. Null for markings made before 0006.
    message_at = sa.Column(sa.DateTime)

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


class DocumentVersion(Base):
    """One version of a document staff keep in the console (migration 0008): added, replaced,
    retired or restored. The newest row per ``doc_id`` is the document's state; older rows are
    its history. ``text`` null: the file's version in ``data/documents`` (metadata too); a
    document of the files with a stored text is replaced by it. ``retired``: not answered from."""

    __tablename__ = "document_versions"
    id = sa.Column(sa.Integer, primary_key=True)
    doc_id = sa.Column(sa.String(128), nullable=False, index=True)
    action = sa.Column(sa.String(16), nullable=False)  # add | replace | retire | restore | file
    kind = sa.Column(sa.String(16))  # policy_draft | policy | article
    title = sa.Column(sa.String(255))
    title_en = sa.Column(sa.String(255))
    publisher = sa.Column(sa.String(255))
    source = sa.Column(sa.String(1000))
    verified = sa.Column(sa.Date)
    sections = sa.Column(sa.Text)  # JSON list of section titles (the outline), in order
    text = sa.Column(sa.Text)
    origin = sa.Column(sa.String(8))  # txt | html | pdf | paste: what the text was extracted from
    filename = sa.Column(sa.String(255))
    retired = sa.Column(sa.Boolean, nullable=False, default=False, server_default=sa.false())
    author = sa.Column(sa.String(64), nullable=False)
    comment = sa.Column(sa.String(255))
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)


# --- human handover (bot/handover; migration 0004) ---

WAITING = "waiting"  # in the console's queue, the assistant paused
CLAIMED = "claimed"  # a member of staff is talking with the user
HANDED_BACK = "handed_back"  # the assistant answers again
CLOSED = "closed"  # staff closed the conversation
TIMED_OUT = "timed_out"  # nobody claimed in time: the user was offered a callback
LEFT = "left"  # the user ended it (the widget's "Afslut samtalen med medarbejderen")
OPEN_HANDOVER = (WAITING, CLAIMED)
CALLBACK_STATES = ("new", "in_progress", "done")


class Handover(Base):
    """A conversation handed to a person. At most one open (waiting or claimed) per
    conversation; the state lives here, not in a process, so it holds with several Rasa
    instances and across restarts."""

    __tablename__ = "handovers"
    id = sa.Column(sa.Integer, primary_key=True)
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    channel = sa.Column(sa.String(16), nullable=False)  # socketio | telegram | rest
    language = sa.Column(sa.String(2), nullable=False, default="da")
    reason = sa.Column(sa.String(16), nullable=False, default="asked")  # asked | fallbacks | feedback
    status = sa.Column(sa.String(16), nullable=False, default=WAITING)
    topic = sa.Column(sa.String(255))  # the summary: what the conversation was about …
    company = sa.Column(sa.String(255))  # … the company, if the user named one …
    answered = sa.Column(sa.Text)  # … and the topics the assistant already answered
    claimed_by = sa.Column(sa.String(64))
    requested_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    claimed_at = sa.Column(sa.DateTime)
    active_at = sa.Column(sa.DateTime)  # the claimer's last action (claim or reply): idle time-out
    ended_at = sa.Column(sa.DateTime)

    __table_args__ = (
        sa.Index("uq_handover_open", "sender_id", unique=True,
                 sqlite_where=sa.text("status IN ('waiting', 'claimed')"),
                 postgresql_where=sa.text("status IN ('waiting', 'claimed')")),
    )


class CallbackRequest(Base):
    """A request to be called (or written to) by the business service."""

    __tablename__ = "callback_requests"
    id = sa.Column(sa.Integer, primary_key=True)
    reference = sa.Column(sa.String(24), nullable=False, unique=True)  # OR-2026-7QH4KM
    sender_id = sa.Column(sa.String(255), nullable=False, index=True)
    name = sa.Column(sa.String(255), nullable=False)
    phone = sa.Column(sa.String(32))
    email = sa.Column(sa.String(255))
    cvr = sa.Column(sa.String(8))
    topic = sa.Column(sa.Text, nullable=False)
    time_window = sa.Column(sa.String(255), nullable=False)
    language = sa.Column(sa.String(2), nullable=False, default="da")
    consent_at = sa.Column(sa.DateTime, nullable=False)  # when the user agreed to be contacted
    status = sa.Column(sa.String(16), nullable=False, default="new")
    handled_by = sa.Column(sa.String(64))
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("phone IS NOT NULL OR email IS NOT NULL", name="ck_callback_reachable"),
        sa.CheckConstraint("status IN ('new', 'in_progress', 'done')", name="ck_callback_status"),
    )


class StaffedHours(Base):
    """The console's version of the staffed hours (JSON: weekdays and closing days); the
    newest row is live, older rows are the history. No row: ``data/knowledge/staffed_hours.yml``."""

    __tablename__ = "staffed_hours"
    id = sa.Column(sa.Integer, primary_key=True)
    schedule = sa.Column(sa.Text, nullable=False)
    author = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=utcnow)
