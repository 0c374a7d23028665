"""Corrections of Rasa's SQL tracker store (the conversations). Each is carried by a class of
``bot.rasa_ext.tracker_store`` that endpoints.yml names; nothing of Rasa's is replaced at run
time. The targets are what those classes override or rebuild, checked when they are built."""
from __future__ import annotations

from bot.rasa_patches.guard import Correction, Kind, Target

_STORE = "bot.rasa_ext.tracker_store.TrackerStore (endpoints.yml)"

CORRECTIONS = (
    Correction(2, "SQLite commits without a full sync per message", Kind.SPEED, (
        Target("rasa.core.tracker_store:SQLTrackerStore.__init__", "64e704d159dfa35b"),
    ), carrier=_STORE),
    Correction(3, "the SQLite tracker store keeps its connections", Kind.SPEED, (
        Target("rasa.core.tracker_store:create_engine_kwargs", "dff5f092362096da"),
    ), carrier=_STORE),
    Correction(6, "a conversation that cannot be read fails the message", Kind.BEHAVIOUR, (
        Target("rasa.core.tracker_store:FailSafeTrackerStore.__init__", "a1d5d95d2f96830b"),
        Target("rasa.core.tracker_store:FailSafeTrackerStore.retrieve", "35d77318b0cc7977"),
        Target("rasa.core.tracker_store:FailSafeTrackerStore.retrieve_full_tracker", "5272a6be0919b511"),
        Target("rasa.core.agent:Agent._create_tracker_store", "97499b594b45581b"),
    ), carrier="bot.rasa_ext.tracker_store.ReadingFailsTrackerStore (the channel blueprint)"),
    Correction(14, "the SQL tracker store's statements built once", Kind.SPEED, (
        Target("rasa.core.tracker_store:SQLTrackerStore._retrieve", "c8adbf6f4b61ddd1"),
        Target("rasa.core.tracker_store:SQLTrackerStore.retrieve", "0d99846daced97d3"),
        Target("rasa.core.tracker_store:SQLTrackerStore.retrieve_full_tracker", "22234b03f47fbdd3"),
        Target("rasa.core.tracker_store:SQLTrackerStore.save", "57165e46eab3de08"),
        Target("rasa.core.tracker_store:SQLTrackerStore._event_query", "cd44f7901b860bfd"),
        Target("rasa.core.tracker_store:SQLTrackerStore._additional_events", "d22f99eb863acb07"),
    ), carrier=_STORE),
)
