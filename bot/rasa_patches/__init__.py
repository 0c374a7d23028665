"""Corrections of Rasa 3.6.21's private code at run time, each guarded against an upgrade.

``bot.rasa_server`` calls ``apply()`` before Rasa starts; so do the quality gates
(``bot.rasa_cli``: ``rasa test core`` in ``make test``; the NLU check applies them too), so they test
what production runs. Each correction (one module per area: ``actions``, ``tracker_store``,
``server``, ``nlu``, ``policies``, ``events``, ``model``, ``graph``) says in its module why it
exists (the profile behind it is in docs/performance.md), names its targets with a hash of
their source in Rasa 3.6.21 (``guard``), and is installed only after every selected one has
been checked: a Rasa whose code differs stops start-up with a message naming the correction,
instead of a correction that silently does nothing or the wrong thing.

``RASA_CORRECTIONS`` selects the speed corrections: ``all`` (the default), ``none`` (Rasa's own
code, to compare: ``make bench`` measures it), or numbers (``1,8,15``). The behaviour
corrections (4: ``/health`` and ``/metrics``; 5 and 6: a message fails, and the user gets an
apology, when the action server or the database does not answer; 18: JSON logs) are always
applied: without them users would see the faults they fix.

``python -m bot.rasa_patches`` lists the corrections and checks them against the installed Rasa;
``--fingerprints`` prints each target's current hash (for updating a correction after reading
it against a new Rasa).
"""
from __future__ import annotations

from collections.abc import Iterable

from bot.rasa_patches import actions, events, graph, model, nlu, policies, server, tracker_store
from bot.rasa_patches.actions import (
    ActionServerUnavailable,
    action_server_failed,
    close_kept_sessions,
    fast_json,
)
from bot.rasa_patches.graph import evaluate
from bot.rasa_patches.guard import Correction, CorrectionMismatch, Kind, check, restore
from bot.rasa_patches.server import freeze_loaded_objects

__all__ = ["CORRECTIONS", "ActionServerUnavailable", "Correction", "CorrectionMismatch", "Kind", "action_server_failed",
           "apply", "check", "close_kept_sessions", "evaluate", "fast_json", "freeze_loaded_objects", "restore",
           "selected"]

#: Every correction, by number.
CORRECTIONS: dict[int, Correction] = {c.number: c for module in (
    actions, tracker_store, server, nlu, policies, events, model, graph) for c in module.CORRECTIONS}


def parse(value: str) -> set[int] | None:
    """The speed corrections ``RASA_CORRECTIONS`` names: None for all, a set of numbers else;
    ValueError (English, for the settings check) for anything else."""
    text = value.strip().lower()
    if text in ("", "all"):
        return None
    if text == "none":
        return set()
    numbers = set()
    for part in text.replace(" ", "").split(","):
        if not part.isdigit() or int(part) not in CORRECTIONS:
            raise ValueError(f"'{part}' is not a correction (all, none, or numbers of {sorted(CORRECTIONS)})")
        numbers.add(int(part))
    return numbers


def selected(value: str | None = None) -> list[Correction]:
    """The corrections to apply: every behaviour correction, and the speed corrections
    ``value`` (default: the ``RASA_CORRECTIONS`` setting) selects."""
    if value is None:
        from bot import settings

        value = settings.get("RASA_CORRECTIONS")
    chosen = parse(value)
    return [c for number, c in sorted(CORRECTIONS.items())
            if c.kind is Kind.BEHAVIOUR or chosen is None or number in chosen]


def apply(corrections: Iterable[Correction] | None = None) -> list[Correction]:
    """Check, then install ``corrections`` (default: ``selected()``); idempotent. Raises
    ``CorrectionMismatch`` (and installs nothing) when Rasa is not what they were written for."""
    chosen = list(selected() if corrections is None else corrections)
    check(chosen)
    for correction in chosen:
        correction.install()
    return chosen
