"""Held-out evaluation of the NLU (intent classification).

``compare``: trains three intent classifiers on ``data/nlu`` in the same run and scores each on
every held-out set (never used for training or for choosing settings):
  (a) the project's pipeline (config.yml), (b) Rasa's default pipeline with ``language: da``,
  (c) a char-n-gram TF-IDF + linear SVM baseline.
The held-out sets are written in three styles: ``tests/nlu/heldout.yml`` (questions as users
write them, one topic each), ``tests/nlu/heldout_style.yml`` (very short, misspelt, run-on
and English messages) and ``tests/nlu/heldout_fresh.yml`` (written after the settings were
chosen, by a writer who saw neither the training data nor the other sets: a new firm's
messages after the welcome letter). It exits non-zero unless (a) is ahead of both baselines on
each set.
``check``: scores an already trained model (``make train``) against thresholds, for ``make test``.
``cv``: nested cross-validation on the training data alone. The outer 5 folds estimate how well
the pipeline does on data it has not seen; inside each outer training part, an inner 3-fold
cross-validation chooses the blend's settings (the SVM's share, its softmax temperature and C)
from a grid, so the settings are chosen without seeing the fold they are scored on. It reports
the nested score, the score of the settings in config.yml, the SVM baseline, and the settings
each outer fold chose (if they agree, they do not depend on one data set).

Metrics: intent accuracy, macro-F1 over intents, recall of ``out_of_scope``, and the
wrong-topic rate: the share of messages given a factual answer about another topic than asked
(``tools.wrong_topic``; a clarification or "I don't know" is not wrong, an answer to an
out-of-scope message is). A Rasa prediction is the best intent other than ``nlu_fallback`` (the
fallback is a dialogue decision, measured separately as the fallback rate). For the wrong-topic
rate each pipeline answers as it would in use: the project through its dialogue's decision
(intent, documents, clarification), Rasa's default through its own fallback, the SVM as it
predicts. ``compare`` and ``check`` fail when the project's rate on a held-out set is above 2 %.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.nlp.normalize import fold

TRAIN_DATA = Path("data/nlu")
HELDOUT_SETS = {
    "heldout": Path("tests/nlu/heldout.yml"),
    "style": Path("tests/nlu/heldout_style.yml"),
    "fresh": Path("tests/nlu/heldout_fresh.yml"),
}
CONFIG = Path("config.yml")
KNOWLEDGE = Path("data/knowledge")
SPACY_MODEL = Path("var/spacy-da")
CACHE = Path("var/nlu-cache")
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
ENSEMBLE = "bot.nlp.ensemble.CharNgramEnsembleClassifier"
#: The blend's settings searched by the inner cross-validation of ``cv``.
GRID = {
    "weight": (0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
    "temperature": (2.5, 5.0, 10.0, 20.0),
    "C": (0.5, 1.0, 2.0),
}


@dataclass
class Scores:
    name: str
    accuracy: float
    macro_f1: float
    oos_recall: float
    fallback_rate: float | None = None
    wrong_topic: float | None = None  # factual answers about another topic (tools.wrong_topic)

    def row(self) -> str:
        fallback = f"{'':>10s}" if self.fallback_rate is None else f"{self.fallback_rate:10.3f}"
        wrong = "" if self.wrong_topic is None else f"{self.wrong_topic:12.1%}"
        return f"{self.name:40s} {self.accuracy:9.3f} {self.macro_f1:9.3f} {self.oos_recall:11.3f}{fallback}{wrong}"


HEADER = (f"{'pipeline':40s} {'accuracy':>9s} {'macro-F1':>9s} {'oos-recall':>11s} {'fallback':>9s} "
          f"{'wrong-topic':>11s}")
#: The most factual answers about another topic than asked that a held-out set may get.
MAX_WRONG_TOPIC = 0.02


def examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of the Rasa NLU file(s) at ``path``."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def _key(text: str) -> str:
    return fold(text).strip(" ?!.")


def overlap(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> list[str]:
    """Held-out texts that also occur in the training data (after folding)."""
    seen = {_key(t) for t, _ in train}
    return [t for t, _ in test if _key(t) in seen]


def score(name: str, gold: list[str], predicted: list[str], fallbacks: int | None = None,
          answers: list[tuple[str, ...] | None] | None = None) -> Scores:
    """The scores of ``predicted`` intents; ``answers``: what the assistant answers each message
    with (``tools.wrong_topic.answered_topics`` / ``intent_topics``), for the wrong-topic rate."""
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    from tools import wrong_topic

    labels = sorted(set(gold))
    return Scores(
        name=name,
        accuracy=accuracy_score(gold, predicted),
        macro_f1=f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        oos_recall=recall_score(gold, predicted, labels=[OUT_OF_SCOPE], average="macro", zero_division=0),
        fallback_rate=None if fallbacks is None else fallbacks / len(gold),
        wrong_topic=None if answers is None else wrong_topic.tally(
            [frozenset({g}) for g in gold], answers).wrong_rate,
    )


def _parse_all(model_path: str, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)

    async def parse_all() -> list[dict]:
        return [await agent.parse_message(t) for t in texts]

    return asyncio.run(parse_all())


@dataclass
class Predictions:
    """A trained Rasa model's output on a list of texts."""

    predicted: list[str]  # the best intent other than the fallback
    fallbacks: list[bool]  # whether the model's own decision was the fallback
    parses: list[dict]  # intent and ranking, as the dialogue sees them

    def answers(self, texts: list[str], routed: bool) -> list[tuple[str, ...] | None]:
        """What the assistant answers each text with: through the project's routing (intent,
        documents, clarification) when ``routed``, else the model's own decision alone."""
        from bot import knowledge
        from tools import wrong_topic

        kb = knowledge.default()
        if routed:
            return [wrong_topic.answered_topics(t, p, kb) for t, p in zip(texts, self.parses, strict=True)]
        return [wrong_topic.intent_topics((p.get("intent") or {}).get("name"), kb) for p in self.parses]

    def part(self, start: int, end: int) -> Predictions:
        return Predictions(self.predicted[start:end], self.fallbacks[start:end], self.parses[start:end])


def rasa_predict(model_path: str, texts: list[str]) -> Predictions:
    """What a trained Rasa model makes of each text."""
    predictions, fallbacks, parses = [], [], []
    for result in _parse_all(model_path, texts):
        ranking = [r for r in result.get("intent_ranking") or [] if r["name"] != FALLBACK]
        fallbacks.append((result.get("intent") or {}).get("name") == FALLBACK)
        predictions.append(ranking[0]["name"] if ranking else FALLBACK)
        parses.append({"intent": result.get("intent"), "intent_ranking": (result.get("intent_ranking") or [])[:10]})
    return Predictions(predictions, fallbacks, parses)


def train_rasa_nlu(config: Path, out_dir: Path, name: str, nlu_data: Path = TRAIN_DATA) -> str:
    from rasa.model_training import train_nlu

    result = train_nlu(config=str(config), nlu_data=str(nlu_data), output=str(out_dir),
                       fixed_model_name=name)
    if not result:
        raise RuntimeError(f"training {name} failed")
    return result


def svm_predict(train: list[tuple[str, str]], texts: list[str]) -> list[str]:
    """Baseline (c): a char-n-gram TF-IDF + linear SVM on the raw texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, lowercase=True),
        LinearSVC(C=1.0),
    )
    model.fit([t for t, _ in train], [i for _, i in train])
    return list(model.predict(texts))


#: Files besides the NLU data and config whose change changes the project pipeline's model.
PROJECT_INPUTS = (Path("bot/nlp/ensemble.py"), Path("bot/nlp/pipeline.py"), Path("bot/nlp/lemmas.py"),
                  Path("bot/nlp/normalize.py"),
                  KNOWLEDGE)


def _digest(paths: list[Path], extra: str) -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(str(file).encode() + file.read_bytes())
    return digest.hexdigest()[:20]


def cached_predictions(name: str, config: Path, inputs: tuple[Path, ...], texts: list[str],
                       workdir: Path) -> Predictions:
    """Train ``config`` on data/nlu and predict ``texts``. Models and predictions are kept in
    var/nlu-cache by the training data, configuration and code (Rasa's default pipeline takes
    about 15 minutes to train on 2 cores), so a run with unchanged inputs trains nothing."""
    key = _digest([TRAIN_DATA, *inputs], config.read_text() + json.dumps(texts) + "parses")
    cached = CACHE / f"predictions-{key}.json"
    if cached.exists():
        print(f"{name}: predictions from {cached}")
        found = json.loads(cached.read_text())
        return Predictions(found["predicted"], found["fallbacks"], found["parses"])
    model = CACHE / f"model-{_digest([TRAIN_DATA, *inputs], config.read_text())}.tar.gz"
    if model.exists():
        print(f"{name}: model from {model}")
    else:
        trained = Path(train_rasa_nlu(config, workdir, hashlib.sha256(name.encode()).hexdigest()[:8]))
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.move(trained, model)
    found = rasa_predict(str(model), texts)
    cached.write_text(json.dumps({"name": name, "predicted": found.predicted, "fallbacks": found.fallbacks,
                                  "parses": found.parses}))
    return found


def heldout_sets() -> dict[str, list[tuple[str, str]]]:
    return {name: examples(path) for name, path in HELDOUT_SETS.items() if path.exists()}


def _ahead(project: Scores, baselines: list[Scores]) -> bool:
    return all(project.macro_f1 > b.macro_f1 and project.accuracy > b.accuracy for b in baselines)


def compare(config: Path = CONFIG) -> int:
    """Train (a), (b) and (c) once; score them on every held-out set."""
    train, sets = examples(TRAIN_DATA), heldout_sets()
    texts = [t for pairs in sets.values() for t, _ in pairs]
    print(f"training examples: {len(train)}, intents: {len({i for _, i in train})}")
    for name, pairs in sets.items():
        print(f"held-out set {name} ({HELDOUT_SETS[name]}): {len(pairs)} messages, "
              f"{len({i for _, i in pairs})} intents, also in training: {len(overlap(train, pairs))}")
    predictions: dict[str, Predictions | list[str]] = {}
    project = f"(a) project pipeline ({config})"
    with tempfile.TemporaryDirectory() as tmp:
        default_config = Path(tmp) / "default_config.yml"
        default_config.write_text("recipe: default.v1\nlanguage: da\nassistant_id: default\n")
        for name, pipeline_config, inputs in (
            (project, config, PROJECT_INPUTS),
            ("(b) Rasa default, language: da", default_config, ()),
        ):
            predictions[name] = cached_predictions(name, pipeline_config, inputs, texts, Path(tmp))
            print(f"{name}: trained and scored", flush=True)
    predictions["(c) char-n-gram TF-IDF + linear SVM"] = svm_predict(train, texts)
    ahead_everywhere, start = True, 0
    for name, pairs in sets.items():
        gold, set_texts = [i for _, i in pairs], [t for t, _ in pairs]
        end = start + len(pairs)
        results = []
        for pipeline, found in predictions.items():
            if isinstance(found, Predictions):
                part = found.part(start, end)
                results.append(score(pipeline, gold, part.predicted, sum(part.fallbacks),
                                     part.answers(set_texts, routed=pipeline == project)))
            else:
                results.append(score(pipeline, gold, found[start:end],
                                     answers=_intent_answers(found[start:end])))
        start = end
        print(f"\n{name}: {HELDOUT_SETS[name]} ({len(pairs)} messages)")
        print(HEADER)
        for result in results:
            print(result.row())
        ahead = _ahead(results[0], results[1:])
        low = (results[0].wrong_topic or 0.0) <= MAX_WRONG_TOPIC
        ahead_everywhere &= ahead and low
        print(f"project pipeline ahead of both baselines on {name}:", "yes" if ahead else "NO")
        print(f"project's wrong-topic rate at most {MAX_WRONG_TOPIC:.0%} on {name}:", "yes" if low else "NO")
    print("\nproject pipeline ahead of both baselines, wrong-topic rate at most "
          f"{MAX_WRONG_TOPIC:.0%}, on every held-out set:", "yes" if ahead_everywhere else "NO")
    print("wrong-topic: the project through its dialogue's decision (intent, documents, clarification; "
          "tools.wrong_topic), Rasa's default through its own fallback, the SVM as it predicts")
    return 0 if ahead_everywhere else 1


def _intent_answers(predicted: list[str]) -> list[tuple[str, ...] | None]:
    from bot import knowledge
    from tools import wrong_topic

    kb = knowledge.default()
    return [wrong_topic.intent_topics(p, kb) for p in predicted]


# ---- nested cross-validation --------------------------------------------------------------


def project_settings(config: Path = CONFIG) -> dict[str, float]:
    """The blend's settings in config.yml (component defaults where config.yml omits one)."""
    import yaml

    from bot.nlp.ensemble import CharNgramEnsembleClassifier

    settings = CharNgramEnsembleClassifier.get_default_config()
    for component in yaml.safe_load(config.read_text())["pipeline"]:
        if component["name"] == ENSEMBLE:
            settings.update(component)
    return {k: float(settings[k]) for k in GRID}


def diet_only_config(config: Path, out: Path) -> Path:
    """config.yml without the blend and the fallback: DIET's full ranking is the output."""
    import yaml

    doc = yaml.safe_load(config.read_text())
    doc["pipeline"] = [c for c in doc["pipeline"] if c["name"] not in (ENSEMBLE, "FallbackClassifier")]
    doc.pop("policies", None)
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out


class Parts:
    """What the blend needs for one train/test split, computed once: DIET's probabilities and
    the SVM's decision values (for each C of the grid) on the test texts. Any setting of the
    grid is then scored without training again."""

    def __init__(self, labels: list[str], diet: Any, svm: dict[float, Any]) -> None:
        self.labels, self.diet, self.svm = labels, diet, svm

    def predict(self, weight: float, temperature: float, C: float) -> list[str]:
        from bot.nlp.ensemble import blend, softmax_rows

        mixed = blend(softmax_rows(self.svm[C], temperature), self.diet, weight)
        return [self.labels[i] for i in mixed.argmax(axis=1)]


class NestedCV:
    def __init__(self, workdir: Path, config: Path = CONFIG) -> None:
        import spacy

        from bot.nlp.ensemble import features_with, knowledge_sentences

        self.workdir = workdir
        self.diet_config = diet_only_config(config, workdir / "diet_only.yml")
        self.nlp = spacy.load(SPACY_MODEL)
        self._features: dict[str, str] = {}
        self.features_with = features_with
        self.knowledge = knowledge_sentences(KNOWLEDGE)
        self.trainings = 0

    def features(self, text: str) -> str:
        if text not in self._features:
            self._features[text] = self.features_with(self.nlp, text)
        return self._features[text]

    def diet(self, train: list[tuple[str, str]], texts: list[str], labels: list[str]) -> Any:
        """DIET's probabilities for ``texts`` (rows) over ``labels`` (columns), trained on
        ``train``; cached in var/nlu-cache by the training data, texts and configuration."""
        import numpy as np
        from rasa.shared.nlu.training_data.message import Message
        from rasa.shared.nlu.training_data.training_data import TrainingData

        digest = hashlib.sha256(json.dumps(
            [self.diet_config.read_text(), sorted(train), texts]).encode()).hexdigest()[:20]
        cached = CACHE / f"diet-{digest}.json"
        if cached.exists():
            rankings = json.loads(cached.read_text())
        else:
            nlu_file = self.workdir / f"train-{digest}.yml"
            nlu_file.write_text(TrainingData(training_examples=[
                Message(data={"text": t, "intent": i}) for t, i in train]).nlu_as_yaml())
            model = train_rasa_nlu(self.diet_config, self.workdir, f"diet-{digest}", nlu_file)
            self.trainings += 1
            rankings = [{r["name"]: r["confidence"] for r in result.get("intent_ranking") or []}
                        for result in _parse_all(model, texts)]
            Path(model).unlink(missing_ok=True)
            CACHE.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(rankings))
        return np.array([[r.get(label, 0.0) for label in labels] for r in rankings])

    def parts(self, train: list[tuple[str, str]], texts: list[str]) -> Parts:
        from bot.nlp.ensemble import make_svm

        labels = sorted({i for _, i in train})
        extra = [(t, i) for t, i in self.knowledge if i in set(labels)]
        train_x = [self.features(t) for t, _ in train + extra]
        train_y = [i for _, i in train + extra]
        test_x = [self.features(t) for t in texts]
        svm = {}
        for C in GRID["C"]:
            model = make_svm(C).fit(train_x, train_y)
            assert list(model.classes_) == labels
            svm[C] = model.decision_function(test_x)
        return Parts(labels, self.diet(train, texts, labels), svm)


def _grid() -> list[tuple[float, float, float]]:
    return list(itertools.product(GRID["weight"], GRID["temperature"], GRID["C"]))


def _choose(gold: list[str], predictions: dict[tuple[float, float, float], list[str]],
            prefer: tuple[float, float, float]) -> tuple[float, float, float]:
    """The setting with the best macro-F1 (then accuracy); ties go to ``prefer``, then to the
    setting closest to it."""
    def rank(setting: tuple[float, float, float]) -> tuple:
        s = score("", gold, predictions[setting])
        distance = sum(abs(a - b) / max(b, 1e-9) for a, b in zip(setting, prefer, strict=True))
        return (round(s.macro_f1, 6), round(s.accuracy, 6), -distance)
    return max(predictions, key=rank)


def cross_validate(outer_folds: int = 5, inner_folds: int = 3, seed: int = 0, limit: int | None = None) -> int:
    """Nested cross-validation of the blend's settings on ``data/nlu`` (held-out sets not used).

    DIET's predictions for each split are cached (var/nlu-cache), so an interrupted run goes on
    where it stopped; ``limit`` scores only the first outer folds (for a quick look)."""
    from sklearn.model_selection import StratifiedKFold

    train_all = examples(TRAIN_DATA)
    texts, gold = [t for t, _ in train_all], [i for _, i in train_all]
    configured = project_settings()
    prefer = (configured["weight"], configured["temperature"], configured["C"])
    nested, fixed, baseline = [""] * len(texts), [""] * len(texts), [""] * len(texts)
    chosen: list[tuple[float, float, float]] = []
    done: list[int] = []
    outer_grid: dict[tuple[float, float, float], list[str]] = {s: [""] * len(texts) for s in _grid()}
    with tempfile.TemporaryDirectory() as tmp:
        cv = NestedCV(Path(tmp))
        outer = StratifiedKFold(outer_folds, shuffle=True, random_state=seed).split(texts, gold)
        for number, (train_idx, test_idx) in enumerate(outer, start=1):
            if limit is not None and number > limit:
                break
            done.extend(test_idx)
            part = [train_all[i] for i in train_idx]
            part_gold = [i for _, i in part]
            inner_pred = {s: [""] * len(part) for s in _grid()}
            inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed + 1)
            for inner_train, inner_test in inner.split([t for t, _ in part], part_gold):
                parts = cv.parts([part[i] for i in inner_train], [part[i][0] for i in inner_test])
                for setting in _grid():
                    for i, p in zip(inner_test, parts.predict(*setting), strict=True):
                        inner_pred[setting][i] = p
            best = _choose(part_gold, inner_pred, prefer)
            chosen.append(best)
            fold_texts = [texts[i] for i in test_idx]
            parts = cv.parts(part, fold_texts)
            for setting in _grid():
                for i, p in zip(test_idx, parts.predict(*setting), strict=True):
                    outer_grid[setting][i] = p
            for i, p in zip(test_idx, parts.predict(*best), strict=True):
                nested[i] = p
            for i, p in zip(test_idx, parts.predict(*prefer), strict=True):
                fixed[i] = p
            for i, p in zip(test_idx, svm_predict(part, fold_texts), strict=True):
                baseline[i] = p
            print(f"outer fold {number}/{outer_folds}: inner CV chose weight={best[0]}, "
                  f"temperature={best[1]}, C={best[2]} ({cv.trainings} DIET trainings so far)", flush=True)
    gold = [gold[i] for i in done]
    nested, fixed, baseline = ([p[i] for i in done] for p in (nested, fixed, baseline))
    outer_grid = {s: [p[i] for i in done] for s, p in outer_grid.items()}
    print(f"\nnested {outer_folds}x{inner_folds}-fold cross-validation on {len(texts)} training examples "
          f"(held-out sets not used; {len(chosen)} outer folds, {len(done)} examples scored)")
    print(HEADER)
    print(score("(a) blend, settings chosen by inner CV", gold, nested).row())
    print(score(f"(a) blend, config.yml {prefer}", gold, fixed).row())
    print(score("(c) char-n-gram TF-IDF + linear SVM", gold, baseline).row())
    counts = Counter(chosen)
    print("settings chosen by the inner CV (weight, temperature, C):",
          ", ".join(f"{s} x{n}" for s, n in counts.most_common()))
    # How flat the outer score is around the configured setting (reported, not used to choose).
    print("\nouter-fold macro-F1 by setting (the 8 best, and the configured one):")
    ranked = sorted(((score("", gold, p).macro_f1, s) for s, p in outer_grid.items()), reverse=True)
    for value, setting in ranked[:8]:
        print(f"  weight={setting[0]:<4} temperature={setting[1]:<5} C={setting[2]:<4} {value:.3f}")
    print(f"  configured {prefer}: {score('', gold, outer_grid[prefer]).macro_f1:.3f}")
    return 0


def small_data(per_intent: int = 8, repeats: int = 3, use_knowledge: bool = False) -> int:
    """The blend's settings with little training data, on the training data alone: train on
    ``per_intent`` examples per intent (the size of a small public benchmark), score every
    setting of the grid on the rest of ``data/nlu``; ``repeats`` random draws. Without the
    knowledge base's sentences by default, as on another domain. Held-out sets not used."""
    import random

    train_all = examples(TRAIN_DATA)
    totals: dict[tuple[float, float, float], list[float]] = {s: [] for s in _grid()}
    baseline: list[float] = []
    diet_alone: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        cv = NestedCV(Path(tmp))
        if not use_knowledge:
            cv.knowledge = []
        for repeat in range(repeats):
            by_intent: dict[str, list[int]] = {}
            for index, (_, intent) in enumerate(train_all):
                by_intent.setdefault(intent, []).append(index)
            rng = random.Random(repeat)
            chosen = {i for indices in by_intent.values() for i in rng.sample(indices, min(per_intent, len(indices)))}
            train = [train_all[i] for i in sorted(chosen)]
            rest = [train_all[i] for i in range(len(train_all)) if i not in chosen]
            gold = [i for _, i in rest]
            parts = cv.parts(train, [t for t, _ in rest])
            for setting in _grid():
                totals[setting].append(score("", gold, parts.predict(*setting)).macro_f1)
            baseline.append(score("", gold, svm_predict(train, [t for t, _ in rest])).macro_f1)
            diet_alone.append(score("", gold, parts.predict(0.0, 1.0, GRID["C"][0])).macro_f1)
            print(f"draw {repeat + 1}/{repeats} done ({cv.trainings} DIET trainings)", flush=True)
    mean = {s: sum(v) / len(v) for s, v in totals.items()}
    configured = project_settings()
    prefer = (configured["weight"], configured["temperature"], configured["C"])
    print(f"\nsmall-data regime: {per_intent} training examples per intent, scored on the rest of data/nlu, "
          f"{repeats} draws, knowledge sentences: {'yes' if use_knowledge else 'no'}; mean macro-F1")
    for value, setting in sorted(((v, s) for s, v in mean.items()), reverse=True)[:8]:
        print(f"  weight={setting[0]:<4} temperature={setting[1]:<5} C={setting[2]:<4} {value:.3f}")
    print(f"  configured {prefer}: {mean[prefer]:.3f}")
    print(f"  DIET alone: {sum(diet_alone) / len(diet_alone):.3f}")
    print(f"  (c) char-n-gram TF-IDF + linear SVM: {sum(baseline) / len(baseline):.3f}")
    print("  by weight (temperature, C as configured): " + "  ".join(
        f"{w}: {mean[(w, prefer[1], prefer[2])]:.3f}" for w in GRID["weight"]))
    return 0


def sensitivity(per_intent: int | None = None, seed: int = 0, use_knowledge: bool = True) -> int:
    """How the held-out scores move with the blend's settings (reported, never used to choose
    them). ``per_intent`` trains on that many examples per intent only, the size of a small
    public benchmark, to see whether the settings still hold with little training data;
    ``use_knowledge=False`` leaves out the knowledge base's sentences, as on another domain."""
    import random

    train = examples(TRAIN_DATA)
    if per_intent:
        by_intent: dict[str, list[tuple[str, str]]] = {}
        for pair in train:
            by_intent.setdefault(pair[1], []).append(pair)
        rng = random.Random(seed)
        train = [p for pairs in by_intent.values() for p in rng.sample(pairs, min(per_intent, len(pairs)))]
    sets = heldout_sets()
    texts = [t for pairs in sets.values() for t, _ in pairs]
    configured = project_settings()
    prefer = (configured["weight"], configured["temperature"], configured["C"])
    with tempfile.TemporaryDirectory() as tmp:
        cv = NestedCV(Path(tmp))
        if not use_knowledge:
            cv.knowledge = []
        parts = cv.parts(train, texts)
    baseline = svm_predict(train, texts)
    print(f"training examples: {len(train)}, knowledge sentences: {'yes' if use_knowledge else 'no'}; "
          f"settings in config.yml (weight, temperature, C): {prefer}")
    start = 0
    for name, pairs in sets.items():
        gold, end = [i for _, i in pairs], start + len(pairs)
        def f1(setting: tuple[float, float, float], lo: int = start, hi: int = end,
               want: list[str] = gold) -> str:
            s = score("", want, parts.predict(*setting)[lo:hi])
            return f"{s.accuracy:.3f}/{s.macro_f1:.3f}"
        print(f"\n{name} ({len(pairs)} messages), accuracy/macro-F1:")
        print("  DIET alone (weight 0):", f1((0.0, prefer[1], prefer[2])))
        print("  weight:     " + "  ".join(f"{w}: {f1((w, prefer[1], prefer[2]))}" for w in GRID["weight"]))
        print("  temperature:" + "  ".join(f"{t}: {f1((prefer[0], t, prefer[2]))}" for t in GRID["temperature"]))
        print("  C:          " + "  ".join(f"{c}: {f1((prefer[0], prefer[1], c))}" for c in GRID["C"]))
        b = score("", gold, baseline[start:end])
        print(f"  (c) char-n-gram TF-IDF + linear SVM: {b.accuracy:.3f}/{b.macro_f1:.3f}")
        start = end
    return 0


def check(model: str, min_macro_f1: float, min_oos_recall: float) -> int:
    """Score a trained model on every held-out set against the thresholds, with Rasa's
    corrections applied as the Rasa server applies them (``RASA_CORRECTIONS``)."""
    from bot import rasa_patches

    try:
        rasa_patches.apply()
    except rasa_patches.CorrectionMismatch as err:
        print(err)
        return 2
    train = examples(TRAIN_DATA)
    ok = True
    for name, pairs in heldout_sets().items():
        leaked = overlap(train, pairs)
        if leaked:
            print(f"{name}: held-out texts found in the training data: {leaked[:10]}")
            ok = False
            continue
        texts, gold = [t for t, _ in pairs], [i for _, i in pairs]
        found = rasa_predict(model, texts)
        result = score(f"{name}: model {Path(model).name}", gold, found.predicted, sum(found.fallbacks),
                       found.answers(texts, routed=True))
        print(HEADER)
        print(result.row())
        errors = [(t, g, p) for t, g, p in zip(texts, gold, found.predicted, strict=True) if g != p]
        for text, want, got in errors[:40]:
            print(f"  {want:28s} -> {got:28s} {text}")
        passed = (result.macro_f1 >= min_macro_f1 and result.oos_recall >= min_oos_recall
                  and (result.wrong_topic or 0.0) <= MAX_WRONG_TOPIC)
        print(f"{name}: thresholds macro-F1 >= {min_macro_f1}, oos-recall >= {min_oos_recall}, "
              f"wrong-topic <= {MAX_WRONG_TOPIC:.0%}:", "passed" if passed else "FAILED")
        ok &= passed
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="train and score the three pipelines on every held-out set")
    cmp.add_argument("--config", type=Path, default=CONFIG, help="the project pipeline's configuration")
    cv = sub.add_parser("cv", help="nested cross-validation of the blend's settings on the training data")
    cv.add_argument("--folds", type=int, default=5)
    cv.add_argument("--inner-folds", type=int, default=3)
    cv.add_argument("--limit", type=int, default=None, help="score only the first N outer folds")
    small = sub.add_parser("small-data", help="the blend's settings with little training data (training data only)")
    small.add_argument("--per-intent", type=int, default=8)
    small.add_argument("--repeats", type=int, default=3)
    small.add_argument("--knowledge", action="store_true", help="with the knowledge base's sentences")
    sens = sub.add_parser("sensitivity", help="held-out scores across the blend's settings (reporting only)")
    sens.add_argument("--per-intent", type=int, default=None, help="train on N examples per intent")
    sens.add_argument("--no-knowledge", action="store_true", help="without the knowledge base's sentences")
    chk = sub.add_parser("check", help="score a trained model against thresholds")
    chk.add_argument("--model", default="models/koege.tar.gz")
    chk.add_argument("--min-macro-f1", type=float, default=0.93)
    chk.add_argument("--min-oos-recall", type=float, default=0.90)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # Rasa's debug log would echo every test text
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    if args.command == "compare":
        return compare(args.config)
    if args.command == "small-data":
        return small_data(args.per_intent, args.repeats, args.knowledge)
    if args.command == "sensitivity":
        return sensitivity(args.per_intent, use_knowledge=not args.no_knowledge)
    if args.command == "cv":
        return cross_validate(args.folds, args.inner_folds, limit=args.limit)
    return check(args.model, args.min_macro_f1, args.min_oos_recall)


if __name__ == "__main__":
    sys.exit(main())
