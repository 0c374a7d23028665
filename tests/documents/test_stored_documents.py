"""Documents staff keep in the database (bot.store.documents): versions and history, the merge
with data/documents (catalogue.live_documents), and the index of every process, which answers
from a new document within seconds without a restart (answer.default_index)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.documents import answer, catalogue
from bot.documents.answer import DocumentAnswer, NoAnswer, best_answer
from bot.documents.passages import split
from bot.store import db
from bot.store import documents as stored

POLICY, ARTICLE = "erhvervspolitik-2024", "baeredygtigt-kraftcenter-2030"
BIKES = ("Formål\n\nKøge Kommune bygger overdækket cykelparkering ved Ølby Station. Anlægget åbner i foråret "
         "2027 og har plads til 400 cykler.\n\nDrift\n\nTeknik- og Miljøforvaltningen gør anlægget rent hver uge.")
QUESTION = "Hvor mange cykler er der plads til ved Ølby Station?"


def meta(**changes: str) -> stored.Meta:
    values = {"title": "Cykelparkering ved Ølby Station", "source": "https://www.koege.dk/cykelparkering",
              "verified": "2026-12-01", "kind": "article", **changes}
    return stored.check(values, today=dt.date(2026, 12, 5))


def test_versions_history_retire_and_restore(db_url):
    assert stored.version(db_url) == 0 and stored.current(db_url) == {}
    first = stored.save("cykel", meta(sections="Formål\nDrift"), BIKES, "anne", origin="pdf", filename="cykel.pdf",
                        url=db_url)
    assert (first.action, first.sections, first.verified, first.retired) == ("add", ("Formål", "Drift"),
                                                                             dt.date(2026, 12, 1), False)
    second = stored.save("cykel", meta(title="Cykelparkering, 2. udgave"), BIKES + "\n\nNyt afsnit.", "bo",
                         url=db_url)
    assert second.action == "replace" and stored.version(db_url) == second.id > first.id
    retired = stored.set_retired("cykel", True, "anne", url=db_url)
    assert retired.retired and retired.text == second.text and retired.title == "Cykelparkering, 2. udgave"
    assert stored.save("cykel", meta(), BIKES, "anne", url=db_url).retired  # a new version stays retired
    stored.set_retired(POLICY, True, "anne", url=db_url)  # a file's document: nothing stored but the state
    now = stored.current(db_url)
    assert set(now) == {"cykel", POLICY} and now[POLICY].text is None and now[POLICY].retired
    restored = stored.set_retired("cykel", False, "anne", url=db_url)
    assert not restored.retired and restored.text == BIKES
    assert [h.action for h in stored.history("cykel", url=db_url)] == ["restore", "replace", "retire", "replace",
                                                                       "add"]
    assert stored.get("findes-ikke", db_url) is None
    with pytest.raises(ValueError):
        stored.save("Ikke et id!", meta(), BIKES, "anne", url=db_url)


def test_the_form_is_checked_with_danish_messages():
    with pytest.raises(stored.DocumentFormError) as err:
        stored.check({"title": " ", "source": "", "verified": "", "kind": "roman"})
    assert err.value.problems == {
        "title": "skal udfyldes",
        "source": "skal udfyldes: linket til dokumentet, som svarene henviser til",
        "verified": "skal udfyldes: den dag, teksten sidst blev sammenholdt med kilden",
        "kind": "skal vælges: udkast til politik, politik, artikel"}
    with pytest.raises(stored.DocumentFormError) as err:
        stored.check({"title": "T", "source": "http://koege.dk", "verified": "1. december", "kind": "policy"})
    assert set(err.value.problems) == {"source", "verified"}
    with pytest.raises(stored.DocumentFormError, match="må ikke ligge i fremtiden"):
        meta(verified="2026-12-06")
    with pytest.raises(stored.DocumentFormError) as err:
        stored.check_sections(BIKES, ("Formål", "Økonomi"))
    assert "»Økonomi« ikke" in err.value.problems["sections"]
    assert meta(sections="Formål\n\n Drift \nFormål").sections == ("Formål", "Drift")


def test_stored_documents_add_to_replace_and_hide_the_files():
    files = catalogue.load_documents()
    policy = next(d for d in files if d.id == POLICY)
    new_text = policy.text + "\n\nEt afsnit, der kom til i den vedtagne udgave."
    states = {
        "cykel": stored.Stored(1, "cykel", "add", False, "anne", dt.datetime.now(), text=BIKES, kind="article",
                               title="Cykler", source="https://www.koege.dk/cykler", verified=dt.date(2026, 12, 1),
                               sections=("Formål", "Drift")),
        POLICY: stored.Stored(2, POLICY, "replace", False, "anne", dt.datetime.now(), text=new_text,
                              kind="policy_draft", title=policy.title, source=policy.source,
                              verified=dt.date(2026, 12, 2), sections=tuple(s.title for s in policy.sections)),
        ARTICLE: stored.Stored(3, ARTICLE, "retire", True, "anne", dt.datetime.now()),
        "gammel": stored.Stored(4, "gammel", "retire", True, "anne", dt.datetime.now(), text=BIKES, kind="article",
                                title="Gammel", source="https://www.koege.dk/gammel", verified=dt.date(2026, 1, 1)),
    }
    live = {d.id: d for d in catalogue.live_documents(files, states)}
    assert set(live) == {POLICY, "cykel"}
    replaced = live[POLICY]
    assert replaced.text == new_text and replaced.verified == dt.date(2026, 12, 2)
    assert replaced.sections == policy.sections  # numbers, pages, labels and intents kept
    assert replaced.cited_as == policy.cited_as and replaced.title_en == policy.title_en
    bikes = live["cykel"]
    assert bikes.cited_as == {"da": "Cykler", "en": "Cykler"} and bikes.publisher == "Køge Kommune"
    assert [p.section.title for p in split(bikes)] == ["Formål", "Drift"]
    broken = {POLICY: stored.Stored(5, POLICY, "replace", False, "anne", dt.datetime.now(), text="Kort.",
                                    kind="policy_draft", title="X", source="https://x.dk", verified=dt.date(2026, 1, 1),
                                    sections=("Findes ikke",))}
    assert next(d for d in catalogue.live_documents(files, broken) if d.id == POLICY) == policy  # the file's stays


@pytest.fixture
def live_index(tmp_path, monkeypatch):
    """The process's index against a database of this test, checked on every call."""
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("BOT_DATABASE_URL", url)
    monkeypatch.setattr(answer, "DOCUMENT_CHECK_SECONDS", 0.0)
    answer.reset_default_index()
    yield url
    answer.reset_default_index()
    db.engine(url).dispose()


def test_the_index_answers_from_a_new_document_and_forgets_a_retired_one_without_a_restart(live_index):
    url = live_index
    assert isinstance(best_answer(QUESTION, include_knowledge=False), NoAnswer)  # no database file yet
    db.migrate(url)
    before = answer.default_index()
    stored.save("cykel", meta(), BIKES, "anne", url=url)
    found = best_answer(QUESTION, include_knowledge=False)
    assert isinstance(found, DocumentAnswer) and found.document_id == "cykel", found
    assert "plads til 400 cykler" in found.quote and found.source_url == "https://www.koege.dk/cykelparkering"
    assert answer.default_index() is not before
    unchanged = answer.default_index()
    assert answer.default_index() is unchanged  # the same version: no rebuild
    stored.set_retired("cykel", True, "anne", url=url)
    assert isinstance(best_answer(QUESTION, include_knowledge=False), NoAnswer)
    stored.set_retired(POLICY, True, "anne", url=url)
    assert not any(p.document_id == POLICY for p in answer.default_index().passages)
    stored.set_retired(POLICY, False, "anne", url=url)
    assert any(p.document_id == POLICY for p in answer.default_index().passages)


def test_between_checks_the_index_is_not_asked_again(live_index, monkeypatch):
    db.migrate(live_index)
    monkeypatch.setattr(answer, "DOCUMENT_CHECK_SECONDS", 3600.0)
    first = answer.default_index()
    asked = []
    monkeypatch.setattr(answer, "_stored_version", lambda: asked.append(1) or 99)
    assert answer.default_index() is first and asked == []


def test_a_database_that_cannot_be_read_keeps_the_index(live_index, monkeypatch):
    db.migrate(live_index)
    first = answer.default_index()
    monkeypatch.setattr(answer, "_stored_version", lambda: None)
    assert answer.default_index() is first
