"""Write staff's content corrections back into the YAML files of ``data/knowledge``, so the
repository stays the home of the facts (commit the change afterwards).

ruamel.yaml (already installed with Rasa) reads and writes the files round-trip: comments,
key order, flow mappings and quoting stay as they were; only the changed values are written,
long texts as folded block scalars (``>-``) wrapped like the rest of the file.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

WRAP = 96  # columns of folded text, as the files are written

Overrides = dict[tuple[str, str], dict[str, str]]


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap lines that did not change
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def folded(text: str, indent: int = 8) -> FoldedScalarString | LiteralScalarString:
    """A block scalar for ``text``: folded at word boundaries, or literal when it has line breaks."""
    if "\n" in text:
        return LiteralScalarString(text)
    scalar = FoldedScalarString(text)
    positions, column = [], 0
    for i, char in enumerate(text):
        column += 1
        if char == " " and column > WRAP - indent:
            positions.append(i)
            column = 0
    scalar.fold_pos = positions  # type: ignore[attr-defined]
    return scalar


def _set(mapping: Any, key: str, value: Any) -> bool:
    """Set (or, for an empty value, remove) one key; True if it changed."""
    if value in ("", None):
        if key in mapping:
            del mapping[key]
            return True
        return False
    current = mapping.get(key)
    if str(current).strip() == str(value).strip():
        return False
    mapping[key] = value
    return True


def _apply_answer(entry: Any, values: dict[str, str]) -> bool:
    changed = False
    for lang in ("da", "en"):
        text = values.get(f"text_{lang}", "")
        if text and " ".join(str(entry["text"][lang]).split()) != " ".join(text.split()):
            entry["text"][lang] = folded(text)
            changed = True
    changed |= _set(entry, "source", values.get("source"))
    if "more_sources" in values:
        more = values["more_sources"].split()
        if list(entry.get("more_sources") or []) != more:
            if more:
                entry["more_sources"] = more
            else:
                del entry["more_sources"]
            changed = True
    if values.get("verified"):
        changed |= _set(entry, "verified", dt.date.fromisoformat(values["verified"]))
    return changed


def _apply_contact(contact: Any, values: dict[str, str]) -> bool:
    changed = False
    for key in ("email", "phone", "address", "url", "source"):
        changed |= _set(contact, key, values.get(key, ""))
    if values.get("verified"):
        changed |= _set(contact, "verified", dt.date.fromisoformat(values["verified"]))
    return changed


def write_back(folder: Path, overrides: Overrides) -> list[Path]:
    """Write ``overrides`` into the knowledge files in ``folder``; the files that changed."""
    y = _yaml()
    changed_files = []
    for path in sorted(folder.glob("*.yml")):
        doc = y.load(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            continue
        changed = False
        for entry in doc.get("entries") or []:
            values = overrides.get(("answer", entry.get("intent")))
            if values:
                changed |= _apply_answer(entry, values)
        for contact in doc.get("contacts") or []:
            values = overrides.get(("contact", contact.get("id")))
            if values:
                changed |= _apply_contact(contact, values)
        if changed:
            out = io.StringIO()
            y.dump(doc, out)
            temporary = path.with_suffix(".yml.tmp")
            temporary.write_text(out.getvalue(), encoding="utf-8")
            temporary.replace(path)
            changed_files.append(path)
    return changed_files
