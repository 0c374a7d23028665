"""Question sets for the document answers (``tests/documents/*.yml``) and when an answer is right.

A set names the policy's and the article's document ids and lists questions with the expected
focus area (``focus_area``: the policy's "indsats" number) or section title (``section``, one
or a list; ``document: article`` for the article), plus ``unknown`` questions that the
documents do not answer, and optionally ``english`` questions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.documents.passages import Passage
from bot.settings import ROOT

TUNING = ROOT / "tests" / "documents" / "tuning.yml"
UNSEEN = ROOT / "tests" / "documents" / "questions.yml"
#: The blind sets, one file each (``fresh.yml``, ``fresh2.yml``, …), in the order they were written.
FRESH_SETS = sorted((ROOT / "tests" / "documents").glob("fresh*.yml"),
                    key=lambda path: int(path.stem.removeprefix("fresh") or 1))
#: Every set by the name ``tools.documents_eval --set`` takes.
SETS = {"tuning": TUNING, "unseen": UNSEEN, **{path.stem: path for path in FRESH_SETS}}


@dataclass(frozen=True)
class Question:
    text: str
    document: str  # the document id whose passage answers it
    focus_area: int | None = None
    sections: tuple[str, ...] = ()  # section titles that answer it (when not a focus area)
    language: str = "da"

    def answered_by(self, passage: Passage) -> bool:
        """Whether ``passage`` is from the right document and focus area or section."""
        if passage.document_id != self.document:
            return False
        if self.focus_area is not None:
            return passage.focus_area == self.focus_area
        return passage.section is not None and passage.section.title in self.sections


@dataclass(frozen=True)
class QuestionSet:
    questions: tuple[Question, ...]
    unknown: tuple[str, ...]
    english: tuple[Question, ...] = ()


def load(path: Path) -> QuestionSet:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    documents = {"policy": raw["policy"], "article": raw["article"]}

    def question(item: dict, language: str) -> Question:
        sections = item.get("section") or ()
        return Question(
            text=item["text"], document=documents[item.get("document", "policy")],
            focus_area=item.get("focus_area"),
            sections=tuple(sections) if isinstance(sections, list) else (sections,),
            language=language,
        )

    return QuestionSet(
        questions=tuple(question(q, "da") for q in raw.get("questions") or ()),
        unknown=tuple(raw.get("unknown") or ()),
        english=tuple(question(q, "en") for q in raw.get("english") or ()),
    )
