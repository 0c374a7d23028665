"""The text of documents staff upload (bot.documents.extract): text files, web pages, PDFs, and
the Danish messages for files that cannot be used."""
from __future__ import annotations

import pytest

from bot.documents import extract
from bot.documents.catalogue import stored_document
from bot.documents.passages import split
from tests.documents.pdf import make_pdf

PAGE = """<!doctype html>
<html lang="da"><head><title>Cykelparkering – Køge Kommune</title><style>p { color: red }</style>
<script>var x = "<p>ikke tekst</p>";</script></head>
<body><header><nav><ul><li><a href="/">Forside</a></li><li>Borger</li></ul></nav></header>
<main>
<h1>Cykelparkering ved Ølby Station</h1>
<p>Køge Kommune bygger overdækket   cykelparkering ved <b>Ølby Station</b>.<br>Anlægget åbner i 2027.</p>
<h2>Sådan gør vi</h2>
<h3>Handlinger</h3>
<ol><li>Tegninger i 2026.</li><li>Udbud af byggeriet &amp; anlæg.</li></ol>
<h2>Økonomi</h2>
<p>Anlægget koster 4 mio. kr.</p>
</main>
<footer><p>Kontakt os på 56 67 67 67</p></footer>
</body></html>"""


def test_a_text_file_in_utf8_or_windows_1252_is_tidied():
    found = extract.extract("\ufeffFormål\r\n\r\n\r\n\r\nKommunen  vil\tbygge.\x07  \r\n".encode(), "noter.txt")
    assert (found.text, found.origin) == ("Formål\n\nKommunen vil bygge.", "txt")
    assert extract.extract("Æbler og øl på Åsen".encode("cp1252"), "gammel.TXT").text == "Æbler og øl på Åsen"


def test_a_web_page_gives_its_main_text_with_headings_and_lists_and_its_outline():
    found = extract.extract(PAGE.encode(), "side.html")
    assert found.origin == "html" and found.title == "Cykelparkering ved Ølby Station"
    assert found.text == (
        "Cykelparkering ved Ølby Station\n\n"
        "Køge Kommune bygger overdækket cykelparkering ved Ølby Station.\n\nAnlægget åbner i 2027.\n\n"
        "Sådan gør vi\n\nHandlinger\n1. Tegninger i 2026.\n2. Udbud af byggeriet & anlæg.\n\n"
        "Økonomi\n\nAnlægget koster 4 mio. kr.")
    assert found.headings == ("Sådan gør vi", "Økonomi")  # the highest level below h1
    for chrome in ("Forside", "Kontakt os", "ikke tekst", "color"):
        assert chrome not in found.text
    document = stored_document("cykel", kind="article", title=found.title, source="https://www.koege.dk/cykel",
                               verified=__import__("datetime").date(2026, 12, 1), text=found.text,
                               sections=found.headings)
    passages = split(document)
    items = [(p.section.title if p.section else None, p.heading, p.item, p.text) for p in passages]
    assert ("Sådan gør vi", "Handlinger", 2, "Udbud af byggeriet & anlæg.") in items
    assert ("Økonomi", None, None, "Anlægget koster 4 mio. kr.") in items


def test_a_page_without_main_is_read_from_its_body():
    found = extract.from_html("<html><body><div><p>Første afsnit.</p><ul><li>et</li><li>to</li></ul></div>"
                              "<p>Sidste</body>")
    assert found.text == "Første afsnit.\n\n- et\n- to\n\nSidste" and found.title is None


def test_a_pdf_made_with_pypdf_gives_its_text_blocks_and_title():
    data = make_pdf([
        ["Cykelparkering i Ølby", "Formål",
         "Kommunen vil bygge overdækket cykelparkering ved Ølby Station, så pendlere kan",
         "stille cyklen tørt. Anlægget åbner i foråret 2027 og har plads til 400 cykler.",
         "Handlinger", "1. Tegninger i 2026.", "2. Udbud af byggeriet.", "3"],
        ["Drift", "Anlægget drives af Teknik- og Miljø-", "forvaltningen og bliver gjort rent hver uge."],
    ], title="Cykelparkering i Ølby (PDF)")
    found = extract.extract(data, "Cykel.PDF")
    assert found.origin == "pdf" and found.title == "Cykelparkering i Ølby (PDF)"
    blocks = found.text.split("\n\n")
    assert blocks[:2] == ["Cykelparkering i Ølby", "Formål"]
    assert blocks[2].startswith("Kommunen vil bygge overdækket cykelparkering ved Ølby Station, så pendlere kan\n")
    assert "Handlinger\n1. Tegninger i 2026.\n2. Udbud af byggeriet." in blocks
    assert "3" not in blocks  # a page number on a line of its own
    assert blocks[-2:] == ["Drift", "Anlægget drives af Teknik- og Miljøforvaltningen og bliver gjort rent hver uge."]


@pytest.mark.parametrize(("data", "name", "message"), [
    (b"", "tom.txt", "Filen er tom."),
    (b"", "tom.pdf", "Filen er tom."),
    (b"Det her er ikke en PDF", "falsk.pdf", "Filen hedder .pdf, men er ikke en PDF"),
    (b"%PDF-1.7\nikke mere end det", "brudt.pdf", "PDF-filen kunne ikke læses"),
    (b"%PDF-1.4 en pdf med forkert navn", "forkert.txt", "Filen er en PDF, men hedder ikke .pdf"),
    (b"PK\x03\x04\x00\x00", "brev.docx", "Filtypen kan ikke bruges"),
    (b"\x00\x01\x02binary", "data.txt", "Filen er ikke en tekstfil"),
    (b"   \n\n  ", "blank.txt", "Der er ingen tekst i filen."),
    (b"<html><body><script>x()</script></body></html>", "tom.html", "Der er ingen tekst i filen."),
    (b"x" * (extract.MAX_BYTES + 1), "stor.txt", "Filen er for stor (5,0 MB). Den må højst være 5 MB."),
])
def test_files_that_cannot_be_used_get_a_danish_message(data, name, message):
    with pytest.raises(extract.ExtractError) as err:
        extract.extract(data, name)
    assert message in str(err.value)


def test_a_pdf_with_no_text_layer_is_refused_with_a_hint():
    with pytest.raises(extract.ExtractError, match="ingen tekst, der kan læses"):
        extract.extract(make_pdf([[]]), "scannet.pdf")


def test_pasted_text_is_tidied_and_must_have_words():
    assert extract.from_paste("  Titel\r\n\r\nTekst.  ").text == "Titel\n\nTekst."
    with pytest.raises(extract.ExtractError, match="Der er ingen tekst"):
        extract.from_paste("\x07 \n ")
