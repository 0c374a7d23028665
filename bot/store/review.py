"""Staff's work on conversations: tags, internal notes, "reviewed by / when", and
annotations of user messages with the intent they should have had (or a new topic).

Annotations copy the message text (the export needs it), so they are personal data like the
conversation: ``erase`` removes everything of one conversation and ``purge`` what is older
than the retention period. An annotation's age is its message's (``message_at``, when the
user sent it), not the marking's: the copy goes when the message does, however late it was
marked.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa

from bot import settings
from bot.store import db
from bot.store.models import ConversationNote, ConversationReview, MessageAnnotation, utcnow

MAX_TAGS = 20
MAX_NOTE = 4000
TAG = re.compile(r"[^\wæøåÆØÅ -]+")
INTENT = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Review:
    sender_id: str
    tags: tuple[str, ...]
    reviewed_by: str | None
    reviewed_at: dt.datetime | None


@dataclass(frozen=True)
class Note:
    id: int
    author: str
    text: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Annotation:
    id: int
    sender_id: str
    event_id: int
    text: str
    predicted: str | None
    intent: str
    new_topic: bool
    annotated_by: str
    annotated_at: dt.datetime
    message_at: dt.datetime | None = None  # when the user sent it (UTC); None: marked before 0006


def clean_tags(text: str) -> tuple[str, ...]:
    """"Booking, fejl ,booking" → ("booking", "fejl"): lower case, unique, in order."""
    found: list[str] = []
    for raw in text.split(","):
        tag = " ".join(TAG.sub("", raw).split()).lower()[:40]
        if tag and tag not in found:
            found.append(tag)
    return tuple(found[:MAX_TAGS])


def _review(row: ConversationReview | None, sender_id: str) -> Review:
    if row is None:
        return Review(sender_id, (), None, None)
    return Review(sender_id, tuple(t for t in row.tags.split(",") if t), row.reviewed_by, row.reviewed_at)


def get(sender_id: str, url: str | None = None) -> Review:
    with db.session(url) as s:
        return _review(s.get(ConversationReview, sender_id), sender_id)


def _row(s: sa.orm.Session, sender_id: str) -> ConversationReview:
    row = s.get(ConversationReview, sender_id)
    if row is None:
        row = ConversationReview(sender_id=sender_id, tags="")
        s.add(row)
    return row


def set_tags(sender_id: str, tags: tuple[str, ...], url: str | None = None) -> Review:
    with db.session(url) as s:
        row = _row(s, sender_id)
        row.tags = ",".join(tags)
        row.updated_at = utcnow()
        return _review(row, sender_id)


def set_reviewed(sender_id: str, by: str | None, url: str | None = None) -> Review:
    """Mark as reviewed by ``by`` now; ``None`` marks it as not reviewed again."""
    with db.session(url) as s:
        row = _row(s, sender_id)
        row.reviewed_by, row.reviewed_at = by, (utcnow() if by else None)
        row.updated_at = utcnow()
        return _review(row, sender_id)


def all_reviews(url: str | None = None) -> dict[str, Review]:
    with db.session(url) as s:
        return {r.sender_id: _review(r, r.sender_id) for r in s.scalars(sa.select(ConversationReview))}


def reviewed_senders(url: str | None = None) -> set[str]:
    with db.session(url) as s:
        return set(s.scalars(sa.select(ConversationReview.sender_id)
                             .where(ConversationReview.reviewed_at.is_not(None))))


def add_note(sender_id: str, author: str, text: str, url: str | None = None) -> Note:
    text = text.strip()[:MAX_NOTE]
    if not text:
        raise ValueError("Noten er tom.")
    with db.session(url) as s:
        row = ConversationNote(sender_id=sender_id, author=author, text=text)
        s.add(row)
        s.flush()
        return Note(row.id, row.author, row.text, row.created_at)


def notes(sender_id: str, url: str | None = None) -> list[Note]:
    with db.session(url) as s:
        return [Note(r.id, r.author, r.text, r.created_at) for r in s.scalars(
            sa.select(ConversationNote).where(ConversationNote.sender_id == sender_id)
            .order_by(ConversationNote.id))]


def _annotation(r: MessageAnnotation) -> Annotation:
    return Annotation(r.id, r.sender_id, r.event_id, r.text, r.predicted, r.intent, r.new_topic,
                      r.annotated_by, r.annotated_at, r.message_at)


def annotate(sender_id: str, event_id: int, text: str, intent: str, by: str,
             predicted: str | None = None, new_topic: bool = False, url: str | None = None,
             sent: float | None = None) -> Annotation:
    """Label one user message (a second label of the same message replaces the first).
    ``sent`` is the message's time (the tracker store's epoch seconds); the marking is purged
    by it."""
    intent = intent.strip().lower()
    if not INTENT.match(intent):
        raise ValueError("Intentens navn skal være små bogstaver, tal og understreg (fx ask_parking).")
    with db.session(url) as s:
        row = s.scalars(sa.select(MessageAnnotation).where(
            MessageAnnotation.sender_id == sender_id, MessageAnnotation.event_id == event_id)).first()
        if row is None:
            row = MessageAnnotation(sender_id=sender_id, event_id=event_id)
            s.add(row)
        row.text, row.predicted, row.intent, row.new_topic = text, predicted, intent, new_topic
        row.annotated_by, row.annotated_at = by, utcnow()
        if sent:
            row.message_at = dt.datetime.fromtimestamp(sent, dt.timezone.utc).replace(tzinfo=None)
        s.flush()
        return _annotation(row)


def remove_annotation(annotation_id: int, url: str | None = None) -> Annotation | None:
    with db.session(url) as s:
        row = s.get(MessageAnnotation, annotation_id)
        if row is None:
            return None
        found = _annotation(row)
        s.delete(row)
        return found


def annotations(sender_id: str | None = None, url: str | None = None) -> list[Annotation]:
    query = sa.select(MessageAnnotation).order_by(MessageAnnotation.intent, MessageAnnotation.id)
    if sender_id is not None:
        query = query.where(MessageAnnotation.sender_id == sender_id)
    with db.session(url) as s:
        return [_annotation(r) for r in s.scalars(query)]


def erase(sender_id: str, url: str | None = None) -> int:
    """Delete the review, notes and annotations of one conversation. Returns the row count."""
    plain = {"synchronize_session": False}
    with db.session(url) as s:
        deleted = 0
        for model in (ConversationReview, ConversationNote, MessageAnnotation):
            deleted += s.execute(sa.delete(model).where(model.sender_id == sender_id),
                                 execution_options=plain).rowcount
        return deleted


def purge(days: int | None = None, now: dt.datetime | None = None, url: str | None = None) -> int:
    """Delete notes, annotations and reviews older than the retention period: an annotation
    when its message is (marked before migration 0006, without the message's time: when the
    marking is)."""
    days = settings.retention_days() if days is None else days
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    plain = {"synchronize_session": False}
    with db.session(url) as s:
        deleted = s.execute(sa.delete(ConversationNote).where(ConversationNote.created_at < cutoff),
                            execution_options=plain).rowcount
        sent = sa.func.coalesce(MessageAnnotation.message_at, MessageAnnotation.annotated_at)
        deleted += s.execute(sa.delete(MessageAnnotation).where(sent < cutoff), execution_options=plain).rowcount
        deleted += s.execute(sa.delete(ConversationReview).where(ConversationReview.updated_at < cutoff),
                             execution_options=plain).rowcount
        return deleted
