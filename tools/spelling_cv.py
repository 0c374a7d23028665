"""What the spelling step of the intent classifier gives, measured on the training data only.

The blend's SVM (``bot.nlp.ensemble``) is trained on two thirds of ``data/nlu`` (plus the
knowledge base's sentences, as in the pipeline) and scored on the last third twice: as written,
and misspelt the way people chat (``misspell``: about every third word of five letters or more
gets one slip — a letter dropped, doubled, replaced or swapped with its neighbour — everything
lower-cased, punctuation dropped, and every second message without æ/ø/å). Three folds, with
and without the spelling step, and the plain char-n-gram SVM of ``make nlu-eval`` beside them.
The held-out sets in tests/nlu are not used.

    python -m tools.spelling_cv          # about a minute
"""
from __future__ import annotations

import random
import sys

import numpy as np

from tools.nlu_eval import KNOWLEDGE, SPACY_MODEL, TRAIN_DATA, examples, svm_predict

#: The share of words of five letters or more given one slip.
SLIP_RATE = 0.3
_KEYS = "qwertyuiopasdfghjklzxcvbnmæøå"


def misspell(text: str, rng: random.Random, rate: float = SLIP_RATE) -> str:
    """``text`` as typed in a hurry (see the module's docstring); deterministic for a seeded ``rng``."""
    typed = []
    for word in text.split():
        core = word.strip("?!.,:;")
        if len(core) >= 5 and core.isalpha() and rng.random() < rate:
            i = rng.randrange(1, len(core) - 1)
            slip = rng.choice(("drop", "swap", "replace", "double"))
            if slip == "drop":
                core = core[:i] + core[i + 1:]
            elif slip == "swap":
                core = core[:i] + core[i + 1] + core[i] + core[i + 2:]
            elif slip == "replace":
                core = core[:i] + rng.choice(_KEYS) + core[i + 1:]
            else:
                core = core[:i] + core[i] + core[i:]
        typed.append(core)
    out = " ".join(typed).lower()
    return out.translate(str.maketrans({"æ": "ae", "ø": "o", "å": "aa"})) if rng.random() < 0.5 else out


def main() -> int:
    import spacy
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    from bot.nlp.ensemble import (
        features_and_tokens_with,
        features_with,
        knowledge_sentences,
        lexicon,
        make_svm,
        with_corrections,
    )
    from bot.nlp.normalize import words
    from bot.nlp.spelling import Speller

    nlp = spacy.load(SPACY_MODEL)
    known = lexicon(nlp)
    data = examples(TRAIN_DATA)
    texts, gold = [t for t, _ in data], np.array([i for _, i in data])
    intents = set(gold)
    extra = [(features_with(nlp, s), i) for s, i in knowledge_sentences(KNOWLEDGE) if i in intents]

    scores: dict[str, list[tuple[float, float]]] = {}
    folds = StratifiedKFold(3, shuffle=True, random_state=0).split(texts, gold)
    for number, (train, test) in enumerate(folds):
        rng = random.Random(number)
        train_texts = [features_with(nlp, texts[i]) for i in train] + [f for f, _ in extra]
        train_gold = list(gold[train]) + [i for _, i in extra]
        speller = Speller.of(w for text in train_texts for w in words(text))
        model = make_svm(2.0).fit(train_texts, train_gold)  # the training words are the speller's own
        for kind, test_texts in (("as written", [texts[i] for i in test]),
                                 ("misspelt", [misspell(texts[i], rng) for i in test])):
            test_parsed = [features_and_tokens_with(nlp, t) for t in test_texts]
            for name, spell in (("SVM of the blend, without spelling", None),
                                ("SVM of the blend, with spelling", speller)):
                predicted = model.predict([with_corrections(f, tokens, spell, known) for f, tokens in test_parsed])
                scores.setdefault(f"{kind:10s} {name}", []).append(
                    (accuracy_score(gold[test], predicted), f1_score(gold[test], predicted, average="macro")))
            plain = svm_predict([data[i] for i in train], test_texts)
            scores.setdefault(f"{kind:10s} char-n-gram SVM of make nlu-eval", []).append(
                (accuracy_score(gold[test], plain), f1_score(gold[test], plain, average="macro")))
    print(f"data/nlu, 3-fold cross-validation, {len(texts)} messages\n{'test messages':10s} "
          f"{'classifier':40s} {'accuracy':>9s} {'macro-F1':>9s}")
    for name, found in scores.items():
        accuracy, f1 = np.mean(found, axis=0)
        print(f"{name:51s} {accuracy:9.3f} {f1:9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
