"""Masking of e-mail addresses, phone numbers, CVR and CPR numbers in texts: for reviewers
(admins see everything) and in exports unless an admin asks for them unmasked.

``mask`` replaces each with a label ("[e-mail]"); ``placeholder`` replaces each with a
harmless example of the same kind, so an exported training example still reads naturally.
"""
from __future__ import annotations

import re
from collections.abc import Callable

# Order matters: CPR (ddmmyy-xxxx) before phone numbers, e-mails before anything with digits.
PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)),
    ("cpr", re.compile(r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[- ]?\d{4}(?!\d)")),
    ("cvr", re.compile(r"(?i)(?:\bcvr(?:-?(?:nr|nummer))?\.?:?\s*)\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d)")),
    ("phone", re.compile(r"(?<![\w+-])(?:\+|00)?(?:45[\s-]?)?(?:\d{2}[\s-]?){3}\d{2}(?!\d)")),
]
LABELS = {"email": "[e-mail]", "cpr": "[CPR-nummer]", "cvr": "[CVR-nummer]", "phone": "[telefon]"}
EXAMPLES = {"email": "navn@firma.dk", "cpr": "010190-1234", "cvr": "CVR 12345678", "phone": "12 34 56 78"}


def _replace(text: str, choose: Callable[[str], str]) -> str:
    for kind, pattern in PATTERNS:
        text = pattern.sub(lambda _m, k=kind: choose(k), text)
    return text


def mask(text: str) -> str:
    """``text`` with e-mails, phones, CVR and CPR numbers replaced by labels."""
    return _replace(text, LABELS.__getitem__) if text else text


def placeholder(text: str) -> str:
    """``text`` with personal numbers and addresses replaced by made-up examples."""
    return _replace(text, EXAMPLES.__getitem__) if text else text


def has_personal_data(text: str) -> bool:
    return any(pattern.search(text) for _, pattern in PATTERNS)


def shown_to(staff: object | None) -> Callable[[str], str]:
    """How texts are shown to this member of staff: as written to admins, masked to reviewers."""
    return (lambda text: text) if staff is not None and getattr(staff, "is_admin", False) else mask


def mask_value(value: object) -> object:
    """A slot value masked (texts, and texts in lists and dicts)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value
