"""The console's store modules on SQLite and PostgreSQL: staff and lock-out, the append-only
audit log, reviews and annotations (with erasure and retention), content history and
rollback, and the tracker-store reader."""
from __future__ import annotations

import datetime as dt
import re
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


def test_back_off_after_six_wrong_passwords_from_one_address_for_five_minutes(db_url):
    staff.add("bo", PASSWORD, url=db_url)
    now = dt.datetime(2026, 12, 1, 10, 0)
    attacker, office = "203.0.113.66", "198.51.100.5"
    outcomes = [staff.authenticate("bo", "forkert", now=now, url=db_url, source=attacker) for _ in range(6)]
    assert [o.outcome for o in outcomes] == [staff.Outcome.WRONG] * 5 + [staff.Outcome.LOCKED]
    assert outcomes[-1].just_locked
    assert staff.authenticate("bo", PASSWORD, now=now + dt.timedelta(minutes=4), url=db_url,
                              source=attacker).outcome is staff.Outcome.LOCKED
    assert staff.authenticate("bo", PASSWORD, now=now + dt.timedelta(minutes=4), url=db_url,
                              source=office).outcome is staff.Outcome.OK  # the member is not kept out
    assert staff.authenticate("bo", PASSWORD, now=now + dt.timedelta(minutes=6), url=db_url,
                              source=attacker).outcome is staff.Outcome.OK
    # unknown names are counted and backed off exactly alike
    unknown = [staff.authenticate("nobody", "forkert", now=now, url=db_url, source=attacker) for _ in range(7)]
    assert [(o.outcome, o.just_locked) for o in unknown] == [(o.outcome, o.just_locked) for o in outcomes] + [
        (staff.Outcome.LOCKED, False)]
    for _ in range(6):
        staff.authenticate("bo", "forkert", now=now + dt.timedelta(minutes=10), url=db_url, source=attacker)
    staff.set_password("bo", "en-helt-ny-adgangskode", url=db_url)  # lifts every back-off of the name
    assert staff.authenticate("bo", "en-helt-ny-adgangskode", now=now + dt.timedelta(minutes=10), url=db_url,
                              source=attacker).outcome is staff.Outcome.OK
    staff.disable("bo", url=db_url)
    assert staff.authenticate("bo", "en-helt-ny-adgangskode", url=db_url).outcome is staff.Outcome.DISABLED


def test_sign_in_failures_are_kept_as_digests_and_forgotten_after_a_quiet_day(db_url):
    now = dt.datetime(2026, 12, 1, 10, 0)
    staff.authenticate("Et Kodeord?", "forkert", now=now, url=db_url, source="203.0.113.66")
    with db.session(db_url) as s:
        rows = s.execute(sa.text("SELECT pair, name_key, failures FROM staff_sign_in_failures")).all()
    assert len(rows) == 1 and rows[0][2] == 1
    assert "kodeord" not in repr(rows).lower() and "203.0.113" not in repr(rows)
    later = now + dt.timedelta(hours=staff.FORGET_HOURS + 1)
    staff.authenticate("anden", "forkert", now=later, url=db_url, source="203.0.113.67")
    with db.session(db_url) as s:
        assert s.scalar(sa.text("SELECT count(*) FROM staff_sign_in_failures")) == 1


def test_sign_out_a_new_password_and_disabling_end_the_sessions(db_url):
    added = staff.add("bo", PASSWORD, url=db_url)
    generations = [added.session_generation]
    staff.end_sessions(added.id, url=db_url)
    generations.append(staff.get(added.id, db_url).session_generation)
    staff.set_password("bo", "en-helt-ny-adgangskode", url=db_url)
    generations.append(staff.get(added.id, db_url).session_generation)
    staff.disable("bo", url=db_url)
    generations.append(staff.get(added.id, db_url).session_generation)
    assert generations == [0, 1, 2, 3]


def test_the_audit_log_is_append_only(db_url):
    audit.record("anne", "view_transcript", "sid-1", url=db_url)
    audit.record("anne", "erase", "sid-1", "3 hændelser", url=db_url)
    assert [line.action for line in audit.recent(url=db_url)] == ["erase", "view_transcript"]
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DatabaseError), db.engine(db_url).begin() as c:
            c.execute(sa.text(statement))
    assert audit.count("erase", "sid-1", url=db_url) == 1


def _alembic(url: str, command: str, revision: str) -> None:
    """Run Alembic's ``upgrade`` or ``downgrade`` of the assistant's database to ``revision``."""
    from alembic import command as commands
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    getattr(commands, command)(config, revision)


def test_audit_lines_name_a_conversation_by_a_keyed_pseudonym_and_still_find_it(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    audit.record("anne", "view_transcript", url=db_url, conversation="telegram:4242")
    audit.record("anne", "erase", None, "telegram:4242: 3 hændelser", url=db_url, conversation="telegram:4242")
    audit.record("anne", "view_transcript", url=db_url, conversation="telegram:4243")
    audit.record("anne", "booking_follow_up", "KB-2026-0001", "new → confirmed", url=db_url)
    with db.session(db_url) as s:
        stored = repr(s.execute(sa.text("SELECT target, detail FROM audit_log")).all())
    # No chat id in target or detail. The pseudonyms are taken out first: a random key's 32 hex
    # digits may themselves hold "4242".
    without_pseudonyms = re.sub(r"samtale:[0-9a-f]{32}", "samtale:…", stored)
    assert without_pseudonyms.count("samtale:…") == 4
    assert "4242" not in without_pseudonyms and "4243" not in without_pseudonyms
    assert "KB-2026-0001" in stored  # a booking reference is not about a person: readable
    found = audit.recent(url=db_url, conversation="telegram:4242")
    assert [line.action for line in found] == ["erase", "view_transcript"]
    assert found[0].target == found[1].target == audit.pseudonym("telegram:4242") and found[0].about_conversation
    assert found[0].detail == f"{found[0].target}: 3 hændelser"
    assert audit.count("view_transcript", url=db_url, conversation="telegram:4243") == 1
    assert audit.recent(url=db_url, conversation="telegram:1") == []
    assert (tmp_path / "state" / "audit-key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("AUDIT_KEY", "en anden nøgle")
    assert audit.pseudonym("telegram:4242") != found[0].target  # keyed: not a plain hash of the id
    with pytest.raises(ValueError):
        audit.record("anne", "note", "telegram:4242", url=db_url, conversation="telegram:4242")


def test_every_process_makes_and_keeps_the_same_audit_key(tmp_path):
    import os

    from bot import settings

    env = {k: v for k, v in os.environ.items() if k != "AUDIT_KEY"} | {"STATE_DIR": str(tmp_path / "state")}
    code = "from bot.store import audit; print(audit.pseudonym('telegram:4242'))"

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", code], cwd=settings.ROOT, env=env, stdout=subprocess.PIPE,
                                text=True)

    together = [start() for _ in range(4)]  # the console, action server, … starting at once, no key yet
    names = {process.communicate(timeout=120)[0].strip() for process in together}
    later = start().communicate(timeout=120)[0].strip()  # a restart
    assert len(names) == 1 and names == {later} and later.startswith(audit.PSEUDONYM_PREFIX)
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["audit-key"]


def test_the_migration_turns_old_audit_targets_into_pseudonyms(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    _alembic(db_url, "downgrade", "0005")
    lines = [("view_transcript", "telegram:4242", None), ("handover_claim", "web-0a1b", "overtagelse 3"),
             ("erase", "telegram:4242", "2 hændelser"), ("callback_status", "OR-2026-AB12CD", "new → done"),
             ("staff_add", "bo", "rolle reviewer"), ("sign_in", None, None)]
    with db.engine(db_url).begin() as c:
        c.execute(sa.text("INSERT INTO audit_log (at, actor, action, target, detail) "
                          "VALUES (:at, 'anne', :action, :target, :detail)"),
                  [{"at": utcnow(), "action": a, "target": t, "detail": d} for a, t, d in lines])
    db.migrate(db_url)
    with db.session(db_url) as s:
        stored = repr(s.execute(sa.text("SELECT target, detail FROM audit_log ORDER BY id")).all())
    assert "telegram:4242" not in stored and "web-0a1b" not in stored
    assert "OR-2026-AB12CD" in stored and "'bo'" in stored
    assert [line.action for line in audit.recent(url=db_url, conversation="telegram:4242")] == [
        "erase", "view_transcript"]
    assert audit.count("handover_claim", url=db_url, conversation="web-0a1b") == 1
    with pytest.raises(sa.exc.DatabaseError), db.engine(db_url).begin() as c:
        c.execute(sa.text("UPDATE audit_log SET actor = 'x'"))  # append-only again


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


def test_a_marking_is_purged_when_its_message_is_however_late_it_was_made(db_url):
    now = utcnow()
    month_ago = (now - dt.timedelta(days=31)).replace(tzinfo=dt.timezone.utc).timestamp()
    review.annotate("old", 1, "min mail er anne@example.dk", "inform", "anne", url=db_url, sent=month_ago)
    review.annotate("new", 1, "hvad koster det", "ask_price", "anne", url=db_url, sent=time.time() - 60)
    assert review.purge(days=30, url=db_url) == 1  # marked just now, but its message is 31 days old
    assert [(m.sender_id, m.text) for m in review.annotations(url=db_url)] == [("new", "hvad koster det")]


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
        assert after.body == "Rettet momstekst." and after != before
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
    # the console's days are Copenhagen's (the sample began ten minutes ago: maybe yesterday there)
    began, now = (dt.datetime.fromtimestamp(t, conversations.TZ).date().isoformat()
                  for t in (time.time() - 700, time.time()))
    assert ids_for(fra=began, til=now) == set(ids.values())
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


def test_an_answer_given_as_the_closest_is_listed_for_staff_to_improve(db_url):
    """A reply the assistant gave as the closest it had (``metadata.unsure``,
    ``actions/knowledge_answers.answer_topic``) marks the message as one to improve, beside
    fallbacks and clarifications; a plain answer does not."""
    answered = ["action_answer_knowledge"]
    trackers.save(db_url, "web-unsure", [
        trackers.Say("hvad vil kommunen gøre for folk der starter for sig selv", "ask_startup_cvr", 0.6,
                     actions=answered, metadata={"kind": "answer", "unsure": True}),
        trackers.Say("hvad er moms", "ask_vat", 0.97, actions=answered, metadata={"kind": "answer"})])
    unsure, sure = (turn.user for turn in conversations.transcript("web-unsure", db_url).turns if turn.user)
    assert unsure.unanswered and not sure.unanswered


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


def test_the_index_drops_the_texts_of_purged_messages_of_a_conversation_that_goes_on(db_url):
    from bot.store import retention

    trackers.save(db_url, "web-long", [trackers.Say("min mail er anne@example.dk", "inform")],
                  start=time.time() - 40 * 86400)
    trackers.append(db_url, "web-long", [trackers.Say("tak", "thank")])  # the user came back today
    index = conversations.ConversationIndex(db_url)
    mail = conversations.Filters(tekst="anne@example.dk")
    assert [s.sender_id for s in index.find(mail, conversations.Facts())] == ["web-long"]
    # the periodic purge runs in another process (the action server): straight on the tracker store
    assert retention.purge(days=30, engine=conversations.tracker_engine(db_url)) > 0
    assert index.find(mail, conversations.Facts()) == []
    [summary] = index.summaries()
    assert summary.preview == "tak" and "anne@example.dk" not in repr(summary)


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
