"""Every correction of Rasa 3.6.21, numbered, each guarded against an upgrade.

Where Rasa has an extension point, a class of ``bot.rasa_ext`` that Rasa's configuration names
carries the correction (the tracker and lock stores in endpoints.yml, spaCy, DIET and TED in
config.yml, the REST channel's blueprint in credentials.yml: 2, 3, 4, 6, 7, 8, 14, 17, 19, 20), so ``rasa run``,
``rasa train`` and ``rasa test`` run the same classes. The rest has no extension point and is
replaced at run time (one module per area: ``actions``, ``server``, ``policies``, ``events``,
``model``, ``graph``): ``bot.rasa_server`` calls ``apply()`` before Rasa starts, and so do the
quality gates (``bot.rasa_cli``: ``rasa test core`` in ``make test``; the NLU check applies them
too). Each correction says in its module why it exists (the profile behind it is in
docs/performance.md) and names its targets with a hash of their source in Rasa 3.6.21
(``guard``): a patch is installed only after every selected one has been checked, and a carrier
class checks its own when it is built, so a Rasa whose code differs stops start-up with a message
naming the correction, instead of a correction that silently does nothing or the wrong thing.

``RASA_CORRECTIONS`` selects the speed corrections: ``all`` (the default), ``none`` (Rasa's own
code, to compare: ``make bench`` measures it), or numbers (``1,8,15``). The behaviour
corrections (4: ``/health`` and ``/metrics``; 5 and 6: a message fails, and the user gets an
apology, when the action server or the database does not answer; 18: JSON logs; 20: no
message of several workers' is refused or handled twice at once by a lost lock ticket) are always
applied: without them users would see the faults they fix.

``python -m bot.rasa_patches`` lists the corrections and checks them against the installed Rasa;
``--fingerprints`` prints each target's current hash (for updating a correction after reading
it against a new Rasa).
"""
from __future__ import annotations

from collections.abc import Iterable

from bot.rasa_patches import actions, events, graph, lock_store, model, nlu, policies, server, tracker_store
from bot.rasa_patches.actions import (
    ActionServerUnavailable,
    action_server_failed,
    close_kept_sessions,
    fast_json,
)
from bot.rasa_patches.graph import evaluate
from bot.rasa_patches.guard import Correction, CorrectionMismatch, Kind, check, restore

__all__ = ["CORRECTIONS", "ActionServerUnavailable", "Correction", "CorrectionMismatch", "Kind", "action_server_failed",
           "apply", "check", "check_carried", "close_kept_sessions", "enabled", "evaluate", "fast_json", "restore",
           "selected"]

#: Every correction, by number.
CORRECTIONS: dict[int, Correction] = {c.number: c for module in (
    actions, tracker_store, lock_store, server, nlu, policies, events, model, graph) for c in module.CORRECTIONS}


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


def enabled(number: int) -> bool:
    """Whether correction ``number`` is selected now (``RASA_CORRECTIONS``): what a class of
    ``bot.rasa_ext`` that carries it asks when it is built."""
    return CORRECTIONS[number] in selected()


def check_carried(*numbers: int) -> None:
    """``CorrectionMismatch`` unless the Rasa code that the corrections ``numbers`` (carried by
    a class of ``bot.rasa_ext``) override is the code they were written against: the class
    checks when it is built, so ``rasa train`` and ``rasa test`` stop as ``rasa run`` does."""
    check([CORRECTIONS[number] for number in numbers])


def apply(corrections: Iterable[Correction] | None = None) -> list[Correction]:
    """Check, then install ``corrections`` (default: ``selected()``); idempotent. Raises
    ``CorrectionMismatch`` (and installs nothing) when Rasa is not what they were written for."""
    chosen = list(selected() if corrections is None else corrections)
    check(chosen)
    for correction in chosen:
        correction.install()
    return chosen
