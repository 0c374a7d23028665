"""Held-out evaluation of the NLU (intent classification).

``compare``: trains three intent classifiers on ``data/nlu`` in the same run and scores them
on the held-out set in ``tests/nlu`` (never used for training):
  (a) the project's pipeline (config.yml), (b) Rasa's default pipeline with ``language: da``,
  (c) a char-n-gram TF-IDF + linear SVM baseline.
``check``: scores an already trained model (``make train``) against thresholds, for ``make test``.
``cv``: k-fold cross-validation of (a) and (c) on the training data alone. Pipeline settings
are chosen with this, so that the held-out set stays a fair final test.

Metrics: intent accuracy, macro-F1 over intents, and recall of ``out_of_scope``. A Rasa
prediction is the best intent other than ``nlu_fallback`` (the fallback is a dialogue
decision, measured separately as the fallback rate).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.normalize import fold

TRAIN_DATA = Path("data/nlu")
HELDOUT = Path("tests/nlu")
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"


@dataclass
class Scores:
    name: str
    accuracy: float
    macro_f1: float
    oos_recall: float
    fallback_rate: float | None = None

    def row(self) -> str:
        fallback = "" if self.fallback_rate is None else f"{self.fallback_rate:10.3f}"
        return f"{self.name:34s} {self.accuracy:9.3f} {self.macro_f1:9.3f} {self.oos_recall:11.3f}{fallback}"


HEADER = f"{'pipeline':34s} {'accuracy':>9s} {'macro-F1':>9s} {'oos-recall':>11s} {'fallback':>9s}"


def examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of the Rasa NLU files under ``path``."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def overlap(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> list[str]:
    """Held-out texts that also occur in the training data (after folding)."""
    seen = {fold(t).strip(" ?!.") for t, _ in train}
    return [t for t, _ in test if fold(t).strip(" ?!.") in seen]


def score(name: str, gold: list[str], predicted: list[str], fallbacks: int | None = None) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    labels = sorted(set(gold))
    return Scores(
        name=name,
        accuracy=accuracy_score(gold, predicted),
        macro_f1=f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        oos_recall=recall_score(gold, predicted, labels=[OUT_OF_SCOPE], average="macro", zero_division=0),
        fallback_rate=None if fallbacks is None else fallbacks / len(gold),
    )


def rasa_predict(model_path: str, texts: list[str]) -> tuple[list[str], int]:
    """Best non-fallback intent for each text from a trained Rasa model, and fallback count."""
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)

    async def parse_all() -> list[dict]:
        return [await agent.parse_message(t) for t in texts]

    parsed = asyncio.run(parse_all())
    predictions, fallbacks = [], 0
    for result in parsed:
        ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK]
        fallbacks += (result.get("intent") or {}).get("name") == FALLBACK
        predictions.append(ranking[0]["name"] if ranking else FALLBACK)
    return predictions, fallbacks


def train_rasa_nlu(config: Path, out_dir: Path, name: str, nlu_data: Path = TRAIN_DATA) -> str:
    from rasa.model_training import train_nlu

    result = train_nlu(config=str(config), nlu_data=str(nlu_data), output=str(out_dir),
                       fixed_model_name=name)
    if not result:
        raise RuntimeError(f"training {name} failed")
    return result


def svm_predict(train: list[tuple[str, str]], texts: list[str]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True),
        LinearSVC(C=1.0),
    )
    model.fit([t for t, _ in train], [i for _, i in train])
    return list(model.predict(texts))


def compare() -> int:
    train, test = examples(TRAIN_DATA), examples(HELDOUT)
    texts, gold = [t for t, _ in test], [i for _, i in test]
    print(f"training examples: {len(train)}, held-out examples: {len(test)}, "
          f"intents: {len(set(gold))}, held-out texts also in training: {len(overlap(train, test))}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        default_config = Path(tmp) / "default_config.yml"
        default_config.write_text('recipe: default.v1\nlanguage: da\nassistant_id: default\n')
        project = train_rasa_nlu(Path("config.yml"), Path(tmp), "project")
        predicted, fallbacks = rasa_predict(project, texts)
        results.append(score("(a) project pipeline (config.yml)", gold, predicted, fallbacks))
        default = train_rasa_nlu(default_config, Path(tmp), "default")
        predicted, fallbacks = rasa_predict(default, texts)
        results.append(score("(b) Rasa default, language: da", gold, predicted, fallbacks))
    results.append(score("(c) char-n-gram TF-IDF + linear SVM", gold, svm_predict(train, texts)))
    print(HEADER)
    for result in results:
        print(result.row())
    project_scores, *baselines = results
    ahead = all(project_scores.macro_f1 > b.macro_f1 and project_scores.accuracy > b.accuracy
                for b in baselines)
    print("project pipeline ahead of both baselines:", "yes" if ahead else "NO")
    return 0 if ahead else 1


def cross_validate(folds: int, seed: int = 0) -> int:
    """Stratified k-fold cross-validation of the project pipeline and the SVM baseline on ``data/nlu``."""
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(TRAIN_DATA))
    messages = data.intent_examples
    texts, gold = [m.get("text") for m in messages], [m.get("intent") for m in messages]
    project, baseline = [""] * len(texts), [""] * len(texts)
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, gold)
    for number, (train_idx, test_idx) in enumerate(splits, start=1):
        fold_texts = [texts[i] for i in test_idx]
        with tempfile.TemporaryDirectory() as tmp:
            nlu_file = Path(tmp) / "nlu.yml"
            nlu_file.write_text(TrainingData(training_examples=[messages[i] for i in train_idx]).nlu_as_yaml())
            model = train_rasa_nlu(Path("config.yml"), Path(tmp), f"fold{number}", nlu_file)
            for i, predicted in zip(test_idx, rasa_predict(model, fold_texts)[0], strict=True):
                project[i] = predicted
        svm = svm_predict([(texts[i], gold[i]) for i in train_idx], fold_texts)
        for i, predicted in zip(test_idx, svm, strict=True):
            baseline[i] = predicted
        print(f"fold {number}/{folds} done", flush=True)
    print(f"{folds}-fold cross-validation on {len(texts)} training examples (held-out set not used)")
    print(HEADER)
    print(score("(a) project pipeline (config.yml)", gold, project).row())
    print(score("(c) char-n-gram TF-IDF + linear SVM", gold, baseline).row())
    return 0


def check(model: str, min_macro_f1: float, min_oos_recall: float) -> int:
    train, test = examples(TRAIN_DATA), examples(HELDOUT)
    leaked = overlap(train, test)
    if leaked:
        print(f"held-out texts found in the training data: {leaked[:10]}")
        return 1
    texts, gold = [t for t, _ in test], [i for _, i in test]
    predicted, fallbacks = rasa_predict(model, texts)
    result = score(f"model {Path(model).name}", gold, predicted, fallbacks)
    print(HEADER)
    print(result.row())
    errors = [(t, g, p) for t, g, p in zip(texts, gold, predicted, strict=True) if g != p]
    for text, want, got in errors[:40]:
        print(f"  {want:28s} -> {got:28s} {text}")
    ok = result.macro_f1 >= min_macro_f1 and result.oos_recall >= min_oos_recall
    print(f"thresholds: macro-F1 >= {min_macro_f1}, oos-recall >= {min_oos_recall}:",
          "passed" if ok else "FAILED")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("compare", help="train and score the three pipelines side by side")
    cv = sub.add_parser("cv", help="cross-validate (a) and (c) on the training data only")
    cv.add_argument("--folds", type=int, default=5)
    chk = sub.add_parser("check", help="score a trained model against thresholds")
    chk.add_argument("--model", default="models/koege.tar.gz")
    chk.add_argument("--min-macro-f1", type=float, default=0.93)
    chk.add_argument("--min-oos-recall", type=float, default=0.90)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # Rasa's debug log would echo every test text
    logging.basicConfig(level=logging.WARNING)
    if args.command == "compare":
        return compare()
    if args.command == "cv":
        return cross_validate(args.folds)
    return check(args.model, args.min_macro_f1, args.min_oos_recall)


if __name__ == "__main__":
    sys.exit(main())
