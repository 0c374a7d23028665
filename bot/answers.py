"""A factual answer: its structure, and the one message it becomes on every channel.

An ``Answer`` is a body text with, as its footer, the contacts to use for *this* topic, where
a quote comes from (a document and its section, for answers quoted from documents) and the
source with the date it was last checked. ``message(answer, buttons)`` is the one function
that turns it into what an action sends::

    from bot import answers

    answer = answers.Answer(
        body="Virksomheder kan søge …",
        source=answers.Source("https://www.koege.dk/…", dt.date(2026, 11, 22), title="koege.dk"),
        language="da",
        contacts=(answers.Contact("Teknik- og Miljøforvaltningen", email="tmf@koege.dk"),),
        quote=answers.Quote("Køge Kommunes udkast til erhvervspolitik 2024",
                            section="indsats 4 (Bedre tilgængelighed for varer og arbejdskraft til virksomhederne)"),
    )
    dispatcher.utter_message(**answers.message(answer, buttons))

The message holds the answer twice, so that it stays ONE message everywhere:

- ``text``: the whole answer as text – the body, a blank line, then the compact footer, one
  line each (``Kontakt: …``, ``Kilde: [site](url) (kontrolleret 22. november 2026)``) in the
  light markdown the widget and the Telegram bridge render (bold, ``[title](https://…)``) and
  plain-text clients show as it is. A client that reads only ``text`` gets everything.
- ``custom``: ``{"answer": parts(answer)}``, the same in structured form for clients that lay
  an answer out themselves: ``body``, ``contacts`` (``name``, ``email``, ``phone``,
  ``phone_hours``, ``address``, ``url``), ``source`` (``url``, ``title``, ``verified`` as an ISO
  date, ``verified_text`` as the answer's language writes it, ``more``: the other sources'
  ``url`` and ``title``), ``quote`` (``document``,
  ``section``) or null, ``footer`` (the footer's lines, as in ``text``) and ``language``.

The channels keep it one message (``bot/channels``: socket.io and REST send ``text``, the
buttons and ``custom`` together instead of a message per paragraph; the Telegram bridge sends
one ``sendMessage`` with an HTML footer); the widget shows the body and the footer in one bubble
with the rating under it. Every label ("Kontakt", "Kilde", "kontrolleret", "Uddrag af") is a
response in ``domain.yml`` (``utter_knowledge_*``), in Danish and English.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot import wording

LANGUAGES = ("da", "en")
#: The ``kind`` of an answer's message: the widget shows rating buttons under it.
KIND = "answer"
#: The footer's lines (domain.yml): "Kontakt: {unit}", "Kilde: {link} (kontrolleret {date})",
#: "Kilder: {links} (kontrolleret {date})", "Uddrag af {document}" and
#: "Uddrag af {document}, {section}".
CONTACT_LINE = "utter_knowledge_contact_line"
SOURCE_LINE = "utter_knowledge_source"
SOURCES_LINE = "utter_knowledge_sources"
QUOTE_LINE = "utter_knowledge_quote"
QUOTE_SECTION_LINE = "utter_knowledge_quote_section"
#: The ``custom`` key of an answer's structured parts.
CUSTOM_KEY = "answer"


def long_date(day: dt.date, lang: str) -> str:
    """``day`` in the long form of ``lang``: "22. november 2026", "22 November 2026"."""
    return wording.format_date(day, lang)


def site_name(url: str) -> str:
    """The host of ``url`` without "www." ("koege.dk", "sn.dk")."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def source_link(url: str, title: str | None = None) -> str:
    """A markdown link whose text is ``title`` or the site's name; the URL's parentheses,
    spaces, quotes and angle brackets are escaped so that the link survives markdown renderers."""
    text = (title or site_name(url)).replace("[", "(").replace("]", ")")
    target = url
    for char, escaped in ((" ", "%20"), ("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E"), ('"', "%22")):
        target = target.replace(char, escaped)
    return f"[{text}]({target})"


@dataclass(frozen=True)
class Contact:
    """Whom to contact about the answer's topic, and how (only what ``contacts.yml`` holds)."""

    name: str
    email: str | None = None
    phone: str | None = None
    phone_hours: str | None = None
    address: str | None = None
    url: str | None = None

    def reach(self) -> list[str]:
        """How the footer says to reach the unit: e-mail and phone, else its address."""
        return [v for v in (self.email, self.phone) if v] or [v for v in (self.address,) if v]


@dataclass(frozen=True)
class Source:
    """Where the answer comes from and when it was last checked against it. ``more``: the
    sources of the answer's other sentences, when one source does not back them all."""

    url: str
    verified: dt.date
    title: str | None = None  # the link's text; else the site's name
    more: tuple[str, ...] = ()

    @property
    def link_text(self) -> str:
        return self.title or site_name(self.url)

    def links(self) -> list[tuple[str, str]]:
        """(url, link text) of each source; a site named before is numbered ("sn.dk (2)")."""
        seen: dict[str, int] = {self.link_text: 1}
        found = [(self.url, self.link_text)]
        for url in self.more:
            name = site_name(url)
            seen[name] = seen.get(name, 0) + 1
            found.append((url, name if seen[name] == 1 else f"{name} ({seen[name]})"))
        return found


@dataclass(frozen=True)
class Quote:
    """The document (and its section) an answer quotes."""

    document: str
    section: str | None = None


@dataclass(frozen=True)
class Answer:
    body: str
    source: Source
    language: str = "da"
    contacts: tuple[Contact, ...] = ()
    quote: Quote | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"an answer's language is one of {LANGUAGES}, not {self.language!r}")
        if not self.body.strip():
            raise ValueError("an answer needs a body")


def contact_line(contact: Contact, lang: str) -> str:
    """"Kontakt: Teknik- og Miljøforvaltningen, tmf@koege.dk"."""
    reach = contact.reach()
    return wording.text(CONTACT_LINE, lang, unit=contact.name + (f", {', '.join(reach)}" if reach else ""))


def source_line(source: Source, lang: str) -> str:
    """"Kilde: [koege.dk](https://…) (kontrolleret 22. november 2026)", or with more sources
    "Kilder: [koege.dk](https://…), [sn.dk](https://…) og [ft.dk](https://…) (kontrolleret …)"."""
    date = long_date(source.verified, lang)
    if not source.more:
        return wording.text(SOURCE_LINE, lang, link=source_link(source.url, source.title), date=date)
    return wording.text(SOURCES_LINE, lang, date=date, links=wording.format_list(
        [source_link(url, title) for url, title in source.links()], lang))


def quote_line(quote: Quote, lang: str) -> str:
    """"Uddrag af Køge Kommunes udkast til erhvervspolitik 2024, indsats 4 (…)"."""
    if quote.section:
        return wording.text(QUOTE_SECTION_LINE, lang, document=quote.document, section=quote.section)
    return wording.text(QUOTE_LINE, lang, document=quote.document)


def footer(answer: Answer) -> list[str]:
    """The footer's lines: the quoted document, the contacts, the source."""
    lang = answer.language
    quoted = [quote_line(answer.quote, lang)] if answer.quote else []
    return [*quoted, *(contact_line(c, lang) for c in answer.contacts), source_line(answer.source, lang)]


def text(answer: Answer) -> str:
    """The whole answer as one text: the body, a blank line, the footer's lines."""
    return answer.body.strip() + "\n\n" + "\n".join(footer(answer))


def parts(answer: Answer) -> dict[str, Any]:
    """The answer's parts as JSON (``custom.answer`` of its message)."""
    source = answer.source
    return {
        "language": answer.language,
        "body": answer.body.strip(),
        "contacts": [{"name": c.name, "email": c.email, "phone": c.phone, "phone_hours": c.phone_hours,
                      "address": c.address, "url": c.url} for c in answer.contacts],
        "source": {"url": source.url, "title": source.link_text, "verified": source.verified.isoformat(),
                   "verified_text": long_date(source.verified, answer.language),
                   "more": [{"url": url, "title": title} for url, title in source.links()[1:]]},
        "quote": ({"document": answer.quote.document, "section": answer.quote.section}
                  if answer.quote else None),
        "footer": footer(answer),
    }


def message(answer: Answer, buttons: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """What an action sends for ``answer``: ``dispatcher.utter_message(**message(answer, buttons))``."""
    return {"text": text(answer), "buttons": [dict(b) for b in buttons],
            "custom": {CUSTOM_KEY: parts(answer)}, "kind": KIND}


def of(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """The structured parts of an answer's message (as a channel or client receives it:
    ``custom.answer``), or None for any other message or parts that are not well formed."""
    custom = message.get("custom")
    found = custom.get(CUSTOM_KEY) if isinstance(custom, Mapping) else None
    if not isinstance(found, Mapping):
        return None
    body, lines = found.get("body"), found.get("footer")
    if not (isinstance(body, str) and body.strip() and isinstance(lines, list)
            and all(isinstance(line, str) for line in lines)):
        return None
    return dict(found)
