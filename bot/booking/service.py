"""Storing, finding, cancelling and moving company visits.

A booking and the notifications about it are written in one transaction, so a booking is
never stored without its staff notification and never reported as booked unless stored.
A time slot holds one active booking (the database's partial unique index); a cancelled or
moved visit frees its slot. Confirming the same visit twice in one conversation books once.

References look like ``KB-2026-7QH4KM``: the year and six random characters from an alphabet
without look-alikes, so one booking's reference says nothing about another's.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass, fields

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import settings
from bot.booking import availability
from bot.store import db
from bot.store.models import BOOKED, CANCELLED, Booking, Notification

#: Crockford's base32 alphabet: no I, L, O or U to misread.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 6
REFERENCE = re.compile(r"\bKB[\s-]?(\d{4})[\s-]?([0-9A-Z]{4,8})\b", re.IGNORECASE)
EMAIL_LENGTH = 254  # RFC 5321
MAX_TOPIC = 1000


def _column_length(name: str) -> int:
    return Booking.__table__.c[name].type.length


#: The longest answer each form slot may have: what its column holds.
FIELD_LENGTHS: dict[str, int] = {
    "company_name": _column_length("company_name"),
    "company_address": _column_length("address"),
    "contact_name": _column_length("contact_name"),
    "email": min(EMAIL_LENGTH, _column_length("email")),
    "phone": _column_length("phone"),
    "visit_topic": MAX_TOPIC,
}
#: VisitRequest field -> form slot, where the names differ.
_SLOT_OF = {"address": "company_address", "topic": "visit_topic"}


class SlotTaken(Exception):
    """Another booking holds the slot (the database's unique index said so)."""


class BookingNotFound(LookupError):
    """No active booking with that reference and e-mail."""


class InvalidRequest(ValueError):
    """A value is longer than its column holds; ``field`` is the form slot, ``limit`` the length."""

    def __init__(self, field: str, limit: int) -> None:
        super().__init__(f"{field} longer than {limit}")
        self.field = field
        self.limit = limit


class StoreUnavailable(RuntimeError):
    """The database did not answer: nothing was stored (the transaction was rolled back)."""


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
        """Identifies one confirmation: the same conversation, slot and e-mail."""
        raw = "|".join([self.sender_id, self.slot_start.isoformat(), self.email.lower()])
        return hashlib.sha256(raw.encode()).hexdigest()

    def check(self) -> None:
        """Raise ``InvalidRequest`` for a value longer than its column."""
        for item in fields(self):
            value = getattr(self, item.name)
            slot = _SLOT_OF.get(item.name, item.name)
            if isinstance(value, str) and slot in FIELD_LENGTHS and len(value) > FIELD_LENGTHS[slot]:
                raise InvalidRequest(slot, FIELD_LENGTHS[slot])


def new_reference(year: int, prefix: str = "KB") -> str:
    """``KB-2026-7QH4KM``: a prefix (KB booking, OR callback request), the year, six random
    characters, so that one reference says nothing about another."""
    return f"{prefix}-{year}-" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def parse_reference(text: str) -> str | None:
    """``KB-2026-7QH4KM`` from "kb 2026 7qh4km", "KB20267QH4KM" or "booking KB-2026-7QH4KM"
    (also the older all-digit form, "KB-2026-0042")."""
    match = REFERENCE.search(text[:500].replace("\u00a0", " "))
    return f"KB-{match.group(1)}-{match.group(2).upper()}" if match else None


def _notify(session: sa.orm.Session, booking: Booking, event: str, send_copy: bool) -> None:
    session.add(Notification(booking_id=booking.id, kind=f"staff_{event}",
                             recipient=settings.get("STAFF_EMAIL")))
    if send_copy:
        session.add(Notification(booking_id=booking.id, kind=f"user_{event}", recipient=booking.email))


def _active_in_slot(slot_start: dt.datetime, url: str | None) -> Booking | None:
    with db.session(url) as s:
        return s.scalars(sa.select(Booking).where(Booking.slot_start == slot_start,
                                                  Booking.status == BOOKED)).first()


def book(request: VisitRequest, url: str | None = None, attempts: int = 3) -> Booking:
    """Store the visit and queue its notifications.

    Raises ``SlotTaken`` (another conversation holds the slot), ``InvalidRequest`` and
    ``StoreUnavailable``. The same conversation confirming again gets its booking back.
    """
    request.check()
    for _ in range(attempts):
        try:
            with db.session(url) as s:
                booking = Booking(
                    request_key=request.key(), sender_id=request.sender_id,
                    reference=new_reference(request.slot_start.year),
                    company_name=request.company_name, cvr=request.cvr, address=request.address,
                    contact_name=request.contact_name, email=request.email, phone=request.phone,
                    topic=request.topic, slot_start=request.slot_start, language=request.language,
                    duration_minutes=availability.default().duration_minutes, status=BOOKED,
                )
                s.add(booking)
                s.flush()
                _notify(s, booking, "booked", request.send_copy)
            return booking
        except IntegrityError:
            existing = _active_in_slot(request.slot_start, url)
            if existing is not None:
                if existing.request_key == request.key():
                    return existing  # the same confirmation again
                raise SlotTaken(request.slot_start) from None
            # no active booking in the slot: the random reference collided; draw another
        except OperationalError:
            raise StoreUnavailable("database") from None
    raise StoreUnavailable("reference")


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
    """Cancel the booking (its slot is free again). Raises BookingNotFound."""
    booking = find(reference, email, url)
    with db.session(url) as s:
        booking = s.get(Booking, booking.id)
        booking.status = CANCELLED
        booking.sequence += 1
        _notify(s, booking, "cancelled", send_copy)
    return booking


def move(reference: str, email: str, new_start: dt.datetime, send_copy: bool = True,
         url: str | None = None) -> Booking:
    """Move a booking to another slot (the old one is free again). Raises BookingNotFound or
    SlotTaken."""
    booking = find(reference, email, url)
    try:
        with db.session(url) as s:
            booking = s.get(Booking, booking.id)
            booking.slot_start = new_start
            booking.sequence += 1
            s.flush()
            _notify(s, booking, "moved", send_copy)
    except IntegrityError:
        raise SlotTaken(new_start) from None
    return booking
