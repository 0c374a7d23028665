"""Thumbs up/down on the assistant's answers, stored for staff review."""
from __future__ import annotations

from bot.store import db
from bot.store.models import Feedback

RATINGS = ("up", "down")
MAX_TEXT = 4000


def record(sender_id: str, bot_message: str, rating: str, comment: str | None = None,
           url: str | None = None) -> int:
    """Store one rating; returns its id. Raises ValueError for a rating other than up/down."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {RATINGS}")
    if not sender_id or not bot_message:
        raise ValueError("sender_id and bot_message are required")
    with db.session(url) as s:
        row = Feedback(sender_id=sender_id[:255], bot_message=bot_message[:MAX_TEXT], rating=rating,
                       comment=(comment or None) and comment[:MAX_TEXT])
        s.add(row)
        s.flush()
        return row.id


def recent(limit: int = 100, url: str | None = None) -> list[Feedback]:
    """The newest ratings first."""
    with db.session(url) as s:
        return list(s.query(Feedback).order_by(Feedback.id.desc()).limit(limit))


def rated_down_since(sender_id: str, since_seconds: float, url: str | None = None) -> bool:
    """Whether this conversation rated an answer down in the last ``since_seconds``."""
    import datetime as dt

    import sqlalchemy as sa

    from bot.store.models import utcnow

    cutoff = utcnow() - dt.timedelta(seconds=since_seconds)
    with db.session(url) as s:
        found = s.scalar(sa.select(Feedback.id).where(
            Feedback.sender_id == sender_id, Feedback.rating == "down", Feedback.created_at >= cutoff).limit(1))
    return found is not None
