"""Corrections of Rasa's dialogue policies (the next action for a conversation).

8 (TED's prediction kept per dialogue state) is carried by ``bot.rasa_ext.ted_policy``, which
config.yml names.

16. **A conversation's past states are computed once per turn for all policies.** The rule
   policy, memoization and TED each replayed the whole conversation
   (``DialogueStateTracker.past_states``) — four replays per prediction, two with the same
   arguments. The states are kept on the tracker for its current events and the arguments, and
   each caller gets its own copy (callers change them).
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, wrap


def _past_states_once(original: Any) -> Any:
    def past_states(self: Any, domain: Any, omit_unset_slots: bool = False, ignore_rule_only_turns: bool = False,
                    rule_only_data: Any = None) -> Any:
        """``DialogueStateTracker.past_states``, kept for the tracker's current events."""
        events = self.events
        turn = (len(events), id(events[-1]) if events else None)
        kept = self.__dict__.get("_koege_past_states")
        if kept is None or kept["turn"] != turn:
            kept = self.__dict__["_koege_past_states"] = {"turn": turn}
        key = (id(domain), omit_unset_slots, ignore_rule_only_turns, id(rule_only_data))
        if key not in kept:  # kept with the domain and rule_only_data, so that their ids stay theirs
            kept[key] = (original(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data),
                         domain, rule_only_data)
        return [{name: dict(sub) for name, sub in state.items()} for state in kept[key][0]]

    return past_states


def _install_16() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    wrap(DialogueStateTracker, "past_states", _past_states_once)


CORRECTIONS = (
    Correction(8, "TED's prediction kept per dialogue state", Kind.SPEED, (
        Target("rasa.core.policies.ted_policy:TEDPolicy.predict_action_probabilities", "4a5d484262f5d132"),
        Target("rasa.core.policies.ted_policy:TEDPolicy._featurize_tracker", "f2c6208ee741cc2d"),
        Target("rasa.core.policies.ted_policy:TEDPolicy.__init__", "f241cba9863e4bfa"),
    ), carrier="bot.rasa_ext.ted_policy.CachedTEDPolicy (config.yml)"),
    Correction(16, "past states once per turn", Kind.SPEED, (
        Target("rasa.shared.core.trackers:DialogueStateTracker.past_states", "5463eefb5c69d27f"),
    ), _install_16),
)
