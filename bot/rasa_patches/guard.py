"""The guard every correction of Rasa goes through: what it replaces, for which Rasa, and a
check that the code it replaces is still the code it was written against.

A ``Correction`` names its ``targets``: the Rasa functions (or classes) it replaces or relies
on, each with a short SHA-256 of the target's source as it was in Rasa ``RASA_VERSION``.
``check`` compares them with the installed Rasa before anything is changed; a different Rasa
version, a renamed or missing target, or a changed source stops start-up with a message that
names the correction (``CorrectionMismatch``). The originals are kept (``original``), so tests
run Rasa's own code and the correction on the same inputs, and ``restore`` puts them back.
"""
from __future__ import annotations

import enum
import hashlib
import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

#: The Rasa release every correction was written against (and whose sources are hashed).
RASA_VERSION = "3.6.21"
_MISSING = object()
#: (owner object, attribute name) -> the attribute as Rasa defined it (before any correction).
_ORIGINALS: dict[tuple[Any, str], Any] = {}
#: What ``restore`` runs besides putting attributes back (a correction that is not one).
_UNDO: list[Callable[[], None]] = []


class Kind(enum.Enum):
    """SPEED: the same behaviour, faster or smaller (``RASA_CORRECTIONS`` can turn it off);
    BEHAVIOUR: what users would otherwise see go wrong (always on)."""

    SPEED = "speed"
    BEHAVIOUR = "behaviour"


@dataclass(frozen=True)
class Target:
    """``path``: ``module:Qualified.name`` of what a correction replaces or relies on;
    ``sha256``: the first 16 hex digits of the SHA-256 of its source in ``RASA_VERSION``."""

    path: str
    sha256: str


def _nothing() -> None:
    """The install of a correction a project class carries: nothing of Rasa's is replaced."""


@dataclass(frozen=True)
class Correction:
    """``install`` replaces Rasa's code at run time (a patch); a correction with a ``carrier``
    replaces nothing: a class of the project's, named by Rasa's own configuration (config.yml,
    endpoints.yml, credentials.yml), overrides or extends Rasa's class and reads whether the
    correction is selected. Its ``targets`` are still checked: what the class overrides is
    Rasa's code it was written against."""

    number: int
    title: str
    kind: Kind
    targets: tuple[Target, ...]
    install: Callable[[], None] = _nothing
    carrier: str | None = None

    @property
    def label(self) -> str:
        return f"correction {self.number} ({self.title})"


class CorrectionMismatch(RuntimeError):
    """The installed Rasa is not the code a correction was written against."""


def _split(path: str) -> tuple[Any, str]:
    """(the object that owns the last name of ``path``, that name)."""
    module_name, _, qualified = path.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = qualified.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, name


def raw(owner: Any, name: str) -> Any:
    """The attribute as the owner holds it (a class: along its MRO, undecorated by the lookup:
    a ``staticmethod`` stays one), or ``_MISSING``."""
    if inspect.isclass(owner):
        for klass in owner.__mro__:
            if name in vars(klass):
                return vars(klass)[name]
        return _MISSING
    return getattr(owner, name, _MISSING)


def original(path: str) -> Any:
    """Rasa's own object at ``path``, whether or not a correction has replaced it."""
    owner, name = _split(path)
    found = _ORIGINALS.get((owner, name), raw(owner, name))
    return getattr(found, "__func__", found)  # staticmethod, classmethod: the function


def fingerprint(obj: Any) -> str:
    """The first 16 hex digits of the SHA-256 of ``obj``'s source."""
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def problems(correction: Correction, rasa_version: str | None = None) -> list[str]:
    """What keeps ``correction`` from being applied to this Rasa (empty: nothing)."""
    if rasa_version is None:
        import rasa

        rasa_version = rasa.__version__
    if rasa_version != RASA_VERSION:
        return [f"written for Rasa {RASA_VERSION}, this is Rasa {rasa_version}"]
    found = []
    for target in correction.targets:
        try:
            obj = original(target.path)
        except (ImportError, AttributeError) as err:
            found.append(f"{target.path} not found ({type(err).__name__})")
            continue
        if obj is _MISSING:
            found.append(f"{target.path} not found")
            continue
        try:
            digest = fingerprint(obj)
        except (OSError, TypeError):
            found.append(f"{target.path}: its source cannot be read")
            continue
        if digest != target.sha256:
            found.append(f"{target.path} has changed (source {digest}, written for {target.sha256})")
    return found


def check(corrections: Iterable[Correction]) -> None:
    """``CorrectionMismatch`` naming every correction whose targets are not as written for."""
    lines = [f"- {c.label}: {p}" for c in corrections for p in problems(c)]
    if lines:
        raise CorrectionMismatch(
            "Rasa is not the code these corrections were written against, so they are not applied "
            "and the server does not start:\n" + "\n".join(lines) + "\nRead the correction "
            "(bot/rasa_patches/, docs/performance.md) against the new Rasa code; update it and its "
            "target's sha256 with `python -m bot.rasa_patches --fingerprints`, or remove it.")


def replace(owner: Any, name: str, new: Any) -> None:
    """Set ``owner.name`` to ``new``, keeping Rasa's own attribute (once) for ``restore``."""
    key = (owner, name)
    if key not in _ORIGINALS:
        _ORIGINALS[key] = vars(owner).get(name, _MISSING) if inspect.isclass(owner) else \
            getattr(owner, name, _MISSING)
    setattr(owner, name, new)


def wrap(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` by ``make(Rasa's own owner.name)``, once: installing a correction
    again (``apply`` is idempotent) does not wrap the wrapper."""
    if not replaced(owner, name):
        replace(owner, name, make(getattr(owner, name)))


def replaced(owner: Any, name: str) -> bool:
    """Whether a correction has replaced ``owner.name`` in this process."""
    return (owner, name) in _ORIGINALS


def on_restore(undo: Callable[[], None]) -> None:
    """Run ``undo`` when the corrections are taken back (for one that is not an attribute)."""
    _UNDO.append(undo)


def restore() -> None:
    """Put back everything ``replace`` changed: the process runs Rasa's own code again."""
    while _UNDO:
        _UNDO.pop()()
    for (owner, name), value in list(_ORIGINALS.items()):
        if value is _MISSING:
            delattr(owner, name)
        else:
            setattr(owner, name, value)
        del _ORIGINALS[(owner, name)]
