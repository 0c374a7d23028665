"""The dashboard's figures, from the conversation summaries and the assistant's database."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa

from bot.console.training import normalise
from bot.store import db
from bot.store.conversations import FALLBACK_INTENT, Summary
from bot.store.models import Booking, Feedback


@dataclass
class Dashboard:
    start: dt.date
    end: dt.date
    per_day: list[tuple[dt.date, int]] = field(default_factory=list)
    per_channel: list[tuple[str, int]] = field(default_factory=list)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    unanswered: list[tuple[str, int, str]] = field(default_factory=list)  # text, count, a sender id
    conversations: int = 0
    answered: int = 0  # without fallback, clarification or a request for a person
    messages: int = 0
    failed_messages: int = 0
    bookings: int = 0
    bookings_cancelled: int = 0
    feedback_up: int = 0
    feedback_down: int = 0

    @property
    def answered_share(self) -> float | None:
        return self.answered / self.conversations if self.conversations else None

    @property
    def fallback_rate(self) -> float | None:
        return self.failed_messages / self.messages if self.messages else None


def compute(summaries: list[Summary], start: dt.date, end: dt.date, url: str | None = None,
            top: int = 10) -> Dashboard:
    """Figures for conversations started from ``start`` to ``end`` (local dates, inclusive)."""
    board = Dashboard(start, end)
    days: Counter[dt.date] = Counter()
    channels: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    example: dict[str, tuple[str, str]] = {}
    for s in summaries:
        started = s.started
        if started is None or not start <= started.date() <= end:
            continue
        board.conversations += 1
        days[started.date()] += 1
        channels[s.channel] += 1
        if not (s.failed or s.person):
            board.answered += 1
        for m in s.messages:
            if m.is_payload:
                continue
            board.messages += 1
            intents[m.intent or FALLBACK_INTENT] += 1  # as classified: a fallback counts as nlu_fallback
            if m.unanswered:
                board.failed_messages += 1
                key = normalise(m.text)
                unanswered[key] += 1
                example.setdefault(key, (m.text, s.sender_id))
    span = (end - start).days + 1
    board.per_day = [(start + dt.timedelta(days=i), days[start + dt.timedelta(days=i)]) for i in range(span)]
    board.per_channel = sorted(channels.items(), key=lambda kv: (-kv[1], kv[0]))
    board.top_intents = intents.most_common(top)
    board.unanswered = [(example[k][0], n, example[k][1]) for k, n in unanswered.most_common(top)]
    low = dt.datetime.combine(start, dt.time()) - dt.timedelta(days=1)  # UTC vs local: a day's margin
    high = dt.datetime.combine(end, dt.time()) + dt.timedelta(days=2)
    with db.session(url) as session:
        made = session.execute(sa.select(Booking.status, sa.func.count()).where(
            Booking.created_at >= low, Booking.created_at < high).group_by(Booking.status)).all()
        rated = session.execute(sa.select(Feedback.rating, sa.func.count()).where(
            Feedback.created_at >= low, Feedback.created_at < high).group_by(Feedback.rating)).all()
    board.bookings = sum(n for _, n in made)
    board.bookings_cancelled = sum(n for status, n in made if status == "cancelled")
    board.feedback_up = sum(n for rating, n in rated if rating == "up")
    board.feedback_down = sum(n for rating, n in rated if rating == "down")
    return board
