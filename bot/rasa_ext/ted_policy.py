"""Rasa's ``TEDPolicy``, named in config.yml (``bot.rasa_ext.ted_policy.CachedTEDPolicy``), with
correction 8 (``bot.rasa_patches``; ``RASA_CORRECTIONS`` turns it off).

8. **TED's prediction is kept for a dialogue state it has already seen.** TED's inference was a
   quarter of the Rasa process, two or three times per message. Its input is the featurised
   dialogue state of the last ``max_history`` turns (intents, actions, slots, the active form),
   not the user's words (the model has no end-to-end text features; with them, or ``only_e2e``,
   nothing is kept), and conversations pass through the same states again and again. The
   prediction for a state is kept (least recently used out, ``CACHE_SIZE`` per policy) and given
   again: the numbers the model would compute. ``koege_ted_cache_total{result}`` counts.
"""
from __future__ import annotations

import copy
import json
from collections import OrderedDict
from typing import Any

from rasa.core.policies.policy import PolicyPrediction, SupportedData
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT

from bot import metrics, rasa_patches

CACHE_SIZE = 4096


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class CachedTEDPolicy(TEDPolicy):
    """``TEDPolicy`` that gives a dialogue state's prediction again instead of computing it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        rasa_patches.check_carried(8)
        super().__init__(*args, **kwargs)
        self._kept: OrderedDict[str, PolicyPrediction] | None = (
            OrderedDict() if rasa_patches.enabled(8) else None)

    def predict_action_probabilities(self, tracker: Any, domain: Any, rule_only_data: Any = None,
                                     precomputations: Any = None, **kwargs: Any) -> PolicyPrediction:
        if self._kept is None or self.model is None or self.only_e2e or TEXT in self.fake_features:
            return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        ml_only = self.supported_data() == SupportedData.ML_DATA
        states = self.featurizer.prediction_states(
            [tracker], domain, use_text_for_last_user_input=False, ignore_rule_only_turns=ml_only,
            rule_only_data=rule_only_data, ignore_action_unlikely_intent=ml_only)
        key = json.dumps(states, sort_keys=True, default=list)
        kept = self._kept.get(key)
        if kept is None:
            metrics.TED_CACHE.labels("miss").inc()
            kept = self._kept[key] = super().predict_action_probabilities(
                tracker, domain, rule_only_data, precomputations, **kwargs)
            if len(self._kept) > CACHE_SIZE:
                self._kept.popitem(last=False)
        else:
            metrics.TED_CACHE.labels("hit").inc()
            self._kept.move_to_end(key)
        prediction = copy.copy(kept)  # its lists are the caller's to change
        prediction.probabilities = list(kept.probabilities)
        prediction.events, prediction.optional_events = list(kept.events), list(kept.optional_events)
        return prediction
