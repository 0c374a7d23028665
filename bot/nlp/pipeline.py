"""Build the Danish spaCy pipeline that Rasa's ``SpacyNLP`` loads by path.

No trained Danish spaCy model can be installed here and nothing may be downloaded at run
time, so the pipeline is built from ``spacy.blank("da")``:

1. the lookup lemmatizer with the Danish table from ``spacy-lookups-data``;
2. ``koege_lemma_normalizer``: lemmatises capitalised words too and folds æ/ø/å to
   ae/oe/aa, so that Rasa's featurizers (which read lemmas) see one form for both spellings;
3. an entity ruler for CVR numbers, e-mail addresses, Danish phone numbers and the
   municipality's place names.

Build it with ``python -m bot.nlp.pipeline OUTPUT_DIR`` (``make train`` does).
"""


import sys
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from bot.nlp.normalize import fold

DEFAULT_OUTPUT = Path("var/spacy-da")

# Towns, villages and business areas in Køge Kommune.
PLACE_NAMES = [
    "Køge", "Køge Nord", "Køge Kyst", "Borup", "Bjæverskov", "Herfølge", "Ejby", "Lellinge",
    "Ølby", "Ølsemagle", "Gørslev", "Vallø", "Hårlev", "Skensved", "Sonnerup", "Regstrup",
    "Egøje", "Asserbo", "Søndre Havn", "Campus Køge", "Skandinavisk Transport Center",
    "Bækgårdsvej", "Køge Torv",
]


class LemmaNormalizer:
    """Looks capitalised words up in the lemma table and folds æ/ø/å in every lemma."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self._table = None  # loaded on first use, after initialize()

    def _lookup(self):
        if self._table is None:
            lemmatizer = self.nlp.get_pipe("lemmatizer")
            self._table = lemmatizer.lookups.get_table("lemma_lookup")
        return self._table

    def __call__(self, doc: Doc) -> Doc:
        table = self._lookup()
        for token in doc:
            lemma = token.lemma_ or token.text
            if lemma == token.text:
                lower = token.text.lower()
                lemma = table.get(lower, lower)
            token.lemma_ = fold(lemma)
        return doc


@Language.factory("koege_lemma_normalizer")
def make_lemma_normalizer(nlp: Language, name: str) -> LemmaNormalizer:
    return LemmaNormalizer(nlp)


def entity_patterns() -> list[dict]:
    """Entity-ruler patterns: CVR, EMAIL, PHONE and PLACE."""
    two = {"TEXT": {"REGEX": r"^\d{2}$"}}
    four = {"TEXT": {"REGEX": r"^\d{4}$"}}
    prefix = {"TEXT": {"REGEX": r"^(\+45|0045)$"}, "OP": "?"}
    patterns: list[dict] = [
        {"label": "CVR", "pattern": [{"TEXT": {"REGEX": r"^(DK-?)?\d{8}$"}}]},
        {"label": "EMAIL", "pattern": [{"LIKE_EMAIL": True}]},
        {"label": "PHONE", "pattern": [prefix, two, two, two, two]},
        {"label": "PHONE", "pattern": [prefix, four, four]},
        {"label": "PHONE", "pattern": [{"TEXT": {"REGEX": r"^(\+45|0045)\d{8}$"}}]},
    ]
    for place in PLACE_NAMES:
        patterns.append({"label": "PLACE", "pattern": [{"LOWER": w} for w in place.lower().split()]})
    return patterns


def build(output: Path = DEFAULT_OUTPUT) -> Language:
    """Create the pipeline, initialise its lookup tables and save it to ``output``."""
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.add_pipe("koege_lemma_normalizer")
    ruler = nlp.add_pipe("entity_ruler")
    nlp.initialize()
    ruler.add_patterns(entity_patterns())
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return nlp


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    build(target)
    print(f"Danish spaCy pipeline saved to {target}")
