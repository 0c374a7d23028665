"""The documents in data/documents and their passages (bot.documents.catalogue, .passages)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from bot.documents.catalogue import Document, DocumentError, Section, load_document, load_documents
from bot.documents.passages import DOCUMENT, KNOWLEDGE, all_passages, knowledge_passages, split

ROOT = Path(__file__).resolve().parents[2]
POLICY, ARTICLE = "erhvervspolitik-2024", "baeredygtigt-kraftcenter-2030"


@pytest.fixture(scope="module")
def documents() -> dict[str, Document]:
    return {d.id: d for d in load_documents()}


@pytest.fixture(scope="module")
def policy_passages(documents):
    return split(documents[POLICY])


def _knowledge_source(filename: str) -> tuple[str, dt.date]:
    entries = yaml.safe_load((ROOT / "data" / "knowledge" / filename).read_text(encoding="utf-8"))["entries"]
    return entries[0]["source"], entries[0]["verified"]


def test_documents_reuse_the_knowledge_bases_source_and_date(documents):
    assert (documents[POLICY].source, documents[POLICY].verified) == _knowledge_source("business_policy_themes.yml")
    assert (documents[ARTICLE].source, documents[ARTICLE].verified) == _knowledge_source("green_transition.yml")


def test_the_policy_is_marked_as_a_draft(documents):
    policy = documents[POLICY]
    assert policy.kind == "policy_draft"
    assert "udkast" in policy.title and "udkast" in policy.cited_as["da"]
    assert "draft" in policy.title_en and "draft" in policy.cited_as["en"]


def test_the_cleaned_texts_have_no_web_or_table_of_contents_noise(documents):
    for document in documents.values():
        lines = [line.strip() for line in document.text.splitlines()]
        assert "fbpx" not in lines and "Skriv et svar" not in lines and "INDSATSER" not in lines
        assert not any(re.fullmatch(r"\d{1,2}", line) for line in lines), "a page number on its own line"
        assert "\t" not in document.text


def test_the_cleaned_policy_keeps_every_word_of_the_source_after_its_table_of_contents(documents):
    source = Path("/work/shared/knowledge/004_99c200ef2f0481f2.txt")
    if not source.exists():
        pytest.skip("the shared source document is not on this machine")
    words = lambda text: sorted(w for w in text.split() if not re.fullmatch(r"\d{1,2}", w))  # noqa: E731
    body = source.read_text(encoding="utf-8").split("Dynamisk og bæredygtig erhvervsudvikling", 1)[1]
    assert words(documents[POLICY].text) == words("Dynamisk og bæredygtig erhvervsudvikling" + body)


def test_ten_focus_areas_each_with_goal_and_actions(policy_passages):
    for number in range(1, 11):
        area = [p for p in policy_passages if p.focus_area == number]
        assert {p.heading for p in area} == {"MÅL", "HANDLING"}, number
        items = [p.item for p in area if p.heading == "HANDLING"]
        assert items == list(range(1, len(items) + 1)), (number, items)  # in order, none lost
        assert area[0].section.page == number + 3  # the table of contents: area 1 on page 4
        assert area[0].section.label["da"].startswith(f"indsats {number} (")


def test_a_passage_never_crosses_a_focus_area(documents, policy_passages):
    text = documents[POLICY].text
    starts = {s.title: text.index(f"\n{s.title}\n") if s.number else 0 for s in documents[POLICY].sections}
    bounds = sorted(starts.values()) + [len(text)]
    for passage in policy_passages:
        begin = starts[passage.section.title]
        end = next(b for b in bounds if b > begin)
        assert passage.text.replace("\n", " ") in " ".join(text[begin:end].split()), passage.id


def test_every_passage_has_source_date_and_verbatim_text(documents):
    passages = all_passages()
    assert len({p.id for p in passages}) == len(passages)
    for p in passages:
        assert p.source.startswith("http") and isinstance(p.verified, dt.date), p.id
        assert p.text.strip() and p.search_text, p.id
        if p.kind == DOCUMENT:
            flat = " ".join(documents[p.document_id].text.split())
            assert " ".join(p.text.split()) in flat, p.id


def test_the_article_is_split_by_its_sections(documents):
    passages = split(documents[ARTICLE])
    titles = [p.section.title for p in passages]
    assert titles[0] == "Køgeområdet som bæredygtigt kraftcenter i 2030"
    assert {"Løfte i fælles flok og et aktivt valg", "Baggrund for Handletanksmødet", "Om Connect Køge",
            "Om Grøn Omstilling, Teknik- og Miljøforvaltningen, Køge Kommune"} <= set(titles)
    munch = next(p for p in passages if "Allan Munch" in p.text)
    assert munch.section.title == "Løfte i fælles flok og et aktivt valg" and munch.page is None


def test_text_from_any_extractor_without_an_outline():
    """Plain text as a PDF or HTML extractor gives it: headings start sections, wrapped lines
    join into paragraphs, list items become passages, and long paragraphs are cut."""
    text = ("Erhvervsaffald\n\nVirksomheder skal sortere affaldet.\nDet gælder også\nsmå "
            "virksomheder.\n\nSådan gør du\n1. Tilmeld dig ordningen.\n2. Sorter i ti fraktioner.\n\n"
            + " ".join(f"Sætning nummer {i} står her." for i in range(1, 10)))
    document = Document(id="affald", kind="article", title="Affald", title_en="Waste",
                        cited_as={"da": "pjecen", "en": "the leaflet"}, publisher="Køge Kommune",
                        source="https://example.invalid/affald", verified=dt.date(2026, 12, 1),
                        sections=(), text=text)
    passages = split(document)
    assert passages[0].section.title == "Erhvervsaffald"
    assert passages[0].text == "Virksomheder skal sortere affaldet. Det gælder også små virksomheder."
    items = [p for p in passages if p.item is not None]
    assert all(p.section.title == "Sådan gør du" for p in items)
    assert [(p.item, p.text) for p in items] == [(1, "Tilmeld dig ordningen."), (2, "Sorter i ti fraktioner.")]
    long = [p for p in passages if p.text.startswith("Sætning")]
    assert len(long) == 3 and all(p.text.count(".") <= 4 for p in long)


def test_metadata_must_name_source_and_find_its_sections(tmp_path):
    (tmp_path / "x.txt").write_text("Titel\n\nTekst.\n", encoding="utf-8")
    meta = {"id": "x", "kind": "article", "title": "X", "title_en": "X", "publisher": "Y",
            "cited_as": {"da": "X", "en": "X"}, "source": "https://example.invalid/x",
            "verified": "2026-12-01", "text": "x.txt"}
    path = tmp_path / "x.yml"
    path.write_text(yaml.safe_dump(meta), encoding="utf-8")
    assert load_document(path).verified == dt.date(2026, 12, 1)
    path.write_text(yaml.safe_dump({**meta, "sections": [{"title": "Mangler"}]}), encoding="utf-8")
    with pytest.raises(DocumentError, match="not found"):
        load_document(path)
    path.write_text(yaml.safe_dump({k: v for k, v in meta.items() if k != "source"}), encoding="utf-8")
    with pytest.raises(DocumentError, match="source"):
        load_document(path)


def test_knowledge_entries_become_passages_in_both_languages(kb):
    passages = knowledge_passages(kb.entries.values())
    assert len(passages) == 2 * len(kb.entries)
    for p in passages:
        entry = kb.entries[p.intent]
        assert p.kind == KNOWLEDGE and p.language in ("da", "en")
        assert (p.source, p.verified) == (entry.source, entry.verified)
        assert p.text == entry.text[p.language].strip()


def test_a_section_without_number_has_no_focus_area():
    assert Section(title="Om Connect Køge", label={"da": "x", "en": "x"}).number is None
