"""Sentences and brief quotes of Danish text, cut only at sentence boundaries (never mid-word).

Danish abbreviations ("bl.a.", "f.eks.", "eks.", "evt.") do not end a sentence. A line break
inside a passage (a signature, an address) does.
"""
from __future__ import annotations

import re
from collections.abc import Callable

#: Abbreviations that end with a full stop but not a sentence (lower case).
ABBREVIATIONS = frozenset(
    "bl.a. f.eks. eks. evt. m.m. m.fl. mv. osv. jf. ca. nr. kl. pkt. inkl. ekskl. dvs. iflg. vedr. "
    "hhv. ang. mht. pga. tlf. st. e.g. i.e.".split()
)
#: A quote is at most this many sentences and characters (the passage's own words).
QUOTE_MAX_SENTENCES = 3
QUOTE_MAX_CHARS = 450
ELLIPSIS = "…"
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"»“„–\-(]?\s?[A-ZÆØÅ0-9])")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` in order, each stripped; a line break ends a sentence."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        start = 0
        for match in _BOUNDARY.finditer(line):
            before = line[start:match.start()]
            last_word = before.rsplit(None, 1)[-1].lower() if before.split() else ""
            if last_word in ABBREVIATIONS:
                continue
            found.append(before.strip())
            start = match.end()
        found.append(line[start:].strip())
    return [s for s in found if s]


def cut_at_word(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its words up to the limit and "…"."""
    if len(text) <= limit:
        return text
    head = text[:limit - len(ELLIPSIS) + 1]
    head = head[:head.rfind(" ")] if " " in head else head[:limit - len(ELLIPSIS)]
    return head.rstrip(" ,;:–-") + ELLIPSIS


def quote(text: str, relevance: Callable[[str], float] | None = None, *,
          max_sentences: int = QUOTE_MAX_SENTENCES, max_chars: int = QUOTE_MAX_CHARS) -> str:
    """A brief verbatim quote of ``text``: the whole text when it is short enough, else the run
    of at most ``max_sentences`` consecutive sentences within ``max_chars`` that ``relevance``
    (a sentence's weight for the question) rates highest, the earliest on a tie. A single
    sentence longer than ``max_chars`` is cut after a whole word with "…"."""
    parts = sentences(text)
    joined = " ".join(parts)
    if len(parts) <= max_sentences and len(joined) <= max_chars:
        return joined if "\n" not in text else "\n".join(parts)
    weights = [relevance(s) if relevance else 0.0 for s in parts]
    best: tuple[float, int, int] | None = None  # (weight, -start, -length)
    best_run = (0, 1)
    for start in range(len(parts)):
        for end in range(start + 1, min(start + max_sentences, len(parts)) + 1):
            run = " ".join(parts[start:end])
            if len(run) > max_chars:
                break
            key = (sum(weights[start:end]), -start, -(end - start))
            if best is None or key > best:
                best, best_run = key, (start, end)
    if best is None:  # every sentence alone is too long: the most relevant one, cut at a word
        i = max(range(len(parts)), key=lambda k: (weights[k], -k))
        return cut_at_word(parts[i], max_chars)
    return " ".join(parts[best_run[0]:best_run[1]])
