"""E-mail notifications about visits, with an iCalendar (.ics) invitation, from an outbox.

Notifications are rows in the ``notifications`` table, written together with the booking.
``send_pending`` sends those that are due over SMTP; a failure leaves the row queued with a
back-off (1, 2, 4 … minutes, at most an hour), so nothing is lost while the mail server is
down. ``python -m bot.booking.notify`` runs the sender in a loop (``make run`` starts it).
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
import sys
import threading
import time
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from bot import settings
from bot.store import db
from bot.store.models import PENDING, SENDING, SENT, Booking, Notification, utcnow

logger = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Copenhagen")
MAX_BACKOFF_MINUTES = 60
LEASE_MINUTES = 10
LOOP_SECONDS = 15

SUBJECTS = {
    "booked": "Virksomhedsbesøg booket: {ref}",
    "cancelled": "Virksomhedsbesøg aflyst: {ref}",
    "moved": "Virksomhedsbesøg flyttet: {ref}",
}
INTRO = {
    ("staff", "booked"): "En virksomhed har booket et besøg via Køge Erhvervsbot.",
    ("staff", "cancelled"): "Virksomheden har aflyst besøget via Køge Erhvervsbot.",
    ("staff", "moved"): "Virksomheden har flyttet besøget via Køge Erhvervsbot.",
    ("user", "booked"): "Tak for din booking af et virksomhedsbesøg hos Køge Kommunes erhvervsservice.",
    ("user", "cancelled"): "Dit virksomhedsbesøg hos Køge Kommunes erhvervsservice er aflyst.",
    ("user", "moved"): "Dit virksomhedsbesøg hos Køge Kommunes erhvervsservice er flyttet.",
}


WHEN = {
    "da": (["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
           ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september",
            "oktober", "november", "december"], "{day} {d}. {month} {year} kl. {time}"),
    "en": (["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
           ["January", "February", "March", "April", "May", "June", "July", "August", "September",
            "October", "November", "December"], "{day} {d} {month} {year} at {time}"),
}


def format_when(start: dt.datetime, lang: str = "da") -> str:
    """"tirsdag 24. november 2026 kl. 10.30" / "Tuesday 24 November 2026 at 10.30"."""
    days, months, pattern = WHEN[lang]
    return pattern.format(day=days[start.weekday()], d=start.day, month=months[start.month - 1],
                          year=start.year, time=f"{start:%H.%M}")


def calendar(booking: Booking, event: str) -> bytes:
    """An iCalendar invitation (or cancellation) for the visit."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Koege Erhvervsbot//DA")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if event == "cancelled" else "REQUEST")
    vevent = icalendar.Event()
    vevent.add("uid", f"{booking.reference}@koege-erhvervsbot")
    vevent.add("dtstamp", dt.datetime.now(dt.timezone.utc))
    start = booking.slot_start.replace(tzinfo=TZ)
    vevent.add("dtstart", start)
    vevent.add("dtend", start + dt.timedelta(minutes=booking.duration_minutes))
    vevent.add("summary", f"Virksomhedsbesøg: {booking.company_name} ({booking.reference})")
    vevent.add("location", booking.address or booking.company_name)
    vevent.add("description", f"Emne: {booking.topic}\nKontakt: {booking.contact_name}, "
                              f"{booking.email}, {booking.phone}")
    vevent.add("status", "CANCELLED" if event == "cancelled" else "CONFIRMED")
    vevent.add("sequence", 1 if event != "booked" else 0)
    cal.add_component(vevent)
    return cal.to_ical()


def message(notification: Notification, booking: Booking) -> EmailMessage:
    audience, event = notification.kind.split("_", 1)
    mail = EmailMessage()
    mail["From"] = settings.get("MAIL_FROM")
    mail["To"] = notification.recipient
    mail["Subject"] = SUBJECTS[event].format(ref=booking.reference)
    lines = [
        INTRO[(audience, event)], "",
        f"Bookingnummer: {booking.reference}",
        f"Tidspunkt: {format_when(booking.slot_start)} ({booking.duration_minutes} min.)",
        f"Virksomhed: {booking.company_name}" + (f", CVR {booking.cvr}" if booking.cvr else ""),
    ]
    if booking.address:
        lines.append(f"Adresse: {booking.address}")
    lines += [f"Kontaktperson: {booking.contact_name}, {booking.email}, {booking.phone}",
              f"Emne: {booking.topic}"]
    mail.set_content("\n".join(lines))
    mail.add_attachment(calendar(booking, event), maintype="text", subtype="calendar",
                        filename="besoeg.ics", params={"method": "CANCEL" if event == "cancelled" else "REQUEST"})
    return mail


def _smtp_send(mail: EmailMessage) -> None:
    timeout = float(settings.get("SMTP_TIMEOUT"))
    with smtplib.SMTP(settings.get("SMTP_HOST"), int(settings.get("SMTP_PORT")), timeout=timeout) as smtp:
        if settings.get("SMTP_STARTTLS").lower() == "true":
            smtp.starttls()
        if settings.get("SMTP_USER"):
            smtp.login(settings.get("SMTP_USER"), settings.get("SMTP_PASSWORD"))
        smtp.send_message(mail)


def _claim(notification: Notification, now: dt.datetime, url: str | None) -> bool:
    """Take the notification for this process (several senders may run): a lease of
    LEASE_MINUTES, after which a sender that died mid-send is replaced."""
    with db.session(url) as s:
        claimed = s.execute(sa.update(Notification).where(
            Notification.id == notification.id, Notification.status.in_([PENDING, SENDING]),
            Notification.next_attempt_at <= now,
        ).values(status=SENDING, next_attempt_at=now + dt.timedelta(minutes=LEASE_MINUTES)))
        return claimed.rowcount == 1


def send_pending(url: str | None = None, now: dt.datetime | None = None, limit: int = 50) -> int:
    """Send due notifications; returns how many were sent. Failures stay queued."""
    now = now or utcnow()
    with db.session(url) as s:
        due = list(s.scalars(sa.select(Notification).where(
            Notification.status.in_([PENDING, SENDING]), Notification.next_attempt_at <= now
        ).order_by(Notification.id).limit(limit)))
        bookings = {b.id: b for b in s.scalars(sa.select(Booking).where(
            Booking.id.in_([n.booking_id for n in due])))}
    sent = 0
    for notification in due:
        if not _claim(notification, now, url):
            continue  # another sender has it
        try:
            _smtp_send(message(notification, bookings[notification.booking_id]))
        except (OSError, smtplib.SMTPException) as err:
            delay = min(2 ** notification.attempts, MAX_BACKOFF_MINUTES)
            logger.warning("notification %s not sent (%s); retry in %s min",
                           notification.id, type(err).__name__, delay)
            update = {"status": PENDING, "attempts": notification.attempts + 1,
                      "last_error": type(err).__name__, "next_attempt_at": now + dt.timedelta(minutes=delay)}
        else:
            sent += 1
            update = {"status": SENT, "sent_at": utcnow(), "attempts": notification.attempts + 1}
        with db.session(url) as s:
            s.execute(sa.update(Notification).where(Notification.id == notification.id).values(**update))
    return sent


def send_soon(url: str | None = None) -> None:
    """Send due notifications in the background now, instead of at the sender's next round."""
    def run() -> None:
        try:
            send_pending(url)
        except sa.exc.SQLAlchemyError as err:
            logger.error("outbox not reachable: %s", type(err).__name__)

    threading.Thread(target=run, name="send-notifications", daemon=True).start()


def main() -> int:
    """Send due notifications every LOOP_SECONDS until stopped."""
    logging.basicConfig(level=settings.get("LOG_LEVEL"), format="%(asctime)s %(levelname)s %(message)s")
    db.migrate()
    while True:
        try:
            send_pending()
        except sa.exc.SQLAlchemyError as err:
            logger.error("outbox not reachable: %s", type(err).__name__)
        time.sleep(LOOP_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
