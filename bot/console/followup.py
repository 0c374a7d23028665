"""Staff's follow-up of visit bookings: new → confirmed → done, or cancelled, with the user
informed by e-mail through the outbox (the notification sender mails it)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from bot.store import db
from bot.store.models import BOOKED, CANCELLED, FOLLOW_UPS, Booking, Notification

#: What staff can choose: the three follow-up states and cancelled.
STATES = {"new": "Ny", "confirmed": "Bekræftet", "done": "Gennemført", "cancelled": "Aflyst"}


class FollowUpError(ValueError):
    """The change cannot be made (Danish message)."""


@dataclass(frozen=True)
class Change:
    reference: str
    before: str
    after: str
    informed: bool  # an e-mail to the user was queued


def state(booking: Booking) -> str:
    return CANCELLED if booking.status == CANCELLED else (booking.follow_up or "new")


def _user_notice(event: str) -> bool:
    """Whether the notification sender can write this e-mail to the user (its subject and
    introduction are responses in domain.yml, see ``bot.booking.notify.message``)."""
    from bot import wording

    try:
        wording.variant(f"utter_email_subject_{event}")
        wording.variant(f"utter_email_intro_user_{event}")
    except wording.MissingWording:
        return False
    return True


def set_state(booking_id: int, new: str, url: str | None = None) -> Change:
    """Change a booking's follow-up state; cancelling frees the slot. The user gets an e-mail
    when the visit is cancelled or confirmed (if the sender knows that e-mail)."""
    if new not in STATES:
        raise FollowUpError("Ukendt status.")
    with db.session(url) as s:
        booking = s.get(Booking, booking_id)
        if booking is None:
            raise FollowUpError("Bookingen findes ikke.")
        before = state(booking)
        if before == new:
            return Change(booking.reference or "", before, new, False)
        if before == CANCELLED:
            raise FollowUpError("En aflyst booking kan ikke genåbnes: tiden kan være booket af en anden.")
        informed = False
        if new == CANCELLED:
            booking.status = CANCELLED
            if hasattr(booking, "sequence"):  # the calendar invitation's version (migration 0002)
                booking.sequence = (booking.sequence or 0) + 1
            event = "cancelled"
        else:
            booking.follow_up = new
            event = "confirmed" if new == "confirmed" else ""
        if event and _user_notice(event):
            s.add(Notification(booking_id=booking.id, kind=f"user_{event}", recipient=booking.email))
            informed = True
        return Change(booking.reference or "", before, new, informed)


def bookings(state_filter: str = "", upcoming: bool | None = None, now: dt.datetime | None = None,
             url: str | None = None) -> list[Booking]:
    """Bookings, the soonest visit first (upcoming) or the latest first (past / all)."""
    now = now or dt.datetime.now()
    query = sa.select(Booking)
    if state_filter == CANCELLED:
        query = query.where(Booking.status == CANCELLED)
    elif state_filter in FOLLOW_UPS:
        query = query.where(Booking.status == BOOKED, Booking.follow_up == state_filter)
    if upcoming is True:
        query = query.where(Booking.slot_start >= now).order_by(Booking.slot_start)
    elif upcoming is False:
        query = query.where(Booking.slot_start < now).order_by(Booking.slot_start.desc())
    else:
        query = query.order_by(Booking.slot_start.desc())
    with db.session(url) as s:
        return list(s.scalars(query))


def as_row(b: Booking) -> dict[str, str]:
    """One booking as the CSV export and the page show it."""
    return {
        "id": str(b.id), "reference": b.reference or "", "tidspunkt": f"{b.slot_start:%Y-%m-%d %H:%M}",
        "status": STATES[state(b)], "opfoelgning": state(b), "virksomhed": b.company_name, "cvr": b.cvr or "",
        "adresse": b.address or "", "kontaktperson": b.contact_name, "email": b.email, "telefon": b.phone,
        "emne": b.topic, "sprog": b.language, "oprettet": f"{b.created_at:%Y-%m-%d %H:%M}", "samtale": b.sender_id,
    }
