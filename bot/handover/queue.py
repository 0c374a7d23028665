"""The handover queue in the database: request, claim, hand back, close, time out, and the
user's own end (``leave``).

Every change is one conditional UPDATE (``WHERE status = …``), so two members of staff
claiming at once, or a claim racing the time-out, leave exactly one winner; a partial unique
index allows one open (waiting or claimed) handover per conversation.
"""
from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot import settings
from bot.store import db
from bot.store.models import (
    CLAIMED,
    CLOSED,
    HANDED_BACK,
    LEFT,
    OPEN_HANDOVER,
    TIMED_OUT,
    WAITING,
    Handover,
    utcnow,
)

MAX_SUMMARY = 255
RECENT_CLAIMS = 20


class HandoverError(Exception):
    """The handover is not in a state that allows this (someone else claimed it, it ended)."""


@dataclass(frozen=True)
class Request:
    """What the assistant knows when a user asks for a person."""

    sender_id: str
    channel: str
    language: str = "da"
    reason: str = "asked"
    topic: str | None = None
    company: str | None = None
    answered: str | None = None


def _cut(text: str | None, limit: int = MAX_SUMMARY) -> str | None:
    return text[:limit] if text else None


def open_for(sender_id: str, url: str | None = None) -> Handover | None:
    """The conversation's waiting or claimed handover, if any."""
    with db.session(url) as s:
        return s.scalars(sa.select(Handover).where(
            Handover.sender_id == sender_id, Handover.status.in_(OPEN_HANDOVER))).first()


def latest_for(sender_id: str, url: str | None = None) -> Handover | None:
    """The conversation's newest handover, open or ended, if any."""
    with db.session(url) as s:
        return s.scalars(sa.select(Handover).where(Handover.sender_id == sender_id)
                         .order_by(Handover.id.desc()).limit(1)).first()


def request(req: Request, url: str | None = None) -> tuple[Handover, bool]:
    """Put the conversation in the queue: (its handover, True if new). Asking again while
    waiting keeps the place in the queue."""
    existing = open_for(req.sender_id, url)
    if existing is not None:
        return existing, False
    try:
        with db.session(url) as s:
            row = Handover(sender_id=req.sender_id, channel=req.channel[:16], language=req.language,
                           reason=req.reason, status=WAITING, topic=_cut(req.topic),
                           company=_cut(req.company), answered=_cut(req.answered, 2000))
            s.add(row)
            s.flush()
        return row, True
    except IntegrityError:  # the same conversation asked twice at once
        found = open_for(req.sender_id, url)
        if found is None:
            raise
        return found, False


def get(handover_id: int, url: str | None = None) -> Handover | None:
    with db.session(url) as s:
        return s.get(Handover, handover_id)


def listing(url: str | None = None, ended_limit: int = 20) -> tuple[list[Handover], list[Handover]]:
    """(waiting and claimed, oldest first; the most recently ended)."""
    with db.session(url) as s:
        open_ = list(s.scalars(sa.select(Handover).where(Handover.status.in_(OPEN_HANDOVER))
                               .order_by(Handover.requested_at, Handover.id)))
        ended = list(s.scalars(sa.select(Handover).where(Handover.status.not_in(OPEN_HANDOVER))
                               .order_by(Handover.ended_at.desc(), Handover.id.desc()).limit(ended_limit)))
    return open_, ended


def position(handover: Handover, url: str | None = None) -> int:
    """1 for the first in the queue."""
    with db.session(url) as s:
        ahead = s.scalar(sa.select(sa.func.count()).select_from(Handover).where(
            Handover.status == WAITING, Handover.id < handover.id))
    return int(ahead or 0) + 1


def expected_wait_minutes(url: str | None = None) -> int:
    """The median wait of the last claims, in whole minutes (at least 1), or the claim time-out
    when there is no history; never more than the time-out (after it, a callback is offered)."""
    limit = max(1, round(settings.number("HANDOVER_CLAIM_MINUTES")))
    with db.session(url) as s:
        rows = s.execute(sa.select(Handover.requested_at, Handover.claimed_at).where(
            Handover.claimed_at.is_not(None)).order_by(Handover.id.desc()).limit(RECENT_CLAIMS)).all()
    if not rows:
        return limit
    median = statistics.median((c - r).total_seconds() for r, c in rows)
    return max(1, min(limit, int(-(-median // 60))))


def _change(handover_id: int, allowed: tuple[str, ...], url: str | None, **values: object) -> Handover:
    with db.session(url) as s:
        done = s.execute(sa.update(Handover).where(Handover.id == handover_id, Handover.status.in_(allowed))
                         .values(**values))
        if done.rowcount != 1:
            raise HandoverError(handover_id)
        return s.get(Handover, handover_id)


def claim(handover_id: int, staff: str, url: str | None = None) -> Handover:
    """Take a waiting conversation; HandoverError if someone else was first or it ended."""
    now = utcnow()
    return _change(handover_id, (WAITING,), url, status=CLAIMED, claimed_by=staff[:64], claimed_at=now,
                   active_at=now)


def touch(handover_id: int, staff: str, url: str | None = None) -> None:
    """The claimer acted (a reply): the idle time-out starts again."""
    with db.session(url) as s:
        s.execute(sa.update(Handover).where(Handover.id == handover_id, Handover.status == CLAIMED,
                                            Handover.claimed_by == staff[:64]).values(active_at=utcnow()))


def unclaim(handover_id: int, staff: str, url: str | None = None) -> None:
    """Undo a claim whose message could not reach the user (back to the queue)."""
    with db.session(url) as s:
        s.execute(sa.update(Handover).where(Handover.id == handover_id, Handover.status == CLAIMED,
                                            Handover.claimed_by == staff[:64])
                  .values(status=WAITING, claimed_by=None, claimed_at=None, active_at=None))


def reopen(handover_id: int, url: str | None = None) -> None:
    """Undo an end whose message could not reach the user: claimed again if it had been
    claimed (``claimed_by`` says so), else waiting."""
    state = sa.case((Handover.claimed_by.is_not(None), CLAIMED), else_=WAITING)
    with db.session(url) as s:
        s.execute(sa.update(Handover).where(Handover.id == handover_id, Handover.status.in_((CLOSED, HANDED_BACK, LEFT)))
                  .values(status=state, ended_at=None))


def end(handover_id: int, staff: str, close: bool, url: str | None = None, admin: bool = False) -> Handover:
    """Hand back to the assistant (``close`` False) or close. Only the member of staff who
    claimed it, or an ``admin`` (a colleague who left it open), can end a claimed handover; a
    waiting one can be ended by anyone. One conditional UPDATE, so a claim by someone else in
    between is never ended by mistake."""
    claimed = Handover.status == CLAIMED if admin else sa.and_(Handover.status == CLAIMED,
                                                               Handover.claimed_by == staff[:64])
    with db.session(url) as s:
        done = s.execute(sa.update(Handover).where(Handover.id == handover_id,
                                                   sa.or_(Handover.status == WAITING, claimed))
                         .values(status=CLOSED if close else HANDED_BACK, ended_at=utcnow()))
        if done.rowcount != 1:
            raise HandoverError(handover_id)
        return s.get(Handover, handover_id)


def leave(handover_id: int, url: str | None = None) -> Handover:
    """The user ends the handover, waiting or claimed (``LEFT``); HandoverError if it ended
    meanwhile. The row keeps whether it had been claimed (``claimed_by``)."""
    return _change(handover_id, OPEN_HANDOVER, url, status=LEFT, ended_at=utcnow())


def _minutes_ago(setting: str, now: dt.datetime | None) -> dt.datetime:
    return (now or utcnow()) - dt.timedelta(minutes=settings.number(setting))


def expire(now: dt.datetime | None = None, url: str | None = None) -> list[Handover]:
    """Waiting handovers older than ``HANDOVER_CLAIM_MINUTES``, marked timed out (each returned
    once, even with several console processes)."""
    cutoff = _minutes_ago("HANDOVER_CLAIM_MINUTES", now)
    with db.session(url) as s:
        ids = list(s.scalars(sa.select(Handover.id).where(Handover.status == WAITING,
                                                          Handover.requested_at <= cutoff)))
    expired = []
    for handover_id in ids:
        try:
            expired.append(_change(handover_id, (WAITING,), url, status=TIMED_OUT, ended_at=utcnow()))
        except HandoverError:
            continue  # claimed meanwhile, or another process took it
    return expired


def release_idle(now: dt.datetime | None = None, url: str | None = None) -> list[Handover]:
    """Claimed handovers whose member of staff has not acted for ``HANDOVER_IDLE_MINUTES`` (they
    left without handing back), handed back to the assistant; each returned once. The UPDATE
    checks the time again, so a reply in between keeps the conversation with its claimer."""
    cutoff = _minutes_ago("HANDOVER_IDLE_MINUTES", now)
    idle = sa.and_(Handover.status == CLAIMED, sa.func.coalesce(Handover.active_at, Handover.claimed_at) <= cutoff)
    with db.session(url) as s:
        ids = list(s.scalars(sa.select(Handover.id).where(idle)))
    released = []
    for handover_id in ids:
        with db.session(url) as s:
            done = s.execute(sa.update(Handover).where(Handover.id == handover_id, idle)
                             .values(status=HANDED_BACK, ended_at=utcnow())
                             .execution_options(synchronize_session=False))
            if done.rowcount == 1:
                released.append(s.get(Handover, handover_id))
    return released
