"""Small, documented corrections of Rasa 3.6.21 at run time, each with its cause and a test
(``tests/test_rasa_patches.py``). ``bot.rasa_server`` applies them before Rasa starts.

1. **The action server's answer is validated with a compiled schema.** Rasa checks every
   answer of the action server (``RemoteAction._validate_action_result``) with
   ``jsonschema.validate(result, schema)``. That function first checks the *schema itself*
   against the JSON Schema 2020-12 meta-schema, on every call, and builds a new validator:
   under ten concurrent conversations a sampling profile (py-spy) of the Rasa process found
   35 % of its CPU time in ``jsonschema`` — 26 % in ``check_schema`` alone — called for every
   custom action, every form validation and the slot-mapping validation Rasa runs for every
   message. The schema is a constant (``action_response_format_spec``), so it is checked once
   here and one validator of the same class (the one ``jsonschema.validate`` would choose)
   validates every answer. Same result, same ``ValidationError`` with Rasa's hint.
2. **SQLite commits without a full sync per message.** With the default SQLite tracker store,
   after (1) the next largest share of the Rasa process's CPU (15 %) was SQLite's commit: in
   its default journal mode every commit syncs the database file and a rollback journal to disk.
   Every SQLite connection in the process is put in write-ahead-log mode with ``synchronous =
   NORMAL`` (``bot.store.db.fast_sqlite``): a commit appends to the log, and the log is synced
   at checkpoints. A crash of the process loses nothing; a power cut can lose the last
   messages, never corrupt the file. Production uses PostgreSQL, where this does not apply.
3. **The SQLite tracker store keeps its connections.** SQLAlchemy 1.4 gives a SQLite file no
   connection pool (``NullPool``): Rasa's tracker store opened and closed a connection for
   every read and every save, and closing the last connection to a file in WAL mode also
   checkpoints the log (7 % of the CPU). ``create_engine_kwargs`` — Rasa's own function for the
   tracker store's engine options, which sets a pool only for PostgreSQL — gives SQLite a
   small pool as well.
4. **``GET /health`` and ``GET /metrics``.** Rasa answers ``GET /`` even before its model is
   loaded and has no metrics. ``configure_app`` (which builds the Sanic app of ``rasa run``) is
   wrapped to add ``/health`` (200 once the model is loaded and answers, else 503: the load
   balancer's and Kubernetes' readiness check) and ``/metrics`` (``bot.metrics``).
5. **A message the action server cannot run fails, instead of being answered with nothing.**
   Rasa's processor (``MessageProcessor._run_action``) logs any exception of an action and
   carries on without the action's events. With the action server down (connection refused,
   502/503 from the load balancer, any 5xx, a time-out) the user got HTTP 200 with no answer
   at all, and the message was stored as handled (a form's answer swallowed). A remote action
   that fails that way is now noted, and ``_run_action`` raises ``ActionServerUnavailable``
   after Rasa's own handling: the message fails as a whole, the tracker is not saved (the
   conversation stays where it was), the lock is released, and the channel answers with its
   apology (``utter_channel_error``, ``bot/channels``); the same message works once the action
   server is back. A 400 (the action rejected itself) is Rasa's as before.
6. **A conversation that cannot be read fails the message instead of starting a new one.**
   Rasa wraps the tracker store in a ``FailSafeTrackerStore``, whose ``retrieve`` logs an error
   and returns nothing when the database does not answer: Rasa then took the message for the
   first of a new, empty conversation. With PostgreSQL restarting while a user confirmed a
   booking, the "ja" was answered "Okay. Er der andet, jeg kan hjælpe med?", the booking form
   forgotten, an answer that reads like a confirmation. ``retrieve`` and
   ``retrieve_full_tracker`` now let the error through: the message fails, the channel
   apologises, and the same message works when the database is back. (Saving still falls back
   to memory: the answer has been given by then.) The tracker store's PostgreSQL connections
   are checked before use (``pool_pre_ping``, as ``bot.store.db`` does), so the first message
   after a database restart does not fail on a connection the restart closed.
7. **The spaCy pipeline is loaded once.** Rasa's graph has two nodes for ``SpacyNLP`` (the one
   that provides the model and the one that processes messages), and each loaded the model:
   with the Danish lemma table (553,000 forms) that is 155 MB of the Rasa process twice.
   ``SpacyNLP.load_model`` keeps the loaded pipeline per name (it is only read afterwards).
8. **TED's prediction is kept for a dialogue state it has already seen.** After (1)–(3), TED's
   inference was the largest part of a message (a quarter of the Rasa process), run two or
   three times per message. Its input is the featurised *dialogue state* of the last
   ``max_history`` turns — intents, actions, slots, the active form — not the user's words
   (the model has no end-to-end text features; with them, or ``only_e2e``, nothing is cached),
   and conversations pass through the same states again and again. The prediction for a state
   is kept (least recently used out, 4,096 states per process) and given again for the same state: the
   same numbers the model would compute. ``koege_ted_cache_total{result="hit"|"miss"}`` counts.
"""
from __future__ import annotations

import asyncio
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

PATCHED = "_koege_compiled_schema"
WRAPPED = "_koege_wrapped"  # marks a Rasa function wrapped here (patches 5 and 8)


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of for every answer
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    try:
        _action_result_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


def _tracker_engine_kwargs(original: Any) -> Any:
    def create_engine_kwargs(url: Any) -> dict[str, Any]:
        """Rasa's options, and for a SQLite file a pool of connections kept open."""
        import sqlalchemy as sa

        kwargs = original(url)
        parsed = sa.engine.make_url(str(url)) if not isinstance(url, sa.engine.URL) else url
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            kwargs = {**kwargs, "poolclass": sa.pool.QueuePool, "pool_size": 5, "max_overflow": 10,
                      "connect_args": {"check_same_thread": False, "timeout": 30}}
        elif parsed.get_backend_name() == "postgresql":
            kwargs = {**kwargs, "pool_pre_ping": True}  # patch 6: no dead connection after a restart
        return kwargs

    create_engine_kwargs.__wrapped__ = original  # type: ignore[attr-defined]
    return create_engine_kwargs


def _with_health_and_metrics(original: Any) -> Any:
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        from sanic import response

        from bot import metrics

        app = original(*args, **kwargs)

        async def health(request: Any) -> Any:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
            return response.json({"status": "ok"})

        async def prometheus(_: Any) -> Any:
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        app.add_route(health, "/health", methods=["GET"], name="koege_health")
        app.add_route(prometheus, "/metrics", methods=["GET"], name="koege_metrics")
        return app

    configure_app.__wrapped__ = original  # type: ignore[attr-defined]
    return configure_app


def _load_spacy_once(original: Any) -> Any:
    cached: dict[str, Any] = {}

    def load_model(spacy_model_name: str) -> Any:
        """Rasa's ``SpacyNLP.load_model``, once per model name in this process."""
        if spacy_model_name not in cached:
            cached[spacy_model_name] = original(spacy_model_name)
        return cached[spacy_model_name]

    load_model.__wrapped__ = original  # type: ignore[attr-defined]
    return staticmethod(load_model)


TED_CACHE_SIZE = 4096


def _ted_with_cache(original: Any) -> Any:
    import copy
    import json
    from collections import OrderedDict

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

    setattr(predict_action_probabilities, WRAPPED, original)
    return predict_action_probabilities


def _cache_ted_predictions() -> None:
    """Patch 8 (idempotent)."""
    from rasa.core.policies.ted_policy import TEDPolicy

    if not hasattr(TEDPolicy.predict_action_probabilities, WRAPPED):
        TEDPolicy.predict_action_probabilities = _ted_with_cache(TEDPolicy.predict_action_probabilities)


def apply() -> None:
    """Apply every patch (idempotent)."""
    from rasa.core import run, tracker_store
    from rasa.core.actions.action import RemoteAction
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from bot.store import db

    db.fast_sqlite_everywhere()
    _fail_messages_the_action_server_cannot_run()
    _fail_messages_whose_conversation_cannot_be_read()
    _cache_ted_predictions()
    if getattr(RemoteAction, PATCHED, False):
        return
    RemoteAction._validate_action_result = _validate_action_result
    tracker_store.create_engine_kwargs = _tracker_engine_kwargs(tracker_store.create_engine_kwargs)
    run.configure_app = _with_health_and_metrics(run.configure_app)
    SpacyNLP.load_model = _load_spacy_once(SpacyNLP.load_model)
    setattr(RemoteAction, PATCHED, True)


# --- 5. a message the action server cannot run fails ----------------------------------------

#: The action server's failure during the current action (noted by the remote action).
_action_server_failure: ContextVar[BaseException | None] = ContextVar("koege_action_server_failure",
                                                                      default=None)


class ActionServerUnavailable(Exception):
    """The action server did not run a custom action (unreachable, 5xx, time-out): the message
    fails, so that the channel apologises and nothing of it is stored."""


def action_server_failed(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) says the action server did not run the action:
    no connection, a time-out, or a 5xx answer (from it or from the load balancer)."""
    import aiohttp
    from rasa.utils.endpoints import ClientResponseError

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (aiohttp.ClientConnectionError, asyncio.TimeoutError)):
            return True
        if isinstance(current, ClientResponseError) and current.status >= 500:
            return True
        current = current.__cause__ or current.__context__
    return False


def _remote_run(original: Any) -> Any:
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        """``RemoteAction.run``, noting a failure of the action server for ``_run_action``."""
        try:
            return await original(self, *args, **kwargs)
        except Exception as err:
            if action_server_failed(err):
                _action_server_failure.set(err)
            raise

    setattr(run, WRAPPED, original)
    return run


def _run_action_failing(original: Any) -> Any:
    async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
        """Rasa's ``_run_action``; then ``ActionServerUnavailable`` if the action server failed
        during it (Rasa itself only logs that and goes on without the action's events)."""
        token = _action_server_failure.set(None)
        try:
            result = await original(self, action, *args, **kwargs)
            failure = _action_server_failure.get()
        finally:
            _action_server_failure.reset(token)
        if failure is not None:
            raise ActionServerUnavailable(action.name()) from failure
        return result

    setattr(_run_action, WRAPPED, original)
    return _run_action


def _fail_messages_the_action_server_cannot_run() -> None:
    """Patch 5 (idempotent: each function is wrapped once)."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    if not hasattr(RemoteAction.run, WRAPPED):
        RemoteAction.run = _remote_run(RemoteAction.run)
    if not hasattr(MessageProcessor._run_action, WRAPPED):
        MessageProcessor._run_action = _run_action_failing(MessageProcessor._run_action)


# --- 6. a conversation that cannot be read fails the message --------------------------------

async def _retrieve(self: Any, sender_id: str) -> Any:
    """``FailSafeTrackerStore.retrieve`` without the fail-safe: an error is raised, not taken
    for a conversation that does not exist yet."""
    return await self._tracker_store.retrieve(sender_id)


async def _retrieve_full_tracker(self: Any, sender_id: str) -> Any:
    return await self._tracker_store.retrieve_full_tracker(sender_id)


def _fail_messages_whose_conversation_cannot_be_read() -> None:
    """Patch 6 (idempotent)."""
    from rasa.core.tracker_store import FailSafeTrackerStore

    FailSafeTrackerStore.retrieve = _retrieve
    FailSafeTrackerStore.retrieve_full_tracker = _retrieve_full_tracker
