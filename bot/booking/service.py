"""Storing, finding, cancelling and moving company visits.

A booking and the notifications about it are written in one transaction, so a booking is
never stored without its staff notification and never reported as booked unless stored.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot import settings
from bot.booking import availability
from bot.store import db
from bot.store.models import BOOKED, CANCELLED, Booking, Notification

REFERENCE = re.compile(r"\bKB[\s-]?(\d{4})[\s-]?(\d{1,6})\b", re.IGNORECASE)


class SlotTaken(Exception):
    """Another booking holds the slot (the database's unique index said so)."""


class BookingNotFound(LookupError):
    """No active booking with that reference and e-mail."""


@dataclass(frozen=True)
class VisitRequest:
    sender_id: str
    company_name: str
    contact_name: str
    email: str
    phone: str
    topic: str
    slot_start: dt.datetime
    cvr: str | None = None
    address: str | None = None
    language: str = "da"
    send_copy: bool = False

    def key(self) -> str:
        """Identifies one confirmation: confirming the same request twice books once."""
        raw = "|".join([self.sender_id, self.slot_start.isoformat(), self.email.lower()])
        return hashlib.sha256(raw.encode()).hexdigest()


def format_reference(booking_id: int, year: int) -> str:
    return f"KB-{year}-{booking_id:04d}"


def parse_reference(text: str) -> str | None:
    """``KB-2026-0042`` from "kb 2026 42", "KB20260042" or "booking KB-2026-0042"."""
    match = REFERENCE.search(text.replace(" ", " "))
    return format_reference(int(match.group(2)), int(match.group(1))) if match else None


def _notify(session: sa.orm.Session, booking: Booking, event: str, send_copy: bool) -> None:
    session.add(Notification(booking_id=booking.id, kind=f"staff_{event}",
                             recipient=settings.get("STAFF_EMAIL")))
    if send_copy:
        session.add(Notification(booking_id=booking.id, kind=f"user_{event}", recipient=booking.email))


def book(request: VisitRequest, url: str | None = None) -> Booking:
    """Store the visit and queue its notifications. Raises SlotTaken."""
    try:
        with db.session(url) as s:
            booking = Booking(
                request_key=request.key(), sender_id=request.sender_id,
                company_name=request.company_name, cvr=request.cvr, address=request.address,
                contact_name=request.contact_name, email=request.email, phone=request.phone,
                topic=request.topic, slot_start=request.slot_start, language=request.language,
                duration_minutes=availability.default().duration_minutes, status=BOOKED,
            )
            s.add(booking)
            s.flush()
            booking.reference = format_reference(booking.id, booking.created_at.year)
            _notify(s, booking, "booked", request.send_copy)
        return booking
    except IntegrityError:
        with db.session(url) as s:
            existing = s.scalars(sa.select(Booking).where(Booking.request_key == request.key())).first()
        if existing is not None and existing.status == BOOKED:
            return existing  # the same confirmation again
        raise SlotTaken(request.slot_start) from None


def booked_slots(since: dt.datetime, url: str | None = None) -> list[dt.datetime]:
    with db.session(url) as s:
        return list(s.scalars(sa.select(Booking.slot_start).where(
            Booking.status == BOOKED, Booking.slot_start >= since)))


def find(reference: str, email: str, url: str | None = None) -> Booking:
    """The active booking with this reference whose e-mail matches. Raises BookingNotFound."""
    with db.session(url) as s:
        booking = s.scalars(sa.select(Booking).where(
            Booking.reference == reference.upper(), Booking.status == BOOKED)).first()
    if booking is None or booking.email.lower() != email.strip().lower():
        raise BookingNotFound(reference)
    return booking


def cancel(reference: str, email: str, send_copy: bool = True, url: str | None = None) -> Booking:
    booking = find(reference, email, url)
    with db.session(url) as s:
        booking = s.get(Booking, booking.id)
        booking.status = CANCELLED
        _notify(s, booking, "cancelled", send_copy)
    return booking


def move(reference: str, email: str, new_start: dt.datetime, send_copy: bool = True,
         url: str | None = None) -> Booking:
    """Move a booking to another slot. Raises BookingNotFound or SlotTaken."""
    booking = find(reference, email, url)
    try:
        with db.session(url) as s:
            booking = s.get(Booking, booking.id)
            booking.slot_start = new_start
            s.flush()
            _notify(s, booking, "moved", send_copy)
    except IntegrityError:
        raise SlotTaken(new_start) from None
    return booking
