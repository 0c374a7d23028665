"""Danish words of a text as the document index compares them.

* Lemmas from the project's spaCy pipeline (``var/spacy-da``: the lookup lemmatizer with æ/ø/å
  folding, ``bot.nlp``), so "virksomhederne" and "virksomheder" meet, with and without æ/ø/å.
* Stop words removed (``bot.documents.vocabulary``).
* Compounds also as their parts, split against the lemmas of the pipeline's own Danish table:
  "varetransporter" → "varetransport" + "vare", "transport"; "parkeringstilladelse" →
  "parkering", "tilladelse". A word the table does not know gets its last part's lemma
  ("Handletanksmødet" → "handletanksmoede"), as the table would give a known compound.
* Hyphenated words also as their parts ("P-reglerne" → "regel", "CO2-udledningen" → "co2",
  "udledning").

The pipeline is loaded once per process (``default_analyzer``); each analysis holds a lock, as a
spaCy pipeline is not meant for concurrent calls.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from bot.documents.vocabulary import ENGLISH, ENGLISH_STOP_WORDS, STOP_WORDS, SYNONYMS
from bot.nlp.normalize import fold
from bot.settings import ROOT

SPACY_PIPELINE = ROOT / "var" / "spacy-da"
#: Compound parts: a head of at least MIN_HEAD letters ("tog" in "togforbindelse"), a tail of at
#: least MIN_TAIL letters ("møde" in "byrådsmøde").
MIN_HEAD = 3
MIN_TAIL = 4
#: A word of the index is at least this long, or a number ("2030").
MIN_WORD = 2
#: Danish compounds join their parts with these letters ("erhverv-s-areal", "turism-e-strategi").
LINKING = ("s", "e")
#: Lemmas that end words that are no compounds, and are never their part ("virksom-hederne",
#: "politi-kere", "transpar-ente").
NOT_PARTS = frozenset({"hede", "else", "ende", "ning", "kere", "ente", "alen", "isme", "ring"})
_WORDLIKE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Term:
    """One word of a text: its folded lemma, the parts of a compound (or hyphenated word), and
    for a question the document words that a form also stands for (a synonym, an English word):
    ``alternatives`` pairs a form (the lemma or a part) with them."""

    lemma: str
    parts: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, tuple[str, ...]], ...] = ()
    name: bool = False  # written with a capital inside a sentence: a name ("Connect Køge", "LE34")

    def also(self, form: str) -> tuple[str, ...]:
        """The words ``form`` also stands for."""
        return next((words for key, words in self.alternatives if key == form), ())

    def forms(self) -> tuple[str, ...]:
        """Everything the index stores or looks up for this word."""
        extra = (w for _, words in self.alternatives for w in words)
        return tuple(dict.fromkeys((self.lemma, *self.parts, *extra)))


class Analyzer:
    """Text → ``Term``s with the project's Danish spaCy pipeline."""

    def __init__(self, nlp, dictionary: frozenset[str]) -> None:  # noqa: ANN001  (a spaCy Language)
        self._nlp = nlp
        self._lemmatizer = nlp.get_pipe("koege_lemmatizer")
        self._dictionary = dictionary
        self._lock = threading.Lock()
        self._compounds: dict[str, tuple[str, ...]] = {}

    @classmethod
    def load(cls, path: Path = SPACY_PIPELINE) -> Analyzer:
        import spacy

        from bot.nlp import lemmas  # noqa: F401  (registers the koege_lemmatizer factory)

        nlp = spacy.load(path, exclude=["entity_ruler"])
        table = nlp.get_pipe("koege_lemmatizer").table
        # the table's distinct lemmas (bot.nlp.lemmas keeps them in one list; not changed here, as
        # the NLU cache is keyed by bot/nlp's code)
        words = frozenset(fold(w) for w in table._lemmas if len(w) >= MIN_HEAD and w.isalpha())
        return cls(nlp, words)

    # --- words and compounds -----------------------------------------------------------------

    def _lemma(self, text: str) -> str:
        return self._lemmatizer.lemma(text)

    def _known(self, text: str) -> bool:
        """Whether the lemma table has ``text`` (lower case) as a word form."""
        return self._lemmatizer.table.get(text, None) is not None

    def _as_word(self, text: str) -> str | None:
        """The folded lemma of ``text`` if it is a word of the table and looks like a form of it
        (the table maps a few fragments to unrelated words: "svej" → "svejfe")."""
        lemma = self._lemma(text)
        surface = fold(text)
        if lemma not in self._dictionary or len(lemma) > len(surface) + 1 or lemma[:2] != surface[:2]:
            return None
        return lemma

    def compound_parts(self, word: str) -> tuple[str, ...]:
        """The parts (folded lemmas) of a compound, or ()."""
        word = word.lower()
        if word not in self._compounds:
            self._compounds[word] = _split(word, self._as_word)
        return self._compounds[word]

    def _content(self, parts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p in parts if p not in STOP_WORDS and len(p) >= MIN_WORD))

    def _word_terms(self, token: str, lemma: str, language: str, expand: bool) -> list[Term]:
        text = token.lower()
        if language == "en" and text in ENGLISH_STOP_WORDS:
            return []
        if "-" in text.strip("-"):
            parts: list[str] = []
            lemmas: list[str] = []
            for piece in (p for p in text.split("-") if p):
                piece_lemma = self._lemma(piece)
                if piece.endswith("s") and piece_lemma == fold(piece) and self._as_word(piece[:-1]):
                    piece_lemma = self._lemma(piece[:-1])  # "sundheds-innovations park"
                lemmas.append(piece_lemma)
                pieces = self.compound_parts(piece)
                # a compound the table does not know stands for its parts ("innovationspark" in
                # "sundheds-innovationspark": "innovation", "park"), as a whole word would
                parts += [*([] if pieces and not self._known(piece) else [piece_lemma]), *pieces]
            content = self._content(tuple(parts))
            # "ESG-rapporteringer" and "ESG-rapportering" meet: the pieces' lemmas, joined
            return [Term(lemma="-".join(lemmas), parts=content)] if content else []
        if text.endswith("-") and text[-2:-1] == "s" and self._as_word(text[:-2]):
            lemma = self._as_word(text[:-2]) or lemma  # "udbuds- og tilbudsprocesser": "udbud"
        text = text.strip("-")
        lemma = lemma.strip("-")
        if (not lemma or lemma in STOP_WORDS or fold(text) in STOP_WORDS
                or (len(lemma) < MIN_WORD and not lemma.isdigit())):
            return []
        parts = self._content(self.compound_parts(text))
        if parts and not self._known(text):
            lemma = self._unknown_compound(text) or lemma
        if not expand:
            return [Term(lemma=lemma, parts=parts)]
        alternatives: list[tuple[str, tuple[str, ...]]] = []
        derived = self.derived(lemma)
        if derived:
            alternatives.append((lemma, derived))
        english = text if text in ENGLISH else text[:-1] if text.endswith("s") and text[:-1] in ENGLISH else ""
        if language == "en" and english:
            alternatives.append((lemma, self._expansions(ENGLISH[english])))
        for word in (lemma, *parts):
            if word in SYNONYMS and word not in dict(alternatives):
                alternatives.append((word, self._expansions(SYNONYMS[word])))
        return [Term(lemma=lemma, parts=parts, alternatives=tuple(alternatives))]

    def _unknown_compound(self, text: str) -> str | None:
        """A word the table does not know, with its longest known ending as that word's lemma:
        "handletanksmødet" → "handletanksmoede"."""
        for i in range(MIN_HEAD, len(text) - MIN_TAIL + 1):
            lemma = self._as_word(text[i:])
            if lemma:
                return fold(text[:i]) + lemma
        return None

    def derived(self, lemma: str) -> tuple[str, ...]:
        """Words of the same stem in another word class, as the table knows them: the noun of a
        verb ("rekruttere" → "rekruttering", "kortlægge" → "kortlægning", "besøge" → "besøg"), of
        an adjective in -ig ("gennemsigtig" → "gennemsigtighed"), and the reverse."""
        candidates: list[str] = []
        if lemma.endswith("e") and len(lemma) > MIN_TAIL:
            stem = lemma[:-1]
            stems = [stem, stem[:-1]] if len(stem) > 2 and stem[-1] == stem[-2] else [stem]
            candidates += [s + ending for s in stems for ending in ("ning", "")]
            if lemma.endswith("ere"):  # "rekruttere" → "rekruttering" (not "rolle" → "rolling")
                candidates.append(stem + "ing")
        for ending in ("ning", "ing"):
            if lemma.endswith(ending) and len(lemma) > len(ending) + MIN_TAIL:
                candidates.append(lemma[:-len(ending)] + "e")
        if lemma.endswith("ighed"):
            candidates.append(lemma[:-3])
        elif lemma.endswith("ig"):
            candidates.append(lemma + "hed")
        return tuple(dict.fromkeys(c for c in candidates
                                   if c != lemma and len(c) >= MIN_TAIL and c in self._dictionary))

    def _expansions(self, words: tuple[str, ...]) -> tuple[str, ...]:
        """The lemmas of ``words`` (not their parts: "arbejdskraft" stands for itself, not for
        every passage with "arbejde")."""
        return tuple(dict.fromkeys(self._lemma(word) for word in words))

    def terms(self, text: str, language: str = "da", *, expand: bool = True) -> list[Term]:
        """The content words of ``text`` in order (stop words and punctuation left out); with
        ``expand`` (a question, not a passage) each with the words it also stands for."""
        with self._lock:
            doc = self._nlp(text)
        found: list[Term] = []
        for token in doc:
            if _WORDLIKE.search(token.text):
                terms = self._word_terms(token.text, token.lemma_ or fold(token.text), language, expand)
                if terms and _is_name(token):
                    terms = [replace(terms[0], name=True)]
                found += terms
        return found

    def tokens(self, text: str, language: str = "da", *, compounds: bool = True, expand: bool = False
               ) -> list[str]:
        """The index's tokens of ``text``: each word's lemma, with its parts when ``compounds``
        (and with the words it stands for when ``expand``)."""
        out: list[str] = []
        for term in self.terms(text, language, expand=expand):
            out += term.forms() if compounds else [term.lemma, *term.also(term.lemma)]
        return out


def _is_name(token) -> bool:  # noqa: ANN001  (a spaCy Token)
    """A word with a capital (or a digit) that does not start the sentence: "Connect", "Køge",
    "LE34", "ESG-rapportering". Not "I" (Danish "you")."""
    text = token.text
    if len(text) < 2 or token.is_sent_start or token.i == 0:
        return False
    return text[0].isupper() or (any(c.isdigit() for c in text) and any(c.isalpha() for c in text))


def _split(word: str, is_word: Callable[[str], str | None], min_tail: int = MIN_TAIL,
           depth: int = 0) -> tuple[str, ...]:
    """``word`` (lower case, not folded) as the fewest dictionary words: a tail of at least
    ``min_tail`` letters whose lemma is a word, after a head that is a word (with or without a
    linking letter) or splits further; on a tie, the split with a linking letter. () when it
    does not split. ``is_word`` gives a text's folded lemma if it is a word."""
    if len(word) < MIN_HEAD + min_tail or depth > 3 or not word.isalpha():
        return ()
    best: tuple[str, ...] = ()
    best_key = (0, 0, 0)
    for i in range(MIN_HEAD, len(word) - min_tail + 1):
        head, tail = word[:i], word[i:]
        tail_lemma = is_word(tail)
        if tail_lemma is None or tail_lemma in NOT_PARTS or len(tail_lemma) < MIN_TAIL:
            continue
        if fold(head) in STOP_WORDS:  # "med-arbejder", "for-bedre": a prefix, not a compound
            continue
        for linked, candidate in ((0, head), (1, head[:-1] if head.endswith(LINKING) else "")):
            if len(candidate) < MIN_HEAD:
                continue
            head_lemma = is_word(candidate)
            parts = (head_lemma,) if head_lemma else _split(candidate, is_word, MIN_TAIL, depth + 1)
            # The fewest parts; on a tie a head that is a word as written ("gods|transport", not
            # "god|s|transport"), else one with a linking letter ("…innovations|park", not "…|spark").
            key = (-(len(parts) + 1), 1, -linked) if head_lemma else (-(len(parts) + 1), 0, linked)
            if parts and (not best or key > best_key):
                best, best_key = (*parts, tail_lemma), key
    return best


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    """The analyzer over ``var/spacy-da``, loaded once per process."""
    return Analyzer.load()
