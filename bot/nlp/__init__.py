"""Danish language processing: the spaCy pipeline the NLU uses, text normalisation and
language detection."""
from pathlib import Path

#: The code the spaCy pipeline (``bot.nlp.pipeline``) is built from: a change rebuilds it. The
#: Makefile's ``$(SPACY_MODEL)`` rule lists the same files (checked by tests/test_nlu_eval.py);
#: ``make nlu-eval``'s cache key reads this.
PIPELINE_SOURCES = tuple(Path(__file__).parent / name
                         for name in ("pipeline.py", "places.py", "lemmas.py", "normalize.py"))
