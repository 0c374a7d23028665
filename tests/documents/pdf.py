"""Small PDFs made with pypdf for the tests: pages of lines in Helvetica (Windows-1252, so æ, ø
and å are real characters of the text), one line under the other, as a word processor sets them."""
from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _string(line: str) -> str:
    escaped = line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return "(" + escaped.decode("latin-1") + ")"


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A PDF of ``pages``, each a list of lines; ``title`` in its metadata."""
    writer = PdfWriter()
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))
    for lines in pages:
        page = writer.add_blank_page(width=595, height=842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        content = DecodedStreamObject()
        content.set_data("\n".join(["BT /F1 11 Tf 14 TL 60 780 Td", *(f"{_string(line)} Tj T*" for line in lines),
                                    "ET"]).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
