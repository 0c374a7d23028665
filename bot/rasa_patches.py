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
   validates every answer. Same result, same ``ValidationError`` with Rasa's hint. Even compiled,
   the check was 8 % of the process after 1–15: each event is checked against all twenty-odd
   event shapes of the schema's ``oneOf``. An answer is checked in parts — its other fields with
   no events, and each event against ``events.items``, which is what ``items`` means — and the
   JSON text of events found valid (mostly the same ``slot`` and ``action_listen`` events) is
   remembered (4,096, least recently used out); anything that does not pass the parts goes
   through the whole schema as before.
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
9. **The action server is called over kept connections.** ``EndpointConfig.request`` opened a
   new ``aiohttp.ClientSession`` for every call — a new TCP connection and a name look-up of
   ``localhost`` in a thread, for every custom action, form validation and the slot-mapping
   validation of every message (6 % of the Rasa process, profiled after 1–8). Each endpoint now
   keeps one session per event loop (same headers, authentication and time-out), whose idle
   connections are dropped after 2 s — before the action server's (Sanic's 5 s) and nginx's,
   so a connection is never reused just as the server closes it. The sessions are closed when
   the server stops. The body (the conversation's events, for every call: 8 % of the process in
   ``json``) is encoded with ``ujson`` (already Sanic's encoder), the same JSON; whatever ujson
   cannot encode goes to ``json.dumps`` as before.
10. **An event's class is found by a dictionary.** Reading a conversation from the tracker
   store turns every stored event into its class with ``Event.resolve_by_type``, which walked
   Rasa's whole ``Event`` class tree (``all_subclasses``) per event: 4–6 % of the Rasa process.
   The type names are looked up in a table built once from the same walk (the first class of a
   name wins, as before); a name not in it goes to Rasa's function, which also handles the old
   ``topic`` events, defaults and errors, and any class defined later.
11. **A trained model is loaded without a training step.** To give DIET and TED their weights,
   ``RasaModel.load`` compiled the model and *trained it on one example* (``model.fit``) before
   reading the saved weights: TensorFlow traced the whole training step (gradients, Adam) and
   kept it, ~250 MB of the Rasa process for each of the two models, for a step that is never
   run again. The weights are now read first (TensorFlow restores each variable as it is
   created) and the one prediction Rasa makes after loading anyway creates them. Same weights,
   same predictions (``tests/test_rasa_patches.py`` compares both ways of loading on held-out
   messages and dialogue states); to fine-tune (``rasa train --finetune``), or without an
   example to predict on, Rasa's own ``load`` runs.
12. **The graph to run for a message is worked out once.** For every message (NLU) and every
   prediction (policies) Rasa's graph runner asks the schema for the nodes the targets need
   (``GraphSchema.minimal_graph_schema``), a walk of every path through the graph, without
   memory: 6.6 % of the Rasa process after 1–11. The schema does not change after the model is
   loaded, so the answer is kept per schema and targets.
13. **A slot is copied without ``copy``'s generic machinery.** Every tracker Rasa builds (when a
   conversation is read, and once per turn each time a policy replays the conversation) copies
   every slot of the domain with ``copy.copy``, which goes through ``__reduce_ex__``. ``Slot``
   gets a ``__copy__`` that does what that does for these classes (a new object with the same
   ``__dict__``), directly.
14. **The SQL tracker store's statements are built once.** Rasa builds ORM queries for every
   read and save (the events of the latest session, and a ``count()`` of them to find the new
   events to insert) and loads whole ORM objects to read one column: with SQLAlchemy 1.4's
   per-execution cache keys, SQLAlchemy was 16 % of the Rasa process. The same statements are
   built once per store with bound parameters, in SQLAlchemy Core: the events' ``data`` column
   of the latest session (the latest ``SessionStarted`` found by the same subquery), their
   count, and one multi-row insert of the new events with the same columns. Same rows, same
   order (by ``id``), same table — PostgreSQL as SQLite.
15. **The graph is run without dask's scheduler.** ``DaskGraphRunner.run`` hands each run —
   the NLU for every message, the policies for every prediction — to ``dask.get``, which orders
   the tasks (``dask.order``) and keeps a scheduler's state for a graph of some twenty nodes:
   about 6 % of the Rasa process after 1–14. The Rasa server's graphs are run by evaluating
   each target's dependencies first, each node once, as dask does (a name that is not in the
   graph is passed as it is; an input is its value). Nodes that do not depend on each other
   are independent functions of their inputs, so the order among them does not change what
   they return. ``rasa train`` does not apply these patches and keeps dask.
16. **A conversation's past states are computed once per turn for all policies.** To predict
   an action the rule policy, memoization and TED each replay the whole conversation
   (``DialogueStateTracker.past_states``: a fresh tracker, every event applied again, a state
   per turn) — four replays per prediction, two of them with the same arguments, 0.15 ms each
   for a short conversation and growing with it. The states are kept on the tracker for its
   current events (their number and the last one) and the arguments, and each caller gets its
   own copy of the states (callers change them).
17. **The loaded model is kept out of Python's full garbage collections.** After loading, the
   process holds some million Python objects (TensorFlow's graphs, Rasa's model, the domain),
   none of them garbage; a full (generation 2) collection walks all of them: 290 ms, during
   which the server answers nobody (the p99 latency under load). Once the server has started
   (the model is loaded before), a collection clears what is garbage and ``gc.freeze()`` moves
   the rest out of the collector's generations, as Python's documentation suggests for
   servers: a full collection then takes well under a millisecond. Objects made later are
   collected as before.
"""
from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
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


@lru_cache(maxsize=1)
def _event_validator() -> Any:
    """The validator of one event: the schema's ``events.items`` (it has no ``$ref``)."""
    validator = _action_result_validator()
    return type(validator)(validator.schema["properties"]["events"]["items"])


VALID_EVENTS_KEPT = 4096
_valid_events: OrderedDict[str, None] = OrderedDict()


def _event_is_valid(event: Any) -> bool:
    """Whether one event fits the schema; the JSON text of the valid ones is remembered."""
    import json

    try:
        key = json.dumps(event, sort_keys=True)
    except (TypeError, ValueError):
        return _event_validator().is_valid(event)
    if key in _valid_events:
        _valid_events.move_to_end(key)
        return True
    if not _event_validator().is_valid(event):
        return False
    _valid_events[key] = None
    if len(_valid_events) > VALID_EVENTS_KEPT:
        _valid_events.popitem(last=False)
    return True


def _fits(result: Any) -> bool:
    """The schema's decision, in parts: an answer fits when its other fields fit with no events
    and each of its events fits ``events.items`` (which is what ``items`` means)."""
    events = result.get("events") if isinstance(result, dict) else None
    if not isinstance(events, list):
        return False
    return all(_event_is_valid(event) for event in events) and \
        _action_result_validator().is_valid({**result, "events": []})


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator; an answer whose
    events have all been seen valid before is not walked through the schema again."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    if _fits(result):
        return True
    try:  # Rasa's own check: raises the same error as before, or passes what the parts did not
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


async def freeze_loaded_objects(*_: Any) -> None:
    """Patch 17: collect, then move what is left (the loaded model) out of the GC's generations."""
    import gc

    gc.collect()
    gc.freeze()


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

        async def prometheus(request: Any) -> Any:
            if not metrics.may_read_request(request.ip, request.headers):  # the socket's peer
                return response.json({"error": "not found"}, status=404)
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

        async def close_sessions(*_: Any) -> None:  # patch 9
            await close_kept_sessions()

        app.register_listener(close_sessions, "after_server_stop")
        app.register_listener(freeze_loaded_objects, "after_server_start")  # patch 17
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
    _keep_action_server_connections()
    _find_event_classes_by_table()
    _load_models_without_training_step()
    _work_out_graphs_once()
    _copy_slots_directly()
    _build_sql_statements_once()
    _run_graphs_without_dask()
    _compute_past_states_once()
    RemoteAction._validate_action_result = _validate_action_result
    if not hasattr(tracker_store.create_engine_kwargs, "__wrapped__"):
        tracker_store.create_engine_kwargs = _tracker_engine_kwargs(tracker_store.create_engine_kwargs)
    if not hasattr(run.configure_app, "__wrapped__"):
        run.configure_app = _with_health_and_metrics(run.configure_app)
    if not hasattr(SpacyNLP.load_model, "__wrapped__"):
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


# --- 9. the action server over kept connections ---------------------------------------------

KEEPALIVE_SECONDS = 2.0  # below the action server's (Sanic: 5 s) and nginx's keep-alive


def fast_json(value: Any) -> str:
    """``json.dumps(value)`` by ujson (same JSON text up to escaping ``/``); anything ujson
    cannot encode (a very large integer, an unknown type) by ``json.dumps``, as before."""
    import json

    import ujson

    try:
        return ujson.dumps(value)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)


class _KeptSession:
    """``async with`` that hands out a kept session and does not close it."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_: object) -> None:
        return None


def _kept_session(original: Any) -> Any:
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    def session(self: Any) -> Any:
        """``EndpointConfig.session``: one session per endpoint and event loop, kept open."""
        loop = asyncio.get_running_loop()
        kept = self.__dict__.setdefault("_koege_sessions", weakref.WeakKeyDictionary())
        current = kept.get(loop)
        if current is None or current.closed:
            auth = self.basic_auth
            current = aiohttp.ClientSession(  # as Rasa's: headers, authentication, time-out
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=fast_json)
            kept[loop] = current
            _KEPT_SESSIONS.add(current)
        return _KeptSession(current)

    setattr(session, WRAPPED, original)
    return session


_KEPT_SESSIONS: weakref.WeakSet = weakref.WeakSet()  # the sessions opened by patch 9


async def close_kept_sessions() -> None:
    """Close the sessions of patch 9 that belong to the running loop (at server stop)."""
    loop = asyncio.get_running_loop()
    for session in list(_KEPT_SESSIONS):
        if not session.closed and session._loop is loop:
            await session.close()


def _keep_action_server_connections() -> None:
    """Patch 9 (idempotent)."""
    from rasa.utils.endpoints import EndpointConfig

    if not hasattr(EndpointConfig.session, WRAPPED):
        EndpointConfig.session = _kept_session(EndpointConfig.session)


# --- 10. an event's class by a dictionary ----------------------------------------------------

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

    setattr(resolve_by_type, WRAPPED, original)
    return staticmethod(resolve_by_type)


def _find_event_classes_by_table() -> None:
    """Patch 10 (idempotent)."""
    from rasa.shared.core.events import Event

    if not hasattr(Event.resolve_by_type, WRAPPED):
        Event.resolve_by_type = _resolve_by_type(Event.resolve_by_type)


# --- 11. a trained model is loaded without a training step ----------------------------------

def _load_without_training_step(original: Any) -> Any:
    def load(cls: Any, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
        """``RasaModel.load``: weights restored as the first prediction creates them."""
        if finetune_mode or predict_data_example is None:
            return original(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                            *args, **kwargs)
        import tensorflow as tf
        from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                      run_eagerly=config.get(RUN_EAGERLY))
        # The optimizer's slots in the file have no variables now: not an error when reading.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)  # creates (and so restores) every variable
        return model

    setattr(load, WRAPPED, original)
    return classmethod(load)


def _load_models_without_training_step() -> None:
    """Patch 11 (idempotent)."""
    from rasa.utils.tensorflow.models import RasaModel

    if not hasattr(RasaModel.load, WRAPPED):
        RasaModel.load = _load_without_training_step(RasaModel.load.__func__)


# --- 12. the graph to run is worked out once -------------------------------------------------

def _minimal_schema_once(original: Any) -> Any:
    def minimal_graph_schema(self: Any, targets: Any = None) -> Any:
        """``GraphSchema.minimal_graph_schema``, kept per schema and targets."""
        kept = self.__dict__.setdefault("_koege_minimal", {})
        key = tuple(targets) if targets else None
        if key not in kept:
            kept[key] = original(self, targets)
        return kept[key]

    setattr(minimal_graph_schema, WRAPPED, original)
    return minimal_graph_schema


def _work_out_graphs_once() -> None:
    """Patch 12 (idempotent)."""
    from rasa.engine.graph import GraphSchema

    if not hasattr(GraphSchema.minimal_graph_schema, WRAPPED):
        GraphSchema.minimal_graph_schema = _minimal_schema_once(GraphSchema.minimal_graph_schema)


# --- 13. a slot is copied directly ------------------------------------------------------------

def _copy_slot(self: Any) -> Any:
    """What ``copy.copy`` does for a slot (no ``__slots__``, no ``__setstate__``), directly."""
    new = type(self).__new__(type(self))
    new.__dict__.update(self.__dict__)
    return new


def _copy_slots_directly() -> None:
    """Patch 13 (idempotent)."""
    from rasa.shared.core.slots import Slot

    Slot.__copy__ = _copy_slot


# --- 14. the SQL tracker store's statements are built once ------------------------------------

def _statements(store: Any) -> dict[str, Any]:
    """The store's statements (built on first use): the ``data`` of the latest session's events
    and of all events (by ``id``), the latest session's event count, and the insert."""
    kept = store.__dict__.get("_koege_statements")
    if kept is None:
        import sqlalchemy as sa
        from rasa.shared.core.events import SessionStarted

        events = store.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        session_start = (sa.select(sa.func.max(events.c.timestamp))
                         .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                         .scalar_subquery())
        latest = sa.and_(events.c.sender_id == sender,
                         sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
        kept = store.__dict__["_koege_statements"] = {
            "latest": sa.select(events.c.data).where(latest).order_by(events.c.id),
            "all": sa.select(events.c.data).where(events.c.sender_id == sender).order_by(events.c.id),
            "count": sa.select(sa.func.count()).select_from(events).where(latest),
            "insert": events.insert(),
        }
    return kept


async def _sql_retrieve(self: Any, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
    """``SQLTrackerStore._retrieve`` with the statements of :func:`_statements`."""
    import json

    from rasa.shared.core.trackers import DialogueStateTracker

    statement = _statements(self)["all" if fetch_events_from_all_sessions else "latest"]
    with self.session_scope() as session:
        rows = session.execute(statement, {"sender_id": sender_id}).scalars().all()
    events = [json.loads(data) for data in rows]
    if self.domain and events:
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    return None


async def _sql_save(self: Any, tracker: Any) -> None:
    """``SQLTrackerStore.save``: the events not stored yet, in one insert."""
    import itertools
    import json

    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    await self.stream_events(tracker)
    statements = _statements(self)
    with self.session_scope() as session:
        stored = session.execute(statements["count"], {"sender_id": tracker.sender_id}).scalar()
        rows = []
        for event in itertools.islice(tracker.events, stored, len(tracker.events)):
            data = event.as_dict()
            rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                         "timestamp": data.get("timestamp"),
                         "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                         "action_name": data.get("name"), "data": json.dumps(data)})
        if rows:
            session.execute(statements["insert"], rows)
        session.commit()


def _build_sql_statements_once() -> None:
    """Patch 14 (idempotent)."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore._retrieve = _sql_retrieve
    SQLTrackerStore.save = _sql_save


# --- 15. the graph is run without dask's scheduler --------------------------------------------

def evaluate(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """What ``dask.get(graph, targets)`` returns for Rasa's graphs: a task is a tuple whose first
    element is callable and whose other elements are names of tasks (their values are passed)
    or values (passed as they are); anything else in the graph is a value. Each task runs once."""
    results: dict[str, Any] = {}

    def value(key: str) -> Any:
        if key not in results:
            entry = graph[key]
            if type(entry) is tuple and entry and callable(entry[0]):
                results[key] = entry[0](*(value(arg) if isinstance(arg, str) and arg in graph else arg
                                          for arg in entry[1:]))
            else:
                results[key] = entry
        return results[key]

    return [value(target) for target in targets]


def _run_graph(self: Any, inputs: Any = None, targets: Any = None) -> dict[str, Any]:
    """``DaskGraphRunner.run`` with :func:`evaluate` instead of ``dask.get``."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    run_graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(evaluate(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def _run_graphs_without_dask() -> None:
    """Patch 15 (idempotent)."""
    from rasa.engine.runner.dask import DaskGraphRunner

    if not hasattr(DaskGraphRunner.run, WRAPPED):
        setattr(_run_graph, WRAPPED, DaskGraphRunner.run)
        DaskGraphRunner.run = _run_graph


# --- 16. past states once per turn -------------------------------------------------------------

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

    setattr(past_states, WRAPPED, original)
    return past_states


def _compute_past_states_once() -> None:
    """Patch 16 (idempotent)."""
    from rasa.shared.core.trackers import DialogueStateTracker

    if not hasattr(DialogueStateTracker.past_states, WRAPPED):
        DialogueStateTracker.past_states = _past_states_once(DialogueStateTracker.past_states)
