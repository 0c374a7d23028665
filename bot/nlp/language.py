"""Tell Danish from English in a user message, so the assistant answers in the same language.

Short replies such as "ok", "ja" or a CVR number carry no signal: ``detect`` returns None for
them, and the conversation keeps the language it had.
"""
from __future__ import annotations

import re

from bot.nlp.normalize import words
from bot.nlp.places import NAME_WORDS

ENGLISH = frozenset(
    """the a an is are am was be do does did i you we our my your it this that what which who
    how where when why can could would should will there their them they to of for in on with
    and or about need want please help hello hi thanks thank company business grant grants
    permit contact get have has any apply much many me us next tomorrow today monday tuesday
    wednesday thursday friday morning afternoon yes no not don know visit book booking cancel
    move would like at""".split()
)
DANISH = frozenset(
    """og i jeg du vi det den der er at en et til på paa af med for om hvad hvem hvordan hvor
    hvornaar hvornår kan skal vil har ikke min mit mine vores jeres hej tak ja nej gerne mig os
    noget nogen man som sig hvilke hvilken virksomhed virksomheden kommunen tilskud hjælp
    hjaelp""".split()
)


#: How people close a chat in English: a message of these words alone ("thx, bye", "cheers") is
#: English even though it is short (a Danish "tak" or "hej hej" is not among them).
CLOSINGS = frozenset("thx thanx thnx ty bye goodbye byebye cheers cya appreciated".split())

#: Words of both languages ("i", "at", "can" …) say nothing about which one it is.
AMBIGUOUS = ENGLISH & DANISH


def detect(text: str) -> str | None:
    """``"en"`` or ``"da"`` when the message is clearly one of them, else None."""
    tokens = [t for t in words(text) if t not in AMBIGUOUS]
    if not tokens:
        return None
    english = sum(t in ENGLISH for t in tokens)
    # æ/ø/å are a sign of Danish, except in names an English message writes the same way ("Køge")
    unnamed = " ".join(w for w in re.findall(r"\w+", text.lower()) if w not in NAME_WORDS)
    danish = sum(t in DANISH for t in tokens) + sum(ch in unnamed for ch in "æøå")
    if danish == 0 and any(t in CLOSINGS for t in tokens) and all(t in ENGLISH or t in CLOSINGS or t in ("ok", "okay") for t in tokens):
        return "en"
    if english >= 2 and english > danish:
        return "en"
    if english == 1 and danish == 0 and len(tokens) <= 3 and tokens[0] in {"hello", "hi", "thanks", "help"}:
        return "en"
    if danish >= 1 and danish >= english:
        return "da"
    return None
