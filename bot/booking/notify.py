"""The outbox: every e-mail the assistant sends. About visits (with an iCalendar invitation)
and about callback requests (``bot.handover.callbacks``).

Notifications are rows in the ``notifications`` table, written together with the booking or
the callback request they are about.
``send_pending`` sends those that are due over SMTP (or, with ``SMTP_HOST`` empty, the development default,
writes them as .eml files to ``MAIL_DROP_DIR``); a failure leaves the row queued with a
back-off (``NOTIFY_RETRY_SECONDS``, then twice as long each time, at most an hour), so nothing
is lost while the mail server is down. ``python -m bot.booking.notify`` runs the sender in a loop (``make run`` starts it), with
``GET /health`` and ``GET /metrics`` on ``NOTIFY_INTERFACE:NOTIFY_PORT``.
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
import sys
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import sqlalchemy as sa

from bot import logs, metrics, settings, wording
from bot.store import db
from bot.store.models import PENDING, SENDING, SENT, Booking, CallbackRequest, Notification, utcnow

logger = logging.getLogger(__name__)
TZ = ZoneInfo("Europe/Copenhagen")
MAX_BACKOFF_SECONDS = 3600
LEASE_MINUTES = 10
LOOP_SECONDS = 15

#: Kept for callers that format times (the one home is ``bot.wording``).
format_when = wording.format_when


def calendar(booking: Booking, event: str, lang: str = "da") -> bytes:
    """An iCalendar invitation (or cancellation) for the visit. Its SEQUENCE is the booking's,
    which every move or cancellation increments, so calendars replace the earlier version."""
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
    vevent.add("summary", wording.text("utter_email_calendar_title", lang, company=booking.company_name,
                                       reference=booking.reference))
    vevent.add("location", booking.address or booking.company_name)
    vevent.add("description", wording.text("utter_email_calendar_description", lang, topic=booking.topic,
                                           contact=_contact(booking)))
    vevent.add("status", "CANCELLED" if event == "cancelled" else "CONFIRMED")
    vevent.add("sequence", booking.sequence or 0)
    cal.add_component(vevent)
    return cal.to_ical()


def _contact(booking: Booking) -> str:
    return f"{booking.contact_name}, {booking.email}, {booking.phone}"


def message(notification: Notification, booking: Booking) -> EmailMessage:
    """The e-mail for one notification: staff get Danish, the user the conversation's language."""
    audience, event = notification.kind.split("_", 1)
    lang = booking.language if audience == "user" and booking.language in wording.LANGUAGES else "da"
    mail = EmailMessage()
    mail["From"] = settings.get("MAIL_FROM")
    mail["To"] = notification.recipient
    mail["Subject"] = wording.text(f"utter_email_subject_{event}", lang, reference=booking.reference)
    address_line = (wording.text("utter_email_address_line", lang, address=booking.address) + "\n"
                    if booking.address else "")
    company = booking.company_name + (f", CVR {booking.cvr}" if booking.cvr else "")
    mail.set_content(wording.text(
        "utter_email_booking", lang, intro=wording.text(f"utter_email_intro_{audience}_{event}", lang),
        reference=booking.reference, when=format_when(booking.slot_start, lang),
        minutes=booking.duration_minutes, company=company, address_line=address_line,
        contact=_contact(booking), topic=booking.topic))
    method = "CANCEL" if event == "cancelled" else "REQUEST"
    mail.add_attachment(calendar(booking, event, lang), maintype="text", subtype="calendar",
                        filename="besoeg.ics", params={"method": method})
    return mail


def compose(session: sa.orm.Session, notification: Notification) -> EmailMessage:
    """The e-mail of one outbox row: about a callback request or about a booking."""
    if notification.callback_id is not None:
        from bot.handover import callbacks

        return callbacks.email(notification, session.get(CallbackRequest, notification.callback_id))
    return message(notification, session.get(Booking, notification.booking_id))


def _smtp_send(mail: EmailMessage) -> None:
    with smtplib.SMTP(settings.get("SMTP_HOST"), settings.integer("SMTP_PORT"),
                      timeout=settings.number("SMTP_TIMEOUT")) as smtp:
        if settings.flag("SMTP_STARTTLS"):
            smtp.starttls()
        if settings.get("SMTP_USER"):
            smtp.login(settings.get("SMTP_USER"), settings.get("SMTP_PASSWORD"))
        smtp.send_message(mail)


def mail_drop() -> Path:
    """Where e-mails go when no SMTP server is configured (``MAIL_DROP_DIR``)."""
    return settings.path("MAIL_DROP_DIR")


def _drop(mail: EmailMessage, notification_id: int) -> None:
    """Development delivery: the e-mail as a readable .eml file (opens in any mail program)."""
    folder = mail_drop()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    (folder / f"{stamp}-{notification_id}.eml").write_bytes(bytes(mail))


def deliver(mail: EmailMessage, notification_id: int) -> None:
    """Send over SMTP, or write to the mail drop when ``SMTP_HOST`` is empty."""
    if settings.get("SMTP_HOST"):
        _smtp_send(mail)
    else:
        _drop(mail, notification_id)


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
        mails = {n.id: compose(s, n) for n in due}
    metrics.OUTBOX.set(len(due))
    sent = 0
    for notification in due:
        if not _claim(notification, now, url):
            continue  # another sender has it
        try:
            deliver(mails[notification.id], notification.id)
        except (OSError, smtplib.SMTPException) as err:
            delay = min(settings.number("NOTIFY_RETRY_SECONDS") * 2 ** notification.attempts, MAX_BACKOFF_SECONDS)
            logger.warning("notification %s not sent (%s); retry in %.0f s",
                           notification.id, type(err).__name__, delay)
            metrics.EMAILS.labels("failed").inc()
            update = {"status": PENDING, "attempts": notification.attempts + 1,
                      "last_error": type(err).__name__, "next_attempt_at": now + dt.timedelta(seconds=delay)}
        else:
            sent += 1
            metrics.EMAILS.labels("sent").inc()
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


#: When the sender last reached the outbox (monotonic seconds); /health is 503 after 3 rounds without.
_last_round = {"at": time.monotonic()}


class _Probe(BaseHTTPRequestHandler):
    """``/health`` (the outbox was reached in the last three rounds) and ``/metrics``."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's API
        if self.path == "/metrics" and metrics.may_read_request(self.client_address[0], self.headers):
            body, content_type = metrics.exposition()
            status = 200
        elif self.path == "/health":
            healthy = time.monotonic() - _last_round["at"] <= 3 * LOOP_SECONDS
            body, content_type = (b'{"status": "ok"}' if healthy else b'{"status": "outbox not reachable"}',
                                  "application/json")
            status = 200 if healthy else 503
        else:
            body, content_type, status = b'{"error": "not found"}', "application/json", 404
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:  # no access log
        return


def serve_probes() -> ThreadingHTTPServer:
    """The health and metrics listener, in a daemon thread."""
    server = ThreadingHTTPServer((settings.get("NOTIFY_INTERFACE"), settings.integer("NOTIFY_PORT")), _Probe)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return server


def main() -> int:
    """Send due notifications every LOOP_SECONDS until stopped."""
    settings.check_or_exit("notification sender")
    logs.configure("notification sender")
    db.migrate()
    try:
        serve_probes()
    except OSError as err:  # a taken port must not stop the e-mails
        logger.error("notification sender: no /health and /metrics (%s)", type(err).__name__)
    while True:
        try:
            send_pending()
            _last_round["at"] = time.monotonic()
        except sa.exc.SQLAlchemyError as err:
            logger.error("outbox not reachable: %s", type(err).__name__)
        time.sleep(LOOP_SECONDS)


if __name__ == "__main__":
    sys.exit(main())
