"""Corrections of how Rasa builds conversations from stored events.

10. **An event's class is found by a dictionary.** Reading a conversation turns every stored
   event into its class with ``Event.resolve_by_type``, which walked Rasa's whole ``Event``
   class tree per event (4–6 % of the process). The type names are looked up in a table built
   once from the same walk (the first class of a name wins, as before); a name not in it goes
   to Rasa's function (old ``topic`` events, defaults, errors, classes defined later).
13. **A slot is copied without ``copy``'s generic machinery.** Every tracker Rasa builds copies
   every slot of the domain with ``copy.copy``, through ``__reduce_ex__``. ``Slot`` gets a
   ``__copy__`` that does what that does for these classes (a new object with the same
   ``__dict__``), directly.
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, replace, wrap


def _resolve_by_type(original: Any) -> Any:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    table: dict[str, type] = {}
    for cls in all_subclasses(Event):
        table.setdefault(cls.type_name, cls)

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        """``Event.resolve_by_type`` by a table; names not in it go to Rasa's function."""
        found = table.get(type_name)
        return found if found is not None else original(type_name, default)

    return staticmethod(resolve_by_type)


def _copy_slot(self: Any) -> Any:
    """What ``copy.copy`` does for a slot (no ``__slots__``, no ``__setstate__``), directly."""
    new = type(self).__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


def _install_10() -> None:
    from rasa.shared.core.events import Event

    wrap(Event, "resolve_by_type", _resolve_by_type)


def _install_13() -> None:
    from rasa.shared.core.slots import Slot

    replace(Slot, "__copy__", _copy_slot)


CORRECTIONS = (
    Correction(10, "an event's class by a dictionary", Kind.SPEED, (
        Target("rasa.shared.core.events:Event.resolve_by_type", "b5cf570fa7f286c7"),
    ), _install_10),
    # Slot has no __copy__ of its own: the class is what the correction relies on
    Correction(13, "a slot copied directly", Kind.SPEED, (
        Target("rasa.shared.core.slots:Slot", "0a694d68aef36732"),
    ), _install_13),
)
