"""Exports of the improve loop and the follow-up: marked messages as Rasa NLU YAML, a whole
conversation as a Rasa test story, bookings as CSV."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from bot.console import masking
from bot.console.training import TrainingData, intents, normalise
from bot.store.conversations import HIDDEN_ACTIONS, Transcript
from bot.store.review import Annotation


@dataclass(frozen=True)
class ExportWarning:
    text: str  # the message (as exported)
    problem: str  # Danish


class _Literal(str):
    """A YAML block scalar (``|``), as Rasa's own files write examples."""


def _dumper() -> type[yaml.SafeDumper]:
    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(_Literal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|"))
    return Dumper


def _dump(doc: object) -> str:
    return yaml.dump(doc, Dumper=_dumper(), allow_unicode=True, sort_keys=False, width=1000)


def nlu_warnings(annotations: Iterable[Annotation], data: TrainingData) -> dict[int, list[str]]:
    """Annotation id -> problems: already in the training data or the held-out set, another
    label for the same text (here or in the data), a new topic the domain does not know."""
    found: dict[int, list[str]] = defaultdict(list)
    annotations = list(annotations)
    labels: dict[str, set[str]] = defaultdict(set)
    for a in annotations:
        labels[normalise(a.text)].add(a.intent)
    known = set(intents())
    for a in annotations:
        key = normalise(a.text)
        if key in data.training:
            where = ", ".join(sorted(data.training[key]))
            found[a.id].append(f"findes allerede i træningsdata (data/nlu) som {where}")
            if a.intent not in data.training[key]:
                found[a.id].append(f"konflikt: træningsdata siger {where}, markeringen siger {a.intent}")
        if key in data.heldout:
            found[a.id].append("findes i testsættet (tests/nlu/heldout.yml): tilføj den ikke til træningsdata")
        if len(labels[key]) > 1:
            found[a.id].append("konflikt: samme besked er markeret med " + ", ".join(sorted(labels[key])))
        if a.intent not in known:
            found[a.id].append(f"nyt emne: intenten {a.intent} findes ikke i domain.yml endnu")
        if masking.has_personal_data(a.text):
            found[a.id].append("indeholder e-mail, telefon-, CVR- eller CPR-nummer: erstattet med et eksempel")
    return dict(found)


def nlu_yaml(annotations: Iterable[Annotation], data: TrainingData,
             today: dt.date | None = None) -> tuple[str, list[ExportWarning]]:
    """The marked messages as Rasa NLU YAML (``version: "3.1"``, one block per intent) and
    the warnings, which also head the file as comments. Personal data is replaced by made-up
    examples; a text marked twice with the same intent is written once."""
    annotations = list(annotations)
    problems = nlu_warnings(annotations, data)
    by_intent: dict[str, list[str]] = defaultdict(list)
    warnings: list[ExportWarning] = []
    for a in annotations:
        text = " ".join(masking.placeholder(a.text).split())
        warnings += [ExportWarning(text, p) for p in problems.get(a.id, [])]
        if text and text not in by_intent[a.intent]:
            by_intent[a.intent].append(text)
    doc = {"version": "3.1", "nlu": [
        {"intent": intent, "examples": _Literal("".join(f"- {t}\n" for t in texts))}
        for intent, texts in sorted(by_intent.items())]}
    header = [f"# Markerede beskeder fra personalekonsollen, eksporteret {(today or dt.date.today()).isoformat()}.",
              "# Gennemgå advarslerne, før filen lægges i data/nlu/."]
    header += [f"# ADVARSEL: {w.text!r}: {w.problem}" for w in warnings]
    return "\n".join(header) + "\n" + _dump(doc), warnings


def test_story(transcript: Transcript, name: str | None = None) -> str:
    """The conversation as a Rasa test story (tests/stories/), with each user message's
    intent (a staff member's marking wins), the actions and forms; personal data replaced."""
    marks = getattr(transcript, "annotations", {})
    steps: list[dict] = []
    for turn in transcript.turns:
        if turn.kind == "user" and turn.user is not None:
            intent = marks.get(turn.event_id) or turn.user.intent or turn.user.guess or "nlu_fallback"
            text = masking.placeholder(turn.user.text)
            step = {"intent": intent} if text.startswith("/") else {"user": _Literal(text + "\n"), "intent": intent}
            steps.append(step)
        elif turn.kind == "action" and turn.name and turn.name not in HIDDEN_ACTIONS:
            steps.append({"action": turn.name})
        elif turn.kind == "form":
            steps.append({"active_loop": turn.name})
    story = {"story": name or f"samtale {transcript.sender_id[:12]} (fra personalekonsollen)", "steps": steps}
    return _dump({"version": "3.1", "stories": [story]})


SAFE_NUMBER = re.compile(r"^\+?[0-9 ]+$")
BOOKING_COLUMNS = ["reference", "tidspunkt", "status", "opfoelgning", "virksomhed", "cvr", "adresse",
                   "kontaktperson", "email", "telefon", "emne", "sprog", "oprettet", "samtale"]


def bookings_csv(rows: Iterable[dict[str, str]], masked: bool) -> str:
    """Bookings as CSV (semicolon-separated, as Danish Excel opens it); e-mails, phones and
    CVR numbers masked when ``masked``."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=BOOKING_COLUMNS, delimiter=";", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        row = dict(row)
        if masked:
            row["email"] = "[e-mail]" if row.get("email") else ""
            row["telefon"] = "[telefon]" if row.get("telefon") else ""
            row["cvr"] = "[CVR-nummer]" if row.get("cvr") else ""
            row["emne"] = masking.mask(row.get("emne", ""))
        writer.writerow({k: _no_formula(v) for k, v in row.items()})
    return "\ufeff" + out.getvalue()  # BOM: Excel reads UTF-8 (æ, ø, å)


def _no_formula(value: object) -> str:
    """A cell that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    text = "" if value is None else str(value)
    if SAFE_NUMBER.match(text):
        return text  # a phone number such as +45 20 12 34 56
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
