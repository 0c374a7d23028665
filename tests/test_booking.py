"""Storing company visits and notifying staff, on SQLite and PostgreSQL, with a real SMTP server."""
from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import re
import threading

import pytest
import sqlalchemy as sa

from bot import wording
from bot.booking import notify, service
from bot.store import db
from bot.store.models import Booking, Notification
from tests.fakes.smtp_server import SmtpServer, free_port

SLOT = dt.datetime(2026, 12, 1, 10, 30)


def request(sender: str = "web-1", slot: dt.datetime = SLOT, email: str = "anne@example.dk",
            send_copy: bool = False, **changes: object) -> service.VisitRequest:
    return dataclasses.replace(service.VisitRequest(
        sender_id=sender, company_name="Køge Testfabrik ApS", contact_name="Anne Jensen",
        email=email, phone="20 12 34 56", topic="Udvidelse af produktionen", slot_start=slot,
        cvr="29189374", address="Torvet 1, 4600 Køge", send_copy=send_copy), **changes)


def _count(url: str, model) -> int:
    with db.session(url) as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_booking_gets_a_reference_and_a_queued_staff_notification(db_url):
    booking = service.book(request(), url=db_url)
    assert re.fullmatch(rf"KB-{booking.slot_start.year}-[0-9A-HJKMNP-TV-Z]{{6}}", booking.reference)
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


@pytest.mark.parametrize("text", ["KB-2026-7QH4KM", "kb 2026 7qh4km", "min booking KB20267QH4KM tak"])
def test_references_are_understood_in_several_spellings(text):
    assert service.parse_reference(text) == "KB-2026-7QH4KM"


def test_references_are_not_guessable_from_each_other(db_url):
    first = service.book(request(), url=db_url)
    second = service.book(request(sender="other", slot=dt.datetime(2026, 12, 2, 10, 30)), url=db_url)
    assert first.reference[:8] == second.reference[:8] == "KB-2026-"
    assert len({first.reference[8:], second.reference[8:]}) == 2  # random parts, not a sequence


def test_a_cancelled_time_can_be_booked_again_in_the_same_conversation(db_url):
    first = service.book(request(), url=db_url)
    service.cancel(first.reference, "anne@example.dk", url=db_url)
    again = service.book(request(), url=db_url)  # same conversation, slot and e-mail
    assert again.reference != first.reference and again.status == "booked"


def test_a_moved_visits_old_time_is_free_again(db_url):
    first = service.book(request(), url=db_url)
    service.move(first.reference, "anne@example.dk", dt.datetime(2026, 12, 3, 13, 0), url=db_url)
    other = service.book(request(sender="someone-else", email="bo@example.dk"), url=db_url)
    assert other.slot_start == first.slot_start


def test_only_the_same_conversation_gets_its_booking_back(db_url):
    service.book(request(), url=db_url)
    with pytest.raises(service.SlotTaken):  # same e-mail and time, another conversation
        service.book(request(sender="another-conversation"), url=db_url)


@pytest.mark.parametrize("field", ["company_name", "contact_name"])
def test_a_value_longer_than_its_column_is_refused_before_the_database(db_url, field):
    with pytest.raises(service.InvalidRequest) as error:
        service.book(request(**{field: "x" * 300}), url=db_url)
    assert (error.value.field, error.value.limit) == (field, 255)
    assert _count(db_url, Booking) == 0


def test_every_change_of_the_invitation_increments_its_sequence(db_url):
    booking = service.book(request(), url=db_url)
    assert "SEQUENCE:0" in notify.calendar(booking, "booked").decode()
    moved = service.move(booking.reference, "anne@example.dk", dt.datetime(2026, 12, 3, 13, 0), url=db_url)
    assert "SEQUENCE:1" in notify.calendar(moved, "moved").decode()
    cancelled = service.cancel(booking.reference, "anne@example.dk", url=db_url)
    assert "SEQUENCE:2" in notify.calendar(cancelled, "cancelled").decode()


def test_without_smtp_host_the_emails_are_readable_files_in_the_mail_drop(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("SMTP_HOST", "")
    monkeypatch.setenv("MAIL_DROP_DIR", str(tmp_path / "mail"))
    booking = service.book(request(send_copy=True, language="en"), url=db_url)
    assert notify.send_pending(url=db_url) == 2
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    mails = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    staff = next(m for m in mails if m["To"] == "erhvervsservice@localhost")
    user = next(m for m in mails if m["To"] == "anne@example.dk")
    assert staff["Subject"] == wording.text("utter_email_subject_booked", "da", reference=booking.reference)
    assert user["Subject"] == wording.text("utter_email_subject_booked", "en", reference=booking.reference)
    assert any(p.get_content_type() == "text/calendar" for p in staff.walk())


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
