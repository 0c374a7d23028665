"""Storing company visits and notifying staff, on SQLite and PostgreSQL, with a real SMTP server."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from bot.booking import notify, service
from bot.store import db
from bot.store.models import Booking, Notification
from tests.fakes.smtp_server import SmtpServer, free_port

SLOT = dt.datetime(2026, 12, 1, 10, 30)


def request(sender: str = "web-1", slot: dt.datetime = SLOT, email: str = "anne@example.dk",
            send_copy: bool = False) -> service.VisitRequest:
    return service.VisitRequest(
        sender_id=sender, company_name="Køge Testfabrik ApS", contact_name="Anne Jensen",
        email=email, phone="20 12 34 56", topic="Udvidelse af produktionen", slot_start=slot,
        cvr="29189374", address="Torvet 1, 4600 Køge", send_copy=send_copy)


def _count(url: str, model) -> int:
    with db.session(url) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_booking_gets_a_reference_and_a_queued_staff_notification(db_url):
    booking = service.book(request(), url=db_url)
    assert booking.reference == f"KB-{booking.created_at.year}-{booking.id:04d}"
    with db.session(db_url) as s:
        kinds = [n.kind for n in s.scalars(sa.select(Notification))]
    assert kinds == ["staff_booked"]


def test_confirming_twice_stores_one_booking(db_url):
    first = service.book(request(), url=db_url)
    second = service.book(request(), url=db_url)
    assert first.reference == second.reference
    assert _count(db_url, Booking) == 1


def test_two_users_confirming_the_same_slot_at_once_get_one_booking(db_url):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def confirm(sender: str) -> None:
        barrier.wait()
        try:
            results.append(service.book(request(sender=sender, email=f"{sender}@example.dk"), url=db_url))
        except service.SlotTaken as err:
            results.append(err)

    threads = [threading.Thread(target=confirm, args=(f"user{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(type(r).__name__ for r in results) == ["Booking", "SlotTaken"]
    assert _count(db_url, Booking) == 1


def test_cancel_needs_the_booking_email_and_frees_the_slot(db_url):
    booking = service.book(request(), url=db_url)
    with pytest.raises(service.BookingNotFound):
        service.cancel(booking.reference, "someone.else@example.dk", url=db_url)
    service.cancel(booking.reference, "ANNE@example.dk", url=db_url)
    again = service.book(request(sender="web-2", email="bo@example.dk"), url=db_url)
    assert again.reference != booking.reference


def test_move_to_a_taken_slot_is_refused(db_url):
    first = service.book(request(), url=db_url)
    other = dt.datetime(2026, 12, 2, 9, 0)
    service.book(request(sender="web-2", slot=other, email="bo@example.dk"), url=db_url)
    with pytest.raises(service.SlotTaken):
        service.move(first.reference, "anne@example.dk", other, url=db_url)
    moved = service.move(first.reference, "anne@example.dk", dt.datetime(2026, 12, 3, 13, 0), url=db_url)
    assert moved.slot_start == dt.datetime(2026, 12, 3, 13, 0)


@pytest.mark.parametrize("text", ["KB-2026-0042", "kb 2026 42", "min booking KB20260042 tak"])
def test_references_are_understood_in_several_spellings(text):
    assert service.parse_reference(text) == "KB-2026-0042"


def test_staff_and_user_get_an_email_with_an_ics_invitation(db_url, monkeypatch):
    with SmtpServer() as smtp:
        monkeypatch.setenv("SMTP_PORT", str(smtp.port))
        monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
        booking = service.book(request(send_copy=True), url=db_url)
        assert notify.send_pending(url=db_url) == 2
    recipients = sorted(m["To"] for m in smtp.messages)
    assert recipients == sorted(["erhvervsservice@localhost", "anne@example.dk"])
    mail = smtp.messages[0]
    assert booking.reference in mail["Subject"]
    ics = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert ics, "an .ics attachment"
    body = ics[0].get_payload(decode=True).decode()
    assert "BEGIN:VEVENT" in body and booking.reference in body and "DTSTART;TZID=Europe/Copenhagen:20261201T103000" in body


def test_a_notification_that_cannot_be_sent_stays_queued_and_is_retried(db_url, monkeypatch):
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_TIMEOUT", "2")
    service.book(request(), url=db_url)
    assert notify.send_pending(url=db_url) == 0
    with db.session(db_url) as s:
        queued = s.scalars(sa.select(Notification)).one()
    assert (queued.status, queued.attempts, queued.last_error) == ("pending", 1, "ConnectionRefusedError")
    assert notify.send_pending(url=db_url) == 0  # not due yet: back-off
    with SmtpServer(port) as smtp:
        later = queued.next_attempt_at + dt.timedelta(seconds=1)
        assert notify.send_pending(url=db_url, now=later) == 1
    assert len(smtp.messages) == 1
    assert _count(db_url, Booking) == 1
