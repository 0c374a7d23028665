"""The console's store modules on SQLite and PostgreSQL: staff and lock-out, the append-only
audit log, reviews and annotations (with erasure and retention), content history and
rollback, and the tracker-store reader."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from bot import knowledge
from bot.store import audit, content, conversations, db, review, staff
from bot.store.models import utcnow
from tests.web.console import trackers

PASSWORD = "korrekt-hest-batteri"


def test_staff_names_roles_and_passwords_are_checked(db_url):
    added = staff.add("Anne.H", PASSWORD, "admin", url=db_url)
    assert added.name == "anne.h" and added.is_admin
    with pytest.raises(staff.StaffError):
        staff.add("anne.h", PASSWORD, url=db_url)  # taken
    with pytest.raises(staff.StaffError):
        staff.add("bo", "kort", url=db_url)
    with pytest.raises(staff.StaffError):
        staff.add("bo", PASSWORD, role="boss", url=db_url)
    with pytest.raises(staff.StaffError):
        staff.add("x", PASSWORD, url=db_url)
    with db.session(db_url) as s:
        hashed = s.scalar(sa.text("SELECT password_hash FROM staff_users"))
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed


def test_lock_out_after_six_wrong_passwords_for_fifteen_minutes(db_url):
    staff.add("bo", PASSWORD, url=db_url)
    now = dt.datetime(2026, 12, 1, 10, 0)
    outcomes = [staff.authenticate("bo", "forkert", now=now, url=db_url) for _ in range(6)]
    assert [o.outcome for o in outcomes] == [staff.Outcome.WRONG] * 5 + [staff.Outcome.LOCKED]
    assert outcomes[-1].just_locked
    assert staff.authenticate("bo", PASSWORD, now=now + dt.timedelta(minutes=14), url=db_url).outcome \
        is staff.Outcome.LOCKED
    assert staff.authenticate("bo", PASSWORD, now=now + dt.timedelta(minutes=16), url=db_url).outcome \
        is staff.Outcome.OK
    staff.set_password("bo", "en-helt-ny-adgangskode", url=db_url)
    assert staff.authenticate("bo", "en-helt-ny-adgangskode", url=db_url).outcome is staff.Outcome.OK
    staff.disable("bo", url=db_url)
    assert staff.authenticate("bo", "en-helt-ny-adgangskode", url=db_url).outcome is staff.Outcome.DISABLED


def test_the_audit_log_is_append_only(db_url):
    audit.record("anne", "view_transcript", "sid-1", url=db_url)
    audit.record("anne", "erase", "sid-1", "3 hændelser", url=db_url)
    assert [line.action for line in audit.recent(url=db_url)] == ["erase", "view_transcript"]
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError), db.engine(db_url).begin() as c:
            c.execute(sa.text(statement))
    assert audit.count("erase", "sid-1", url=db_url) == 1


def test_reviews_notes_and_annotations_are_erased_with_the_conversation(db_url):
    review.set_tags("a", review.clean_tags("Booking, fejl ,booking"), url=db_url)
    review.set_reviewed("a", "anne", url=db_url)
    review.add_note("a", "anne", "Ring tilbage", url=db_url)
    review.annotate("a", 7, "parkering af lastbiler", "ask_road_use", "anne", predicted="nlu_fallback", url=db_url)
    review.annotate("a", 7, "parkering af lastbiler", "ask_mobility", "bo", url=db_url)  # replaces
    review.annotate("b", 3, "hej", "greet", "anne", url=db_url)
    assert review.get("a", db_url).tags == ("booking", "fejl")
    assert review.reviewed_senders(db_url) == {"a"}
    assert [(m.intent, m.annotated_by) for m in review.annotations("a", db_url)] == [("ask_mobility", "bo")]
    with pytest.raises(ValueError):
        review.annotate("a", 8, "x", "Ikke gyldig!", "anne", url=db_url)
    assert review.erase("a", db_url) == 3
    assert review.get("a", db_url).tags == () and review.notes("a", db_url) == []
    assert [m.sender_id for m in review.annotations(url=db_url)] == ["b"]


def test_reviews_are_kept_only_for_the_retention_period(db_url):
    review.add_note("old", "anne", "gammel", url=db_url)
    review.annotate("old", 1, "gammel besked", "greet", "anne", url=db_url)
    later = utcnow() + dt.timedelta(days=31)
    review.add_note("new", "anne", "ny", url=db_url)
    assert review.purge(days=30, now=later, url=db_url) == 3  # both notes and the annotation
    assert review.purge(days=30, url=db_url) == 0


def test_content_edits_keep_their_history_and_roll_back(db_url):
    assert content.version(db_url) == 0 and content.overrides(db_url) == {}
    kb = knowledge.load()
    original = knowledge.editable_values(kb, "answer", "ask_vat")
    changed = content.check("answer", {**original, "text_da": "Ny momstekst.", "verified": "2026-11-30"},
                            today=dt.date(2026, 12, 1))
    first = content.edit("answer", "ask_vat", original, changed, "anne", url=db_url)
    assert [f for f, _, _ in first.changed()] == ["text_da", "verified"]
    assert content.overrides(db_url) == {("answer", "ask_vat"): changed}
    assert content.version(db_url) == first.id
    back = content.rollback(first.id, changed, "bo", url=db_url)
    assert back.after == original and back.before == changed and back.author == "bo"
    assert content.overrides(db_url)[("answer", "ask_vat")] == original
    to_file = content.edit("answer", "ask_vat", original, None, "anne", url=db_url)
    assert content.overrides(db_url) == {} and content.version(db_url) == to_file.id
    assert [e.id for e in content.history("answer", "ask_vat", url=db_url)] == [to_file.id, back.id, first.id]


def test_content_values_are_checked():
    with pytest.raises(content.ContentError) as err:
        content.check("answer", {"text_da": "", "text_en": "x", "source": "ftp://x", "verified": "2999-01-01"})
    assert set(err.value.problems) == {"text_da", "source", "verified"}
    with pytest.raises(content.ContentError) as err:
        content.check("contact", {"email": "ikke-en-mail", "phone": "ring", "source": "https://x.dk",
                                  "verified": "2026-01-01"})
    assert set(err.value.problems) == {"email", "phone"}


def test_an_edit_is_live_in_the_knowledge_base_without_a_restart(db_url, monkeypatch):
    monkeypatch.setenv("BOT_DATABASE_URL", db_url)
    monkeypatch.setattr(knowledge, "CONTENT_CHECK_SECONDS", 0.0)
    knowledge.default.cache_clear()
    try:
        before = knowledge.default().answer("ask_vat", "da")[0]
        kb = knowledge.load()
        values = {**knowledge.editable_values(kb, "answer", "ask_vat"), "text_da": "Rettet momstekst."}
        content.edit("answer", "ask_vat", None, values, "anne", url=db_url)
        contact = {**knowledge.editable_values(kb, "contact", "tmf"), "phone": "56 67 67 67"}
        content.edit("contact", "tmf", None, contact, "anne", url=db_url)
        after = knowledge.default().answer("ask_vat", "da")[0]
        assert "Rettet momstekst." in after and after != before
        assert knowledge.default().contacts["tmf"].phone == "56 67 67 67"
        content.edit("answer", "ask_vat", values, None, "anne", url=db_url)
        assert knowledge.default().answer("ask_vat", "da")[0] == before
    finally:
        knowledge.default.cache_clear()


def test_the_knowledge_base_asks_the_database_at_most_every_few_seconds(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    db.migrate(url)
    knowledge.default.cache_clear()
    calls = []
    real = content.version
    monkeypatch.setattr(content, "version", lambda *a, **k: calls.append(1) or real(*a, **k))
    try:
        for _ in range(50):
            knowledge.default()
        assert len(calls) == 1
    finally:
        knowledge.default.cache_clear()


def test_without_a_database_the_files_are_used(tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    knowledge.default.cache_clear()
    try:
        assert knowledge.default().entries["ask_vat"].text == knowledge.load().entries["ask_vat"].text
        assert not (tmp_path / "none.db").exists()
    finally:
        knowledge.default.cache_clear()


def test_the_tracker_reader_summarises_and_filters_conversations(db_url):
    ids = trackers.sample(db_url)
    index = conversations.ConversationIndex(db_url)
    found = {s.sender_id: s for s in index.summaries()}
    assert set(found) == set(ids.values())
    assert found[ids["booking"]].channel == "telegram" and found[ids["abandoned"]].channel == "web"
    facts = conversations.Facts()

    def ids_for(**query: str) -> set[str]:
        return {s.sender_id for s in index.find(conversations.Filters.from_query(query), facts)}

    assert ids_for(fallback="1") == {ids["fallback"]}
    assert ids_for(lav="1") == {ids["fallback"]}
    assert ids_for(lav="1", under="0.9") == {ids["fallback"], ids["abandoned"]}
    assert ids_for(person="1") == {ids["person"]}
    assert ids_for(booking="1") == {ids["booking"]}
    assert ids_for(afbrudt="1") == {ids["abandoned"]}
    assert ids_for(kanal="telegram") == {ids["booking"]}
    assert ids_for(intent="ask_vat") == {ids["good"]}
    assert ids_for(tekst="LASTBILER") == {ids["fallback"]}
    today = dt.date.today().isoformat()
    assert ids_for(fra=today, til=today) == set(ids.values())
    assert ids_for(til="2000-01-01") == set()
    assert ids_for(negativ="1") == set()
    facts = conversations.Facts(negative=frozenset({ids["good"]}), reviewed=frozenset({ids["person"]}))
    assert {s.sender_id for s in index.find(conversations.Filters(negativ=True), facts)} == {ids["good"]}
    assert ids["person"] not in {s.sender_id for s in index.find(conversations.Filters(ikke_gennemgaaet=True), facts)}


def test_the_transcript_shows_intents_runner_up_actions_and_slots(db_url):
    ids = trackers.sample(db_url)
    t = conversations.transcript(ids["fallback"], db_url)
    first = t.turns[0].user
    assert (first.intent, first.guess, first.runner_up) == ("nlu_fallback", "ask_road_use", "ask_mobility")
    assert first.unanswered and round(first.confidence, 2) == 0.31
    assert [turn.kind for turn in t.turns] == ["user", "action", "bot", "user", "action", "bot"]
    assert t.turns[1].name == "action_clarify"
    assert conversations.transcript(ids["booking"], db_url).slots == {"company_cvr": "29189374",
                                                                      "email": "anne@example.dk"}
    assert conversations.transcript("findes-ikke", db_url) is None


def test_the_index_rereads_changed_conversations_and_forgets_erased_ones(db_url):
    ids = trackers.sample(db_url, start=time.time() - 3600)
    index = conversations.ConversationIndex(db_url)
    assert len(index.summaries()) == 5
    trackers.append(db_url, ids["good"], [trackers.Say("tak", "thank", 0.99)])  # a later message
    assert {"ask_vat", "thank"} <= index.summaries()[0].intents
    engine = conversations.tracker_engine(db_url)
    events = conversations.events_table(engine)
    with engine.begin() as c:
        c.execute(events.delete().where(events.c.sender_id == ids["person"]))
    assert ids["person"] not in {s.sender_id for s in index.summaries()}


def test_an_empty_tracker_store_has_no_conversations(tmp_path):
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    assert conversations.ConversationIndex(url).summaries() == []
    assert conversations.events_table(conversations.tracker_engine(url)) is None


def test_the_staff_command_line(tmp_path):
    env = {"BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "STATE_DIR": str(tmp_path / "var"),
           "PATH": "/usr/bin:/bin"}

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot.cli", "staff", *args], input=stdin, text=True,
                              capture_output=True, env=env, timeout=120)

    assert cli("add", "anne", "--role", "admin", stdin=PASSWORD + "\n").returncode == 0
    refused = cli("add", "bo", stdin="kort\n")
    assert refused.returncode == 2 and "mindst 12 tegn" in refused.stderr
    assert cli("add", "bo", stdin=PASSWORD + "\n").returncode == 0
    assert cli("disable", "bo").returncode == 0
    assert cli("password", "anne", stdin="en-helt-ny-adgangskode\n").returncode == 0
    listed = cli("list").stdout.splitlines()
    assert listed == ["anne\tadmin\taktiv", "bo\treviewer\tdeaktiveret"]
    url = env["BOT_DATABASE_URL"]
    assert staff.authenticate("anne", "en-helt-ny-adgangskode", url=url).outcome is staff.Outcome.OK
    assert [line.action for line in audit.recent(url=url)][:4] == [
        "staff_password", "staff_disable", "staff_add", "staff_add"]
