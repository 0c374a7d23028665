"""Held-out evaluation of the NLU (intent classification).

``compare``: trains three intent classifiers on ``data/nlu`` in the same run and scores each on
every held-out set (never used for training or for choosing settings):
  (a) the project's pipeline (config.yml), (b) Rasa's default pipeline with ``language: da``,
  (c) a char-n-gram TF-IDF + linear SVM baseline.
The four held-out sets: ``tests/nlu/heldout.yml`` (questions as users write them, one topic
each), ``tests/nlu/heldout_style.yml`` (very short, misspelt, run-on and English messages),
``tests/nlu/heldout_fresh.yml`` (written after the settings were chosen, by a writer who saw
neither the training data nor the other sets: a new firm's messages after the welcome letter)
and ``tests/nlu/heldout_style2.yml`` (the style set's kind of message, written blind in the same
way). It exits non-zero unless (a) is ahead of both baselines on each set; beside the scores it
prints the paired comparison (``paired``: the messages only one of the two gets right).
``check``: scores an already trained model (``make train``) against thresholds, for ``make test``.
``robust`` (``make nlu-cv``): the project's pipeline against the SVM alone where nothing was
tuned — trained on subsamples of ``data/nlu`` (5, 10, 20 examples per intent, scored on the
rest) and on a synthetic set of another domain (``tools/data/other_domain.py``). The blend
chooses its own settings by cross-validation on whatever it is trained on
(``bot/nlp/blend_choice.py``); it exits non-zero if the project is below the SVM anywhere.

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
from dataclasses import dataclass
from pathlib import Path

from bot.nlp.normalize import fold

TRAIN_DATA = Path("data/nlu")
HELDOUT_SETS = {
    "heldout": Path("tests/nlu/heldout.yml"),
    "style": Path("tests/nlu/heldout_style.yml"),
    "fresh": Path("tests/nlu/heldout_fresh.yml"),
    "style2": Path("tests/nlu/heldout_style2.yml"),
}
CONFIG = Path("config.yml")
KNOWLEDGE = Path("data/knowledge")
SPACY_MODEL = Path("var/spacy-da")
CACHE = Path("var/nlu-cache")
OUT_OF_SCOPE = "out_of_scope"
FALLBACK = "nlu_fallback"
ENSEMBLE = "bot.nlp.ensemble.CharNgramEnsembleClassifier"


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


def project_inputs() -> tuple[Path, ...]:
    """Files besides the NLU data and config whose change changes the project pipeline's model:
    the blend's training code, the spaCy pipeline's and the knowledge base."""
    from bot.nlp import PIPELINE_SOURCES
    from bot.nlp.ensemble import TRAINING_CODE

    code = dict.fromkeys(Path("bot/nlp") / path.name for path in (*TRAINING_CODE, *PIPELINE_SOURCES))
    return (*code, KNOWLEDGE)


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


@dataclass
class Paired:
    """Where two classifiers differ on the same messages: how many only the project gets right,
    how many only the baseline, and the exact McNemar test's p-value (two-sided binomial test on
    the messages they disagree on) — whether a lead or a tie is more than chance."""

    only_project: int
    only_baseline: int

    @property
    def p_value(self) -> float:
        from scipy.stats import binomtest

        n = self.only_project + self.only_baseline
        return 1.0 if n == 0 else float(binomtest(self.only_project, n, 0.5).pvalue)

    def row(self, baseline: str) -> str:
        return (f"  against {baseline:36s} right only by the project {self.only_project:3d}, "
                f"only by the baseline {self.only_baseline:3d}  (McNemar exact p = {self.p_value:.2f})")


def paired(gold: list[str], project: list[str], baseline: list[str]) -> Paired:
    """The messages one of the two gets right and the other does not."""
    rows = list(zip(gold, project, baseline, strict=True))
    return Paired(only_project=sum(g == a != b for g, a, b in rows),
                  only_baseline=sum(g == b != a for g, a, b in rows))


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
            (project, config, project_inputs()),
            ("(b) Rasa default, language: da", default_config, ()),
        ):
            predictions[name] = cached_predictions(name, pipeline_config, inputs, texts, Path(tmp))
            print(f"{name}: trained and scored", flush=True)
    predictions["(c) char-n-gram TF-IDF + linear SVM"] = svm_predict(train, texts)
    ahead_everywhere, start = True, 0
    for name, pairs in sets.items():
        gold, set_texts = [i for _, i in pairs], [t for t, _ in pairs]
        end = start + len(pairs)
        results, predicted = [], []
        for pipeline, found in predictions.items():
            if isinstance(found, Predictions):
                part = found.part(start, end)
                predicted.append(part.predicted)
                results.append(score(pipeline, gold, part.predicted, sum(part.fallbacks),
                                     part.answers(set_texts, routed=pipeline == project)))
            else:
                predicted.append(found[start:end])
                results.append(score(pipeline, gold, found[start:end],
                                     answers=_intent_answers(found[start:end])))
        start = end
        print(f"\n{name}: {HELDOUT_SETS[name]} ({len(pairs)} messages)")
        print(HEADER)
        for result in results:
            print(result.row())
        for result, baseline in zip(results[1:], predicted[1:], strict=True):
            print(paired(gold, predicted[0], baseline).row(result.name))
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


# ---- robustness: where the settings were not tuned ---------------------------------------


def _project_on(train: list[tuple[str, str]], texts: list[str], workdir: Path, name: str,
                knowledge: bool) -> list[str]:
    """The project's pipeline (config.yml: the blend chooses its settings by cross-validation on
    ``train``) trained on ``train``; its best non-fallback intent for each of ``texts``."""
    import yaml
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    doc = yaml.safe_load(CONFIG.read_text())
    doc.pop("policies", None)
    if not knowledge:  # another domain: the knowledge base's sentences are not about it
        for component in doc["pipeline"]:
            if component["name"] == ENSEMBLE:
                component["knowledge_dir"] = ""
    config = workdir / f"{name}.yml"
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    nlu_file = workdir / f"{name}-nlu.yml"
    nlu_file.write_text(TrainingData(training_examples=[
        Message(data={"text": t, "intent": i}) for t, i in train]).nlu_as_yaml())
    model = train_rasa_nlu(config, workdir, name, nlu_file)
    try:
        return rasa_predict(model, texts).predicted
    finally:
        Path(model).unlink(missing_ok=True)


def robustness(sizes: tuple[int, ...] = (5, 10, 20), draws: int = 2) -> int:
    """The project's pipeline against the char-n-gram SVM alone where its settings were not
    tuned: trained on subsamples of data/nlu (``sizes`` examples per intent, scored on the rest)
    and on a synthetic set of another domain (tools/data/other_domain.py, two thirds to train,
    scored on the rest). Held-out sets not used. Fails if the project is below the SVM anywhere."""
    import random

    from sklearn.model_selection import train_test_split

    from tools.data import other_domain

    train_all = examples(TRAIN_DATA)
    runs: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]], bool]] = []
    for size, draw in itertools.product(sizes, range(draws)):
        by_intent: dict[str, list[int]] = {}
        for index, (_, intent) in enumerate(train_all):
            by_intent.setdefault(intent, []).append(index)
        rng = random.Random(draw)
        chosen = {i for indices in by_intent.values() for i in rng.sample(indices, min(size, len(indices)))}
        runs.append((f"data/nlu, {size} per intent, draw {draw + 1}", [train_all[i] for i in sorted(chosen)],
                     [p for i, p in enumerate(train_all) if i not in chosen], True))
    other = other_domain.examples(per_intent=60)
    for draw in range(draws):
        train, test = train_test_split(other, test_size=1 / 3, random_state=draw, stratify=[i for _, i in other])
        runs.append((f"another domain (restaurant), draw {draw + 1}", train, test, False))
    print(f"{'training data':48s} {'train':>6s} {'test':>6s} {'project':>9s} {'SVM':>9s}   macro-F1")
    never_below = True
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, train, test, knowledge) in enumerate(runs):
            texts, gold = [t for t, _ in test], [i for _, i in test]
            project = score("", gold, _project_on(train, texts, Path(tmp), f"run{number}", knowledge))
            svm = score("", gold, svm_predict(train, texts))
            below = project.macro_f1 < svm.macro_f1
            never_below &= not below
            print(f"{name:48s} {len(train):6d} {len(test):6d} {project.macro_f1:9.3f} {svm.macro_f1:9.3f}"
                  f"{'   BELOW' if below else ''}", flush=True)
    print("\nproject pipeline never below the SVM alone:", "yes" if never_below else "NO")
    return 0 if never_below else 1


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
    rob = sub.add_parser("robust", help="the project against the SVM on subsamples and another domain")
    rob.add_argument("--sizes", default="5,10,20", help="examples per intent of the subsamples")
    rob.add_argument("--draws", type=int, default=2)
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
    if args.command == "robust":
        return robustness(tuple(int(x) for x in args.sizes.split(",")), args.draws)
    return check(args.model, args.min_macro_f1, args.min_oos_recall)


if __name__ == "__main__":
    sys.exit(main())
