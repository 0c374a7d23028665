"""The project's classes at Rasa's extension points (``bot/rasa_ext/``), each against Rasa's own
class on the same inputs: the tracker store (corrections 2, 3, 6, 14), the Redis lock store (20),
spaCy (7), TED (8), the channel blueprint's routes and listeners (4, 17), DIET (19); and the check that stops them when the Rasa
code they override is not what they were written against.

``RASA_CORRECTIONS=<all but N> pytest tests/test_rasa_ext.py tests/test_rasa_patches.py`` shows
which tests need correction N: each fails without it."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import gc
import json
import os
import socket
import subprocess
import sys
from types import SimpleNamespace

import pytest
import redis
import sqlalchemy as sa
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockError
from rasa.core.lock_store import LockStore as RasaLockStore
from rasa.core.lock_store import RedisLockStore as RasaRedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches
from bot.rasa_ext import lock_store, server, tracker_store
from bot.rasa_ext.spacy_nlp import SpacyNLP
from bot.rasa_ext.tracker_store import ReadingFailsTrackerStore, TrackerStore
from bot.rasa_patches import guard
from bot.settings import ROOT
from tests.conftest import database


@pytest.fixture(autouse=True)
def corrected() -> None:
    """The selected corrections, as the Rasa server applies them (idempotent)."""
    rasa_patches.apply()


def _sqlite(path) -> str:
    return f"sqlite:///{path}"


# ---- the tracker store (endpoints.yml) --------------------------------------------------------


def test_the_tracker_stores_sqlite_connections_commit_to_a_write_ahead_log_and_only_its_own(tmp_path):
    """Correction 2: the store's engine is in WAL mode with synchronous NORMAL; Rasa's own store
    and any other engine of the process keep SQLite's defaults."""
    ours = TrackerStore(Domain.empty(), host=_sqlite(tmp_path / "ours.db"))
    rasas = SQLTrackerStore(Domain.empty(), host=_sqlite(tmp_path / "rasas.db"))
    other = sa.create_engine(_sqlite(tmp_path / "other.db"))
    try:
        with ours.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        for engine in (rasas.engine, other):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
    finally:
        for engine in (ours.engine, rasas.engine, other):
            engine.dispose()


def test_the_sqlite_tracker_store_keeps_its_connections_and_still_works(tmp_path):
    """Correction 3: a pool of kept connections where Rasa opens one per read and save."""
    ours = TrackerStore(Domain.empty(), host=_sqlite(tmp_path / "tracker.db"))
    rasas = SQLTrackerStore(Domain.empty(), host=_sqlite(tmp_path / "rasa.db"))
    try:
        assert type(rasas.engine.pool).__name__ == "NullPool"
        assert type(ours.engine.pool).__name__ == "QueuePool"
        tracker = DialogueStateTracker.from_events("anne", [UserUttered("hej")])
        asyncio.run(ours.save(tracker))
        connection = ours.engine.pool.connect()
        kept = connection.dbapi_connection
        connection.close()
        again = asyncio.run(ours.retrieve("anne"))
        assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hej"]
        connection = ours.engine.pool.connect()
        assert connection.dbapi_connection is kept  # the same connection, not a new one
        connection.close()
    finally:
        ours.engine.dispose()
        rasas.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_tracker_store_reads_and_writes_what_rasas_own_store_does(kind, tmp_path):
    """Correction 14, on SQLite and the local PostgreSQL: two sessions saved turn by turn by the
    project's store; Rasa's own store reads back the same events, both the latest session and
    all of them, and its ORM query finds each event once with the columns it reads."""
    with database(kind, tmp_path) as url:
        ours, rasas = TrackerStore(Domain.empty(), host=url), SQLTrackerStore(Domain.empty(), host=url)
        try:
            assert ours._statements is not None  # built once, by the correction
            if kind == "postgresql":
                assert ours.engine.pool._pre_ping  # no dead connection after a database restart
            tracker = DialogueStateTracker.from_events("anne", [ActionExecuted("action_session_start"),
                                                                SessionStarted(timestamp=1.0)])
            turns = [("hej", "greet", "Hej!"), ("tak", "thank", "Så lidt."), ("igen", "greet", "Hej igen!")]
            for n, (text, intent, answer) in enumerate(turns):
                if n == 2:  # a new session
                    tracker.update(ActionExecuted("action_session_start", timestamp=25.0))
                    tracker.update(SessionStarted(timestamp=25.0))
                asyncio.run(ours.save(tracker))
                tracker = asyncio.run(ours.retrieve("anne"))
                at = 10.0 + 10 * n
                for event in (UserUttered(text, {"name": intent, "confidence": 1.0}, timestamp=at),
                              BotUttered(answer, timestamp=at + 1), ActionExecuted("action_listen", timestamp=at + 2)):
                    tracker.update(event)
                asyncio.run(ours.save(tracker))
                tracker = asyncio.run(ours.retrieve("anne"))
                assert tracker.events == asyncio.run(rasas.retrieve("anne")).events
            everything = asyncio.run(ours.retrieve_full_tracker("anne"))
            assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["igen"]
            assert everything.events == asyncio.run(rasas.retrieve_full_tracker("anne")).events
            assert [e.text for e in everything.events if isinstance(e, UserUttered)] == ["hej", "tak", "igen"]
            with rasas.session_scope() as session:  # Rasa's own ORM query
                rows = rasas._event_query(session, "anne", fetch_events_from_all_sessions=True).all()
                assert [(r.type_name, r.intent_name, r.action_name) for r in rows] == [
                    (e.type_name, e.as_dict().get("parse_data", {}).get("intent", {}).get("name"),
                     e.as_dict().get("name")) for e in everything.events]
        finally:
            ours.engine.dispose()
            rasas.engine.dispose()


class _Down(InMemoryTrackerStore):
    async def retrieve(self, sender_id):
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    async def retrieve_full_tracker(self, sender_id):
        return await self.retrieve(sender_id)


def test_a_tracker_store_that_cannot_be_read_fails_instead_of_starting_a_new_conversation():
    """Correction 6: Rasa's wrapper takes the error for a conversation that does not exist yet."""
    assert asyncio.run(FailSafeTrackerStore(_Down(Domain.empty())).retrieve("anne")) is None
    store = ReadingFailsTrackerStore(_Down(Domain.empty()))
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.retrieve("anne"))
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.retrieve_full_tracker("anne"))


def test_the_loaded_agent_gets_the_reading_fails_wrapper_around_the_project_store(tmp_path, monkeypatch):
    ours = TrackerStore(Domain.empty(), host=_sqlite(tmp_path / "tracker.db"))
    try:
        rasas_wrapper = FailSafeTrackerStore(ours)
        agent = SimpleNamespace(tracker_store=rasas_wrapper, processor=SimpleNamespace(tracker_store=rasas_wrapper))
        tracker_store.use_in(agent)
        assert type(agent.tracker_store) is ReadingFailsTrackerStore
        assert agent.processor.tracker_store is agent.tracker_store and agent.tracker_store.domain is ours.domain
        monkeypatch.setattr(tracker_store, "BUILT", [])  # as when Rasa could not build the class
        fallback = SimpleNamespace(tracker_store=FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty())),
                                   processor=None)
        with pytest.raises(tracker_store.NotThisStore, match="InMemory|FailSafe"):
            tracker_store.use_in(fallback)
    finally:
        ours.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_a_rasa_server_that_fell_back_to_the_in_memory_store_does_not_start(tmp_path):
    """endpoints.yml names a class that cannot be imported: Rasa warns and keeps conversations in
    memory; the server stops instead (exit code 2, the reason on standard error)."""
    endpoints = (ROOT / "endpoints.yml").read_text(encoding="utf-8").replace(
        "bot.rasa_ext.tracker_store.TrackerStore", "bot.rasa_ext.tracker_store.NoSuchStore")
    (tmp_path / "endpoints.yml").write_text(endpoints, encoding="utf-8")
    env = {**os.environ, "TRACKER_URL": _sqlite(tmp_path / "tracker.db"), "ACTION_SERVER_URL":
           "http://127.0.0.1:9/webhook", "ACTION_SERVER_TOKEN": "x", "LOCK_STORE_TYPE": "in_memory",
           "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379", "REDIS_DB": "0", "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.rasa_cli", "run", "--model", str(ROOT / "models/koege.tar.gz"),
         "--endpoints", str(tmp_path / "endpoints.yml"), "--credentials", str(ROOT / "credentials.yml"),
         "--interface", "127.0.0.1", "--port", str(_free_port())],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "NoSuchStore" in done.stderr and "the server does not start" in done.stderr


# ---- the lock store (endpoints.yml) -------------------------------------------------------------

LOCK_REDIS_DB = 2  # its own (tests/conftest.py, PRODUCTION_REDIS_DB, lists the others)


@pytest.fixture
def lock_redis():
    client = redis.Redis(host="127.0.0.1", port=6379, db=LOCK_REDIS_DB)
    client.flushdb()
    yield client
    client.flushdb()


def _lock_store(kind: str):
    """One worker's Redis lock store: Rasa's own, or the one endpoints.yml names."""
    if kind == "rasa":
        return RasaRedisLockStore(host="127.0.0.1", port=6379, db=LOCK_REDIS_DB)
    return lock_store.LockStore(EndpointConfig(url="127.0.0.1", port=6379, db=LOCK_REDIS_DB, store="redis"))


@pytest.mark.parametrize("kind", ["rasa", "ours"])
def test_a_ticket_issued_while_another_worker_finishes_is_not_lost(kind, lock_redis, monkeypatch):
    """Correction 20. Worker A finishes a message while the conversation's next message reaches
    worker B, whose ticket is written between A's read of the lock and A's write. Rasa's store
    writes A's copy over it and deletes the lock: B's message fails ("Could not acquire lock", an
    HTTP 500). The project's store repeats A's transaction, and B is served next."""
    a, b = _lock_store(kind), _lock_store(kind)
    first = a.issue_ticket("c", 10)
    issued = []
    remove = TicketLock.remove_ticket_for

    def meanwhile_b_arrives(self, number):
        monkeypatch.setattr(TicketLock, "remove_ticket_for", remove)
        issued.append(b.issue_ticket("c", 10))
        remove(self, number)

    monkeypatch.setattr(TicketLock, "remove_ticket_for", meanwhile_b_arrives)
    a.cleanup("c", first)
    taking = b._acquire_lock("c", issued[0], 0.01)
    if kind == "rasa":
        with pytest.raises(LockError):
            asyncio.run(taking)
    else:
        assert asyncio.run(taking).now_serving == issued[0] != first


@pytest.mark.parametrize("kind", ["rasa", "ours"])
def test_two_workers_taking_a_ticket_at_once_get_different_numbers(kind, lock_redis, monkeypatch):
    """Correction 20. Both read the lock before either writes it: with Rasa's store both get
    the same number, and both handle the conversation at once."""
    a, b = _lock_store(kind), _lock_store(kind)
    issued = []
    issue = TicketLock.issue_ticket

    def meanwhile_b_takes_one(self, lifetime):
        monkeypatch.setattr(TicketLock, "issue_ticket", issue)
        issued.append(b.issue_ticket("c", 10))
        return issue(self, lifetime)

    monkeypatch.setattr(TicketLock, "issue_ticket", meanwhile_b_takes_one)
    issued.append(a.issue_ticket("c", 10))
    serving = a.get_lock("c")
    held = [number for number in issued if not serving.is_locked(number)]
    assert len(held) == (2 if kind == "rasa" else 1)


def test_three_worker_processes_take_one_conversation_in_turn(lock_redis):
    """Correction 20, as the workers run it: three processes take one conversation's lock 100
    times each. None is refused and never do two hold it at once (Rasa's own store, the same
    way, 2026-12-07: 32 of 450 refused, 61 times two at once, and waits on lost tickets)."""
    workers = [subprocess.Popen([sys.executable, "-m", "tests.support.lock_worker", str(LOCK_REDIS_DB), "100"],
                                cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    results = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    assert results == [{"refused": 0, "together": 0}] * 3
    assert lock_redis.keys("lock:*") == []  # the last one out deleted the lock


def test_a_dead_workers_lock_expires_and_a_ticket_that_expired_waiting_fails_instead_of_hanging(lock_redis):
    """A worker that died holding the lock leaves a key that expires with its ticket. A
    message whose own ticket expired while it waited gets Rasa's LockError; Rasa's own store
    keeps an empty lock there, and the message waits forever."""
    store = _lock_store("ours")
    store.issue_ticket("c", 0.3)  # never finished
    assert 1 <= lock_redis.ttl("lock:c") <= 1 + lock_store._MARGIN
    waiting = store.lock("c", lock_lifetime=0.1, wait_time_in_seconds=0.05)

    async def wait() -> None:
        async with waiting:
            pass

    with pytest.raises(LockError):
        asyncio.run(asyncio.wait_for(wait(), timeout=5))
    assert lock_redis.keys("lock:*") == []


@pytest.mark.parametrize("setting, expected", [("in_memory", InMemoryLockStore),
                                               ("redis", lock_store.RedisLockStore)])
def test_lock_store_type_chooses_the_store_endpoints_yml_builds(setting, expected, monkeypatch):
    from rasa.core.utils import read_endpoints_from_path

    from bot import settings

    for name, value in {**settings.environment(), "LOCK_STORE_TYPE": setting, "REDIS_HOST": "127.0.0.1",
                        "REDIS_DB": str(LOCK_REDIS_DB)}.items():
        monkeypatch.setenv(name, value)
    built = RasaLockStore.create(read_endpoints_from_path(ROOT / "endpoints.yml").lock_store)
    assert type(built) is expected


# ---- spaCy and TED (config.yml) -----------------------------------------------------------------


def test_the_spacy_pipeline_is_loaded_once_for_both_of_rasas_graph_nodes(monkeypatch):
    """Correction 7: Rasa's own ``SpacyNLP`` loads the pipeline at each call (once for each of
    its two graph nodes); the project's class once, and it is the same pipeline."""
    import spacy
    from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP

    loads = []
    load = spacy.load
    monkeypatch.setattr(spacy, "load", lambda *a, **k: (loads.append(a[0]), load(*a, **k))[1])
    assert RasaSpacyNLP.load_model("var/spacy-da").model is not RasaSpacyNLP.load_model("var/spacy-da").model
    loads.clear()
    first = SpacyNLP.load_model("var/spacy-da")
    second = SpacyNLP.load_model("var/spacy-da")
    assert first is second and len(loads) <= 1
    assert [t.lemma_ for t in first.model("virksomhederne")] == [
        t.lemma_ for t in RasaSpacyNLP.load_model("var/spacy-da").model("virksomhederne")]


def ted_of(agent):
    """The model's TED policy, as the graph runner runs it."""
    from rasa.core.policies.ted_policy import TEDPolicy

    return next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(node._component, TEDPolicy))


def test_the_trained_model_runs_the_classes_config_yml_names(agent):
    """``rasa train`` put the project's classes in the model, so ``rasa run`` and ``rasa test``
    run them too."""
    from bot.rasa_ext.diet_classifier import DIETClassifier
    from bot.rasa_ext.ted_policy import CachedTEDPolicy

    classes = {type(node._component) for node in agent.processor.graph_runner._instantiated_nodes.values()}
    assert {SpacyNLP, DIETClassifier, CachedTEDPolicy} <= classes
    assert type(ted_of(agent)) is CachedTEDPolicy


def test_ted_computes_a_dialogue_state_once_and_gives_the_same_prediction_again(agent, monkeypatch):
    """Correction 8: a state seen before is not run through the network again, and what is kept
    is what Rasa's own ``TEDPolicy`` computes afresh for that state."""
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.utils.tensorflow.models import RasaModel

    ted_of(agent)._kept.clear()  # the shared model's TED as just loaded: nothing kept yet
    inferences = []
    original = RasaModel.run_inference
    monkeypatch.setattr(RasaModel, "run_inference", lambda self, *a, **k: (inferences.append(1),
                                                                             original(self, *a, **k))[1])

    def tracker(sender: str, intent: str, text: str) -> DialogueStateTracker:
        return DialogueStateTracker.from_events(sender, [
            ActionExecuted("action_listen"), UserUttered(text, intent={"name": intent, "confidence": 1.0})],
            slots=agent.domain.slots)

    def predict(t: DialogueStateTracker) -> dict:
        return agent.processor.predict_next_with_tracker(t)  # synchronous in Rasa 3.6

    first = predict(tracker("a", "ask_grant_smv_groen", "hvad er smv grøn"))
    computed = len(inferences)
    assert computed >= 1
    again = predict(tracker("b", "ask_grant_smv_groen", "fortæl om smv grøn"))  # other words, same state
    assert len(inferences) == computed, "TED ran again for a state it had seen"
    assert again["scores"] == first["scores"]
    predict(tracker("c", "greet", "hej"))  # another state: computed
    assert len(inferences) > computed
    ted = ted_of(agent)
    for sender, intent, text in (("d", "ask_grant_smv_groen", "smv grøn?"), ("e", "greet", "hejsa")):
        kept = ted.predict_action_probabilities(tracker(sender, intent, text), agent.domain)
        fresh = TEDPolicy.predict_action_probabilities(ted, tracker(sender + "2", intent, text), agent.domain)
        assert kept.probabilities == fresh.probabilities and kept.events == fresh.events


def _heldout_texts(every: int) -> list[str]:
    """Every ``every``-th message of the three held-out sets (short, misspelt, English, long)."""
    import yaml

    texts = []
    for name in ("heldout", "heldout_style", "heldout_fresh"):
        for block in yaml.safe_load((ROOT / "tests" / "nlu" / f"{name}.yml").read_text())["nlu"]:
            texts += [line.strip()[2:] for line in block.get("examples", "").splitlines() if line.strip()]
    return texts[::every]


def test_diet_gives_rasas_own_intent_confidences_without_running_tensorflow(agent, monkeypatch):
    """Correction 19: for each message DIET's intent scores come without a TensorFlow call, and
    they are the scores Rasa's own ``DIETClassifier`` computes for the same message (float32
    rounding apart), in the same order."""
    import numpy as np
    from rasa.nlu.classifiers.diet_classifier import DIETClassifier as RasaDIETClassifier
    from rasa.utils.tensorflow.models import RasaModel

    from bot.rasa_ext.diet_classifier import DIETClassifier

    inferences: list[int] = []
    original = RasaModel.run_inference
    monkeypatch.setattr(RasaModel, "run_inference", lambda self, *a, **k: (inferences.append(1),
                                                                             original(self, *a, **k))[1])
    ours, compared = DIETClassifier._predict, []

    def predict(self, message):
        before = len(inferences)
        scores = ours(self, message)["i_scores"]
        ran = len(inferences) - before
        compared.append((ran, scores.flatten(), RasaDIETClassifier._predict(self, message)["i_scores"].flatten()))
        return {"i_scores": scores}

    monkeypatch.setattr(DIETClassifier, "_predict", predict)
    texts = _heldout_texts(every=7)

    async def parse_all() -> None:
        for text in texts:
            await agent.parse_message(text)

    asyncio.run(parse_all())
    assert len(compared) == len(texts) > 100
    assert [ran for ran, _, _ in compared] == [0] * len(texts), "DIET ran TensorFlow for a message"
    for _, direct, rasas in compared:
        assert np.allclose(direct, rasas, rtol=0, atol=1e-5)
        assert list(np.argsort(-direct)[:3]) == list(np.argsort(-rasas)[:3])


def test_diet_leaves_a_model_it_cannot_compute_directly_to_rasa(agent):
    """Correction 19 applies only where the intent depends on the sentence features alone: a
    transformer layer, a hidden text layer or entity recognition send DIET through Rasa's code."""
    from bot.rasa_ext.diet_classifier import DIETClassifier, sentence_intent_model

    diet = next(node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                if isinstance(node._component, DIETClassifier))
    assert sentence_intent_model(diet.model) is not None
    layer = diet.model._tf_layers["sequence_layer.text"]
    with _changed(layer, "_has_transformer", True):
        assert sentence_intent_model(diet.model) is None
    ffnn = layer._tf_layers[layer.FFNN]
    with _changed(ffnn, "_ffn_layers", [lambda x, training=None: x]):
        assert sentence_intent_model(diet.model) is None
    with _changed(diet, "_direct", True), _changed(diet, "component_config",
                                                   {**diet.component_config, "entity_recognition": True}):
        assert diet._direct_model() is None


@contextlib.contextmanager
def _changed(obj, name: str, value):
    """``obj.name`` set to ``value`` for the block (the shared model is left as it was)."""
    kept = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, kept)


# ---- the channel blueprint (credentials.yml) ----------------------------------------------------


@functools.cache
def _app_with_channels():
    """Rasa's app with the channels of credentials.yml (one per process: Sanic names apps)."""
    from rasa.core import run

    from bot.channels.rest import RestInput
    from bot.channels.socketio import SocketIOInput

    return run.configure_app([RestInput(), SocketIOInput()], port=0)


def test_the_rest_channels_blueprint_brings_health_metrics_and_the_start_up_check():
    app = _app_with_channels()
    paths = {route.path.strip("/") for route in app.router.routes}
    assert {"health", "metrics", "webhooks/rest/webhook"} <= paths
    # Sanic 21.12 keeps server listeners as signals ("server.init.after")
    listeners = [route.handler.keywords.get("listener") for route in app.signal_router.routes
                 if hasattr(route.handler, "keywords")]
    assert listeners.count(server.after_start) == 1 and listeners.count(server.after_stop) == 1


def test_the_loaded_model_is_frozen_out_of_full_collections_once_the_server_has_started(tmp_path):
    """Correction 17: after start, what is loaded is moved out of the collector's generations."""
    app = _app_with_channels()
    store = TrackerStore(Domain.empty(), host=_sqlite(tmp_path / "tracker.db"))
    gc.unfreeze()
    try:
        app.ctx.agent = SimpleNamespace(tracker_store=FailSafeTrackerStore(store), processor=None)
        asyncio.run(server.after_start(app))
        assert gc.get_freeze_count() > 10_000
        assert type(app.ctx.agent.tracker_store) is ReadingFailsTrackerStore
    finally:
        gc.unfreeze()
        del app.ctx.agent
        store.engine.dispose()


# ---- the guard, for the classes ----------------------------------------------------------------


def _diet(folder):
    """A new, untrained ``DIETClassifier`` of the project's, as ``rasa train`` builds one."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.rasa_ext.diet_classifier import DIETClassifier

    return DIETClassifier.create(DIETClassifier.get_default_config(), LocalModelStorage(folder), Resource("diet"),
                                 ExecutionContext(GraphSchema({}), "test"))


@pytest.mark.parametrize("number, build", [
    (14, lambda tmp: TrackerStore(Domain.empty(), host=_sqlite(tmp / "t.db"))),
    (7, lambda tmp: SpacyNLP.load_model("var/spacy-da")),
    (19, lambda tmp: _diet(tmp)),
    (20, lambda tmp: _lock_store("ours")),
])
def test_a_class_whose_rasa_code_changed_refuses_to_be_built_naming_the_correction(number, build, tmp_path,
                                                                                   monkeypatch):
    c = rasa_patches.CORRECTIONS[number]
    changed = dataclasses.replace(c, targets=(guard.Target(c.targets[0].path, "0" * 16), *c.targets[1:]))
    monkeypatch.setitem(rasa_patches.CORRECTIONS, number, changed)
    with pytest.raises(guard.CorrectionMismatch, match=rf"correction {number} \("):
        build(tmp_path)


def test_rasa_corrections_none_builds_rasas_own_behaviour(tmp_path, monkeypatch):
    """``RASA_CORRECTIONS=none``: the classes do what Rasa's own do (no pool, no WAL, Rasa's
    queries, a fresh spaCy load), except correction 6, which is about behaviour."""
    monkeypatch.setenv("RASA_CORRECTIONS", "none")
    store = TrackerStore(Domain.empty(), host=_sqlite(tmp_path / "t.db"))
    try:
        assert store._statements is None and type(store.engine.pool).__name__ == "NullPool"
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete"
        tracker = DialogueStateTracker.from_events("anne", [UserUttered("hej")])
        asyncio.run(store.save(tracker))
        assert [e.text for e in asyncio.run(store.retrieve("anne")).events] == ["hej"]
    finally:
        store.engine.dispose()
    assert SpacyNLP.load_model("var/spacy-da").model is not SpacyNLP.load_model("var/spacy-da").model
    assert _diet(tmp_path)._direct is False
    assert not rasa_patches.enabled(17) and rasa_patches.enabled(6) and rasa_patches.enabled(4)
