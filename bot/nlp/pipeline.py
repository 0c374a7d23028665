"""Build the Danish spaCy pipeline that Rasa's ``SpacyNLP`` loads by path.

No trained Danish spaCy model can be installed here and nothing may be downloaded at run
time, so the pipeline is built from ``spacy.blank("da")``:

1. ``koege_lemmatizer`` (``bot.nlp.lemmas``): the Danish lemma table of
   ``spacy-lookups-data`` — the one spaCy's lookup lemmatizer uses, kept in compact arrays —
   also for capitalised words, with æ/ø/å folded to ae/oe/aa, so that Rasa's featurizers
   (which read lemmas) see one form for both spellings;
2. an entity ruler for CVR numbers, e-mail addresses, Danish phone numbers and the
   municipality's place names.

Build it with ``python -m bot.nlp.pipeline OUTPUT_DIR`` (``make train`` does).
"""


import sys
from pathlib import Path

import spacy
from spacy.language import Language

from bot.nlp import lemmas  # noqa: F401  (registers the koege_lemmatizer factory)
from bot.nlp.places import PLACE_NAMES

DEFAULT_OUTPUT = Path("var/spacy-da")


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
    nlp.add_pipe("koege_lemmatizer")
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
