"""Whether a question asks if the municipality has something the assistant has never heard of.

"Har kommunen et mentorprogram for kvindelige iværksættere?" is about entrepreneurs, but the
entrepreneurs' written answer says nothing about a mentor programme: given as the answer, it
reads as if it answered (or as if there were one). When a question asks whether something
exists ("har kommunen/I et …", "findes/er der en …", "tilbyder I …") and the name of that thing
(the last word of its noun phrase; of each, for "et iværksætterhus eller kontorfællesskab")
occurs nowhere in what the assistant knows — its written answers, the documents' passages and
the NLU's training examples — it says it does not know of one before the topic's answer
(``actions/routing.py``, NO_FACT). A thing it knows a word for ("et netværk", "en plan", "en
pulje") is left to the answer and the documents.

Only Danish questions are read; the words are compared folded (æ → ae …) and without their
inflection ("programmet", "puljer"), as a part of a longer word too ("netværk" is known from
"iværksætternetværk").
"""
from __future__ import annotations

import re
from collections.abc import Callable

from bot.nlp.normalize import fold

_AFTER = r"(?=\s+(?:til|for|med|i|på|om|hvor|hvori|som|der|af|ved|hos|inden|uden|så)\b|\s*[?.,!;:]|\s*$)"
_THING = r"(?P<article>et|en|nogen|nogle)\s+(?P<phrase>[\wæøå-]+(?:\s+[\wæøå-]+){0,3}?)" + _AFTER
#: "Har kommunen et …", "Tilbyder I en …", "Findes der et …", "Er der nogen …".
_ASKS = re.compile(
    r"\b(?:har|tilbyder|giver|driver|laver|kører)\s+(?:kommunen|i|køge kommune|køge|man|jeres kommune)\s+"
    r"(?:også\s+|nu\s+|stadig\s+)?" + _THING
    + r"|\b(?:findes|er)\s+der\s+(?:også\s+|nu\s+|stadig\s+)?" + _THING.replace("?P<", "?P<x_"),
    re.IGNORECASE)
_ALTERNATIVES = re.compile(r"\s+(?:eller|og|/)\s+", re.IGNORECASE)
_ENDINGS = ("erne", "ene", "ets", "ens", "er", "en", "et", "e")
#: Shorter words are too often part of other words to say anything.
MIN_LENGTH = 5


def stem(word: str) -> str:
    """``word`` folded, lower case, without a Danish inflection ending (at least four letters kept)."""
    word = fold(word.lower())
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def asked_thing(question: str) -> str | None:
    """The thing ``question`` asks whether the municipality has, with its article ("et
    mentorprogram"); None when it asks no such question."""
    found = _ASKS.search(question)
    if not found:
        return None
    article = found.group("article") or found.group("x_article")
    phrase = found.group("phrase") or found.group("x_phrase")
    return f"{article.lower()} {phrase}"


def unknown_thing(question: str, known: Callable[[str], bool]) -> str | None:
    """The thing ``question`` asks whether the municipality has ("et mentorprogram"), when none
    of its names is ``known`` (a stem the assistant's texts hold); None otherwise."""
    thing = asked_thing(question)
    if thing is None:
        return None
    heads = [alternative.split()[-1] for alternative in _ALTERNATIVES.split(thing.split(" ", 1)[1])]
    names = [stem(head) for head in heads if len(head) >= MIN_LENGTH]
    if not names or len(names) < len(heads) or any(known(name) for name in names):
        return None
    return thing
