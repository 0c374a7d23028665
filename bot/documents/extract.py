"""Plain text of a document staff upload in the console: a text file, a web page (HTML) or a
PDF, or text pasted into the form. The text comes out in the shape ``bot.documents.passages``
reads (``bot.documents.catalogue``): blocks separated by blank lines, headings on lines of
their own, list items as "1. …" or "- …".

* Text: UTF-8 (with or without a byte order mark), else Windows-1252 as Danish Windows
  programs save it; a file with NUL bytes is not text.
* HTML: Python's own parser (``html.parser``; the project has no lxml or Beautiful Soup). Only
  ``<main>`` (else ``<article>``, else ``<body>``) is read, without scripts, styles,
  navigation, headers, footers, forms and asides; headings and paragraphs become blocks, list
  items lines. ``headings`` gives the headings of the highest level below ``<h1>`` as the
  outline; the title is the first ``<h1>``, else ``<title>``.
* PDF: ``pypdf`` (pure Python). Page numbers on lines of their own are dropped, words split at
  a line end joined, and a blank line put after a paragraph's last line and around a heading
  (a short line without end punctuation between sentences), as far as the layout shows them.

Every problem is an ``ExtractError`` with a Danish message for the console's form.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

#: The largest file staff may upload.
MAX_BYTES = 5 * 1024 * 1024
#: The most pages of a PDF read.
MAX_PAGES = 500
TEXT, HTML, PDF, PASTE = "txt", "html", "pdf", "paste"
EXTENSIONS = {".txt": TEXT, ".text": TEXT, ".md": TEXT, ".html": HTML, ".htm": HTML, ".xhtml": HTML, ".pdf": PDF}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_PAGE_NUMBER = re.compile(r"^(side\s+)?\d{1,4}(\s*(/|af)\s*\d{1,4})?$", re.IGNORECASE)
_LIST_ITEM = re.compile(r"^(\d{1,2}[.)]|[-•*–])\s+\S")
_SENTENCE_END = (".", "!", "?", ":", ";", ",")
HEADING_MAX_CHARS = 90
HEADING_MAX_WORDS = 12


class ExtractError(ValueError):
    """The file cannot be used; the message says why, in Danish, for the form."""


@dataclass(frozen=True)
class Extracted:
    text: str
    origin: str  # txt | html | pdf | paste
    title: str | None = None  # as the file names itself, if it does
    headings: tuple[str, ...] = ()  # HTML: the outline its headings give


def kind_of(filename: str) -> str:
    """txt, html or pdf by the file's name; ``ExtractError`` for any other."""
    name = (filename or "").lower().strip()
    for ending, kind in EXTENSIONS.items():
        if name.endswith(ending):
            return kind
    raise ExtractError("Filtypen kan ikke bruges. Upload en tekstfil (.txt), en webside (.html) eller en PDF (.pdf) "
                       "– eller indsæt teksten i feltet.")


def extract(data: bytes, filename: str) -> Extracted:
    """The text of an uploaded file (its kind by its name)."""
    kind = kind_of(filename)
    if not data:
        raise ExtractError("Filen er tom.")
    if len(data) > MAX_BYTES:
        raise ExtractError(f"Filen er for stor ({_megabytes(len(data))}). Den må højst være "
                           f"{MAX_BYTES // (1024 * 1024)} MB.")
    if kind == PDF:
        found = from_pdf(data)
    elif kind == HTML:
        found = from_html(decode(data))
    else:
        if data.lstrip()[:5] == b"%PDF-":
            raise ExtractError("Filen er en PDF, men hedder ikke .pdf. Giv den endelsen .pdf og prøv igen.")
        found = Extracted(tidy(decode(data)), TEXT)
    if not found.text.strip():
        raise ExtractError("Der er ingen tekst i filen.")
    return found


def from_paste(text: str) -> Extracted:
    """Text pasted into the form."""
    found = tidy(text)
    if not found.strip():
        raise ExtractError("Der er ingen tekst: upload en fil, eller indsæt teksten.")
    return Extracted(found, PASTE)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def decode(data: bytes) -> str:
    """Text from bytes: UTF-8, else Windows-1252; NUL bytes mean it is not text."""
    if b"\x00" in data[:65536]:
        raise ExtractError("Filen er ikke en tekstfil. Upload en tekstfil (.txt), en webside (.html) eller en PDF.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def tidy(text: str) -> str:
    """Line ends as \\n, no control characters, white space within lines as one space, lines
    stripped, at most one blank line in a row, no blank lines at the ends."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# --- HTML ------------------------------------------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "svg", "nav", "header", "footer", "form", "aside", "button",
         "select", "iframe", "object", "canvas", "head"}
_BLOCKS = {"p", "div", "section", "article", "main", "body", "blockquote", "pre", "table", "tr", "dl", "dt", "dd",
           "figure", "figcaption", "address", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "br",
           "td", "th", "caption", "details", "summary"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _Reader(HTMLParser):
    """Blocks of a web page: (kind, text, level, where) with kind "p", "item" or "heading" and
    where the innermost of main/article/body it stands in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, int, str]] = []
        self.title = ""
        self._in_title = False
        self._skip = 0
        self._buffer: list[str] = []
        self._open: list[str] = []  # the open elements that matter: lists, headings, main, article
        self._counters: list[int] = []  # numbered lists' item counters

    def _where(self) -> str:
        for tag in reversed(self._open):
            if tag in ("main", "article"):
                return tag
        return "body"

    def flush(self, kind: str = "p", level: int = 0) -> None:
        text = _SPACES.sub(" ", "".join(self._buffer)).strip()
        self._buffer = []
        if text:
            self.blocks.append((kind, text, level, self._where()))

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001 - HTMLParser's signature
        if tag == "title":
            self._in_title = True
        if tag == "body":
            self._skip = 0  # a head never closed
        if tag in _SKIP:
            if tag not in _VOID:
                self._skip += 1
            return
        if self._skip:
            return
        if tag in _BLOCKS:
            self.flush(self._current_kind(), self._current_level())
        if tag in ("ul", "ol"):
            self._open.append(tag)
            self._counters.append(0)
        elif tag == "li":
            self._open.append("li")
            if self._counters and self._list() == "ol":
                self._counters[-1] += 1
                self._buffer.append(f"{self._counters[-1]}. ")
            else:
                self._buffer.append("- ")
        elif tag in _HEADINGS or tag in ("main", "article"):
            self._open.append(tag)
        elif tag in ("td", "th"):
            self._buffer.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if not self._skip and tag in ("br", "hr"):
            self.flush(self._current_kind(), self._current_level())

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in _SKIP:
            if tag not in _VOID:
                self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in _BLOCKS:
            self.flush(self._current_kind(), self._current_level())
        if tag in ("ul", "ol", "li", "main", "article") or tag in _HEADINGS:
            if tag in self._open:
                while self._open:
                    popped = self._open.pop()
                    if popped in ("ul", "ol") and self._counters:
                        self._counters.pop()
                    if popped == tag:
                        break

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if not self._skip:
            self._buffer.append(data)

    def _list(self) -> str | None:
        return next((t for t in reversed(self._open) if t in ("ul", "ol")), None)

    def _current_kind(self) -> str:
        for tag in reversed(self._open):
            if tag in _HEADINGS:
                return "heading"
            if tag == "li":
                return "item"
        return "p"

    def _current_level(self) -> int:
        return next((_HEADINGS[t] for t in reversed(self._open) if t in _HEADINGS), 0)


def from_html(markup: str) -> Extracted:
    """The text of a web page (see the module's docstring)."""
    reader = _Reader()
    try:
        reader.feed(markup)
        reader.close()
    except (AssertionError, ValueError) as err:  # html.parser gives up only on very broken markup
        raise ExtractError("Websiden kunne ikke læses. Gem den som tekst (.txt), eller indsæt teksten.") from err
    reader.flush()
    blocks = reader.blocks
    for part in ("main", "article"):
        inside = [b for b in blocks if b[3] == part]
        if inside:
            blocks = inside
            break
    parts: list[str] = []
    previous = ""
    for kind, text, _level, _where in blocks:
        if kind == "item" and previous == "item":
            parts[-1] += "\n" + text
        elif kind == "item" and previous == "heading":
            parts[-1] += "\n" + text  # a heading and its list: one block, as split reads it
        else:
            parts.append(text)
        previous = kind
    headings = [(level, text) for kind, text, level, _ in blocks if kind == "heading"]
    h1 = next((text for level, text in headings if level == 1), None)
    below = [level for level, _ in headings if level > 1]
    outline = tuple(dict.fromkeys(text for level, text in headings if below and level == min(below)))
    title = h1 or _SPACES.sub(" ", reader.title).strip() or None
    return Extracted(tidy("\n\n".join(parts)), HTML, title=title, headings=outline)


# --- PDF -------------------------------------------------------------------------------------

def from_pdf(data: bytes) -> Extracted:
    """The text of a PDF (see the module's docstring)."""
    if b"%PDF-" not in data[:1024]:
        raise ExtractError("Filen hedder .pdf, men er ikke en PDF. Vælg den rigtige fil, eller gem dokumentet som PDF "
                           "igen.")
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractError("PDF-filen er beskyttet med en adgangskode. Gem den uden beskyttelse, og prøv igen.")
        if len(reader.pages) > MAX_PAGES:
            raise ExtractError(f"PDF-filen har mere end {MAX_PAGES} sider.")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata or {}).get("/Title")
    except ExtractError:
        raise
    except Exception as err:  # noqa: BLE001 - pypdf raises many kinds of errors for a broken file
        raise ExtractError("PDF-filen kunne ikke læses; den kan være beskadiget. Prøv at gemme den som PDF igen, "
                           "eller indsæt teksten.") from err
    text = pdf_text(pages)
    if not text.strip():
        raise ExtractError("PDF-filen har ingen tekst, der kan læses (er den en scanning?). Indsæt teksten i feltet "
                           "i stedet.")
    title = str(title).strip() if title else None
    return Extracted(text, PDF, title=title or None)


def _heading_like(line: str) -> bool:
    return (0 < len(line) <= HEADING_MAX_CHARS and len(line.split()) <= HEADING_MAX_WORDS
            and not line.endswith(_SENTENCE_END) and not _LIST_ITEM.match(line))


def _starts_sentence(line: str) -> bool:
    return bool(line) and (line[0].isupper() or line[0].isdigit() or line[0] in "»\"“„(")


def pdf_text(pages: list[str]) -> str:
    """The pages' text as blocks (see the module's docstring)."""
    blocks: list[str] = []
    for page in pages:
        lines = [_SPACES.sub(" ", line).strip() for line in tidy(page).split("\n")]
        lines = [line for line in lines if not _PAGE_NUMBER.match(line)]
        joined: list[str] = []
        for line in lines:  # a word split at the line's end: "udvik-" + "ling"
            if (joined and joined[-1].endswith("-") and len(joined[-1]) > 1 and joined[-1][-2].islower()
                    and line[:1].islower()):
                joined[-1] = joined[-1][:-1] + line
            else:
                joined.append(line)
        full = max((len(line) for line in joined), default=0)
        out: list[str] = []
        for i, line in enumerate(joined):
            if not line:
                out.append("")
                continue
            before = out[-1] if out else ""
            after = joined[i + 1] if i + 1 < len(joined) else ""
            heading = (_heading_like(line) and (not before or before.endswith((".", "!", "?", ":")))
                       and (not after or _starts_sentence(after) or _LIST_ITEM.match(after)))
            if heading and before:
                out.append("")
            out.append(line)
            if heading and after and not _LIST_ITEM.match(after):
                out.append("")
            elif (line.endswith((".", "!", "?")) and after and _starts_sentence(after) and not _LIST_ITEM.match(after)
                  and len(line) < 0.7 * full):
                out.append("")  # a paragraph's last, shorter line
        blocks.append(tidy("\n".join(out)))
    return tidy("\n\n".join(b for b in blocks if b))
