"""Corrections of Rasa's dialogue policies (the next action for a conversation).

8. **TED's prediction is kept for a dialogue state it has already seen.** TED's inference was a
   quarter of the Rasa process, two or three times per message. Its input is the featurised
   dialogue state of the last ``max_history`` turns (intents, actions, slots, the active form),
   not the user's words (the model has no end-to-end text features; with them, or ``only_e2e``,
   nothing is cached), and conversations pass through the same states again and again. The
   prediction for a state is kept (least recently used out, 4,096 per process) and given again:
   the numbers the model would compute. ``koege_ted_cache_total{result}`` counts.
16. **A conversation's past states are computed once per turn for all policies.** The rule
   policy, memoization and TED each replayed the whole conversation
   (``DialogueStateTracker.past_states``) — four replays per prediction, two with the same
   arguments. The states are kept on the tracker for its current events and the arguments, and
   each caller gets its own copy (callers change them).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, wrap

TED_CACHE_SIZE = 4096


def _ted_with_cache(original: Any) -> Any:
    import copy
    import json

    from rasa.core.policies.policy import SupportedData
    from rasa.shared.nlu.constants import TEXT

    from bot import metrics

    def predict_action_probabilities(self: Any, tracker: Any, domain: Any, rule_only_data: Any = None,
                                     precomputations: Any = None, **kwargs: Any) -> Any:
        """``TEDPolicy.predict_action_probabilities``, once per dialogue state."""
        if self.model is None or self.only_e2e or TEXT in self.fake_features:
            return original(self, tracker, domain, rule_only_data, precomputations, **kwargs)
        ml_only = self.supported_data() == SupportedData.ML_DATA
        states = self.featurizer.prediction_states(
            [tracker], domain, use_text_for_last_user_input=False, ignore_rule_only_turns=ml_only,
            rule_only_data=rule_only_data, ignore_action_unlikely_intent=ml_only)
        key = json.dumps(states, sort_keys=True, default=list)
        cache = self.__dict__.setdefault("_koege_predictions", OrderedDict())
        kept = cache.get(key)
        if kept is None:
            metrics.TED_CACHE.labels("miss").inc()
            kept = cache[key] = original(self, tracker, domain, rule_only_data, precomputations, **kwargs)
            if len(cache) > TED_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            metrics.TED_CACHE.labels("hit").inc()
            cache.move_to_end(key)
        prediction = copy.copy(kept)  # its lists are the caller's to change
        prediction.probabilities = list(kept.probabilities)
        prediction.events, prediction.optional_events = list(kept.events), list(kept.optional_events)
        return prediction

    return predict_action_probabilities


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


def _install_8() -> None:
    from rasa.core.policies.ted_policy import TEDPolicy

    wrap(TEDPolicy, "predict_action_probabilities", _ted_with_cache)


def _install_16() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    wrap(DialogueStateTracker, "past_states", _past_states_once)


CORRECTIONS = (
    Correction(8, "TED's prediction kept per dialogue state", Kind.SPEED, (
        Target("rasa.core.policies.ted_policy:TEDPolicy.predict_action_probabilities", "4a5d484262f5d132"),
        Target("rasa.core.policies.ted_policy:TEDPolicy._featurize_tracker", "f2c6208ee741cc2d"),
    ), _install_8),
    Correction(16, "past states once per turn", Kind.SPEED, (
        Target("rasa.shared.core.trackers:DialogueStateTracker.past_states", "5463eefb5c69d27f"),
    ), _install_16),
)
