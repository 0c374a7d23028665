"""The assistant's training data as the improve loop needs it: the domain's intents, and
every example of ``data/nlu/`` and ``tests/nlu/heldout.yml`` (to warn about duplicates and
conflicting labels before an export)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.settings import ROOT

NLU_DIR = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
DOMAIN = ROOT / "domain.yml"
ENTITY = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]*\}")


def normalise(text: str) -> str:
    """For comparing examples: entity markup removed, lower case, single spaces, no end punctuation."""
    text = ENTITY.sub(lambda m: m.group(1) or m.group(2), text)
    return " ".join(text.lower().split()).strip(" .!?")


@lru_cache(maxsize=1)
def intents() -> tuple[str, ...]:
    """The domain's intents, in the domain's order."""
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8")) or {}
    found = []
    for item in domain.get("intents") or []:
        found.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return tuple(found)


def _examples(paths: list[Path]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu") or []:
            intent = block.get("intent")
            if not intent or not isinstance(block.get("examples"), str):
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.setdefault(normalise(line[2:]), set()).add(intent)
    return found


@dataclass(frozen=True)
class TrainingData:
    training: dict[str, set[str]]  # normalised text -> intents in data/nlu
    heldout: dict[str, set[str]]  # ... in tests/nlu/heldout.yml

    @classmethod
    def load(cls, nlu_dir: Path = NLU_DIR, heldout: Path = HELDOUT) -> TrainingData:
        return cls(_examples(sorted(nlu_dir.glob("*.yml"))), _examples([heldout] if heldout.exists() else []))
