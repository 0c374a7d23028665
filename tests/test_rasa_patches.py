"""Rasa's corrections (``bot/rasa_patches.py``): the same results as Rasa's own code, without
its cost, and applied in the Rasa server process before Rasa starts."""
from __future__ import annotations

import asyncio
import sys
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches, rasa_server

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "email", "value": "a@b.dk"}, {"event": "pause"}],
     "responses": [{"response": "utter_greet", "kind": "answer"}]},
    {"events": [{"event": "followup", "name": "callback_form"}, {"event": "active_loop", "name": None}]},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot", "value": 1}]},  # a slot event needs its name
    {"responses": "text"},
    [],
    # a valid event (remembered from VALID) beside an invalid one, or beside invalid responses
    {"events": [{"event": "slot", "name": "email", "value": "a@b.dk"}, {"event": "no_such_event"}]},
    {"events": [{"event": "pause"}], "responses": [{"text": 5}]},
    {"events": [{"event": "slot", "name": "email", "value": "a@b.dk"}], "responses": "text"},
]


def _action() -> RemoteAction:
    return RemoteAction("action_x", EndpointConfig("http://localhost:1/webhook"))


def _original(result) -> str | None:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return None
    except jsonschema.ValidationError as err:
        return err.message


@pytest.mark.parametrize("result", VALID + INVALID)
def test_the_compiled_validator_decides_as_rasas_own(result):
    rasa_patches.apply()
    expected = _original(result)
    if expected is None:
        assert _action()._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError) as err:
            _action()._validate_action_result(result)
        assert err.value.message.startswith(expected)
        assert "Failed to validate Action server response" in err.value.message


def test_an_event_seen_valid_is_not_walked_through_the_schema_again(monkeypatch):
    rasa_patches.apply()
    walked = []
    validator = rasa_patches._event_validator()
    monkeypatch.setattr(rasa_patches, "_event_validator",
                        lambda: type("Counting", (), {"is_valid": lambda self, e: (walked.append(e),
                                                                                   validator.is_valid(e))[1]})())
    event = {"event": "slot", "name": "company_name", "value": "Firma nummer 7 ApS"}
    for _ in range(5):
        assert _action()._validate_action_result({"events": [dict(event)], "responses": []}) is True
    assert walked == [event]


def test_the_schema_is_checked_once_not_for_every_answer(monkeypatch):
    rasa_patches.apply()
    rasa_patches._action_result_validator.cache_clear()
    checks = []
    original = jsonschema.validators.Draft202012Validator.check_schema
    monkeypatch.setattr(jsonschema.validators.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema: (checks.append(1), original(schema))[1]))
    for _ in range(50):
        _action()._validate_action_result(VALID[1])
    assert len(checks) == 1


def test_the_rasa_server_applies_the_patches_before_rasa_starts(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_API_TOKEN", "token-for-the-test")
    monkeypatch.setattr(RemoteAction, rasa_patches.PATCHED, False, raising=False)
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    import rasa.__main__

    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.update(
        patched=getattr(RemoteAction, rasa_patches.PATCHED, False), argv=list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["python"])
    monkeypatch.setattr(rasa_server.logs, "mask_every_record", lambda: None)  # keep pytest's logging
    rasa_server.main()
    assert seen["patched"] is True and seen["argv"][:2] == ["rasa", "run"]


def test_sqlite_connections_of_any_engine_commit_to_a_write_ahead_log(tmp_path):
    import sqlalchemy as sa

    rasa_patches.apply()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")  # as Rasa's tracker store makes it
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_the_sqlite_tracker_store_keeps_its_connections_and_still_works(tmp_path):
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_patches.apply()
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert type(store.engine.pool).__name__ == "QueuePool"
    tracker = DialogueStateTracker.from_events("anne", [UserUttered("hej")])
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("anne"))
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hej"]
    postgres = __import__("rasa.core.tracker_store", fromlist=["x"]).create_engine_kwargs(
        "postgresql://u@localhost/rasa")
    assert "poolclass" not in postgres and postgres["pool_size"] >= 1  # Rasa's own for PostgreSQL


def _run_in_processor(action: RemoteAction) -> bool:
    """Rasa's ``MessageProcessor._run_action`` for one action on an empty conversation."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = MessageProcessor.__new__(MessageProcessor)  # _run_action needs only the domain
    processor.domain = Domain.empty()
    return asyncio.run(processor._run_action(
        action, DialogueStateTracker.from_events("anne", []), CollectingOutputChannel(),
        TemplatedNaturalLanguageGenerator({}), PolicyPrediction([], "policy")))


def test_an_action_server_that_cannot_be_reached_fails_the_message_instead_of_no_answer():
    import socket

    rasa_patches.apply()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there
    action = RemoteAction("action_x", EndpointConfig(f"http://127.0.0.1:{closed}/webhook"))
    with pytest.raises(rasa_patches.ActionServerUnavailable):
        _run_in_processor(action)


def test_only_an_unreachable_or_failing_action_server_counts_as_down():
    import aiohttp
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import ClientResponseError

    def raised(cause: Exception) -> RasaException:
        try:
            raise RasaException("Failed to execute custom action") from cause
        except RasaException as err:
            return err

    assert rasa_patches.action_server_failed(raised(ClientResponseError(502, "Bad Gateway", "")))
    assert rasa_patches.action_server_failed(raised(ClientResponseError(500, "Error", "")))
    assert rasa_patches.action_server_failed(aiohttp.ServerDisconnectedError())
    assert rasa_patches.action_server_failed(asyncio.TimeoutError())
    assert not rasa_patches.action_server_failed(raised(ClientResponseError(400, "Rejected", "{}")))
    assert not rasa_patches.action_server_failed(jsonschema.ValidationError("bad answer"))


def test_a_tracker_store_that_cannot_be_read_fails_instead_of_starting_a_new_conversation():
    import sqlalchemy as sa
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, create_engine_kwargs
    from rasa.shared.core.domain import Domain

    class Down(InMemoryTrackerStore):
        async def retrieve(self, sender_id):
            raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    rasa_patches.apply()
    store = FailSafeTrackerStore(Down(Domain.empty()))
    with pytest.raises(sa.exc.OperationalError):
        asyncio.run(store.retrieve("anne"))  # Rasa's own returned None: a new, empty conversation
    assert create_engine_kwargs("postgresql://u@localhost/rasa")["pool_pre_ping"] is True


def test_the_spacy_pipeline_is_loaded_once_for_both_of_rasas_graph_nodes():
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    rasa_patches.apply()
    first = SpacyNLP.load_model("var/spacy-da")
    second = SpacyNLP.load_model("var/spacy-da")
    assert first is second and first.model("Hej").text == "Hej"


def test_ted_computes_a_dialogue_state_once_and_gives_the_same_prediction_again(monkeypatch):
    from rasa.core.agent import load_agent
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.tensorflow.models import RasaModel

    from bot.dev.stack import MODEL

    rasa_patches.apply()
    agent = asyncio.run(load_agent(model_path=str(MODEL)))
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


def test_action_server_calls_keep_one_connection_and_survive_a_restart_of_the_server():
    """Patch 9: five calls over one TCP connection, with Rasa's token; after the action server
    restarts on the same port the next call works on a new connection."""
    import socket

    from aiohttp import web

    rasa_patches.apply()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    body = {"next_action": "action_x", "tracker": {"latest_message": {"text": "Må jeg få støj/lugt-regler?",
                                                                      "confidence": 0.1 + 0.2}}}
    import json

    for value in (body, {"big": 2 ** 70, "small": -(2 ** 70)}, [1e-7, 123456789.123, None, True]):
        assert json.loads(rasa_patches.fast_json(value)) == value
    with pytest.raises(TypeError):  # what json.dumps cannot encode still fails as it did
        rasa_patches.fast_json({"x": object()})

    async def main() -> tuple[list[int], list[str | None]]:
        peers: list[int] = []
        tokens: list[str | None] = []

        async def webhook(request: web.Request) -> web.Response:
            peers.append(request.transport.get_extra_info("peername")[1])
            tokens.append(request.query.get("token"))
            assert await request.json() == body
            return web.json_response({"events": []})

        async def serve() -> web.AppRunner:
            app = web.Application()
            app.router.add_post("/webhook", webhook)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            return runner

        endpoint = EndpointConfig(f"http://localhost:{port}/webhook", token="secret")
        runner = await serve()
        for _ in range(5):
            assert await endpoint.request(json=body) == {"events": []}
        await runner.cleanup()  # the action server stops, and its connections with it
        runner = await serve()
        assert await endpoint.request(json=body) == {"events": []}
        await runner.cleanup()
        await rasa_patches.close_kept_sessions()
        return peers, tokens

    peers, tokens = asyncio.run(main())
    assert len(set(peers[:5])) == 1, "one connection for the first five calls"
    assert peers[5] != peers[0]
    assert tokens == ["secret"] * 6


def test_event_classes_are_found_as_rasa_finds_them():
    """Patch 10: the table gives the class Rasa's walk of the class tree gives, for every name."""
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    rasa_patches.apply()
    original = getattr(Event.resolve_by_type, rasa_patches.WRAPPED)
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in names:
        assert Event.resolve_by_type(name) is original(name)
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no such event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")


def test_a_model_loaded_without_its_training_step_predicts_exactly_as_rasas_load(monkeypatch):
    """Patch 11: DIET's intent ranking and TED's action probabilities are the same numbers as
    after Rasa's own ``RasaModel.load`` (which first trains one step)."""
    import re

    from rasa.core.agent import load_agent
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.tensorflow.models import RasaModel

    from bot.dev.stack import MODEL
    from bot.settings import ROOT

    texts = [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])
             for line in (ROOT / "tests/nlu/heldout.yml").read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("- ")][::8]
    assert len(texts) > 50

    def predictions() -> list[list[float]]:
        async def run() -> list[list[float]]:
            agent = await load_agent(model_path=str(MODEL))
            ted = agent.processor.graph_runner._instantiated_nodes["run_TEDPolicy2"]._component
            out = []
            for i, text in enumerate(texts):
                parsed = await agent.parse_message(text)
                out.append([round(x["confidence"], 6) for x in parsed["intent_ranking"]])
                tracker = DialogueStateTracker.from_events(f"t{i}", [
                    ActionExecuted("action_listen"), UserUttered(text, parsed["intent"], parsed["entities"])],
                    slots=agent.domain.slots)
                out.append([round(p, 6) for p in ted.predict_action_probabilities(tracker, agent.domain).probabilities])
            return out
        return asyncio.run(run())

    rasa_patches.apply()
    lean = predictions()
    monkeypatch.setattr(RasaModel, "load", classmethod(getattr(RasaModel.load, rasa_patches.WRAPPED)))
    assert lean == predictions()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_sql_tracker_store_reads_and_writes_what_rasas_own_queries_do(kind, tmp_path):
    """Patch 14, on SQLite and the local PostgreSQL: two sessions saved turn by turn; the latest
    session read back, all of them for ``retrieve_full_tracker``, each event stored once, with
    the columns Rasa's ORM query reads."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.conftest import database

    rasa_patches.apply()
    with database(kind, tmp_path) as url:
        parsed = sa.engine.make_url(url)
        store = SQLTrackerStore(Domain.empty(), host=url) if kind == "sqlite" else SQLTrackerStore(
            Domain.empty(), dialect="postgresql", host=parsed.host, port=parsed.port, db=parsed.database,
            username=parsed.username)
        try:
            tracker = DialogueStateTracker.from_events("anne", [ActionExecuted("action_session_start"),
                                                                SessionStarted(timestamp=1.0)])
            turns = [("hej", "greet", "Hej!"), ("tak", "thank", "Så lidt."), ("igen", "greet", "Hej igen!")]
            for n, (text, intent, answer) in enumerate(turns):
                if n == 2:  # a new session
                    tracker.update(ActionExecuted("action_session_start", timestamp=25.0))
                    tracker.update(SessionStarted(timestamp=25.0))
                asyncio.run(store.save(tracker))
                tracker = asyncio.run(store.retrieve("anne"))
                at = 10.0 + 10 * n
                for event in (UserUttered(text, {"name": intent, "confidence": 1.0}, timestamp=at),
                              BotUttered(answer, timestamp=at + 1), ActionExecuted("action_listen", timestamp=at + 2)):
                    tracker.update(event)
                asyncio.run(store.save(tracker))
                tracker = asyncio.run(store.retrieve("anne"))
            latest = [e.text for e in tracker.events if isinstance(e, UserUttered)]
            everything = asyncio.run(store.retrieve_full_tracker("anne"))
            assert latest == ["igen"]
            assert [e.text for e in everything.events if isinstance(e, UserUttered)] == ["hej", "tak", "igen"]
            with store.session_scope() as session:  # Rasa's own ORM query
                rows = store._event_query(session, "anne", fetch_events_from_all_sessions=True).all()
                assert [(r.type_name, r.intent_name, r.action_name) for r in rows] == [
                    (e.type_name, e.as_dict().get("parse_data", {}).get("intent", {}).get("name"),
                     e.as_dict().get("name")) for e in everything.events]
                assert len(store._event_query(session, "anne", False).all()) == len(tracker.events)
            assert "_koege_statements" in store.__dict__  # built once, by the patch
        finally:
            store.engine.dispose()


def test_the_graph_for_given_targets_is_worked_out_once_and_as_rasa_does():
    """Patch 12."""
    from rasa.engine.graph import GraphSchema, SchemaNode

    from bot.nlp.ensemble import CharNgramEnsembleClassifier

    def node(*needs: str) -> SchemaNode:
        return SchemaNode(needs={f"i{n}": need for n, need in enumerate(needs)}, uses=CharNgramEnsembleClassifier,
                          constructor_name="create", fn="process", config={})

    rasa_patches.apply()
    schema = GraphSchema({"a": node(), "b": node("a"), "c": node("a", "b"), "d": node("c"), "e": node("a")})
    original = getattr(GraphSchema.minimal_graph_schema, rasa_patches.WRAPPED)
    first = schema.minimal_graph_schema(["d"])
    assert set(first.nodes) == set(original(schema, ["d"]).nodes) == {"a", "b", "c", "d"}
    assert schema.minimal_graph_schema(["d"]) is first
    assert set(schema.minimal_graph_schema(["e"]).nodes) == {"a", "e"}


def test_a_slot_is_copied_as_copy_copy_would():
    """Patch 13: a new slot of the same class and values; changing the copy leaves the original."""
    import copy

    from rasa.shared.core.slots import CategoricalSlot, TextSlot

    rasa_patches.apply()
    for slot in (TextSlot("company", mappings=[{"type": "from_text"}], initial_value="Firma"),
                 CategoricalSlot("language", mappings=[], values=["da", "en"], initial_value="da")):
        twin = copy.copy(slot)
        assert type(twin) is type(slot) and twin is not slot and vars(twin) == vars(slot)
        twin.value = "other"
        assert slot.value in ("Firma", "da")


def test_the_graph_is_evaluated_as_dask_evaluates_it():
    """Patch 15: the same values as ``dask.get`` for a graph shaped like Rasa's (tasks naming
    other tasks, an input given as a value, a name not in the graph passed as it is), each
    task run once."""
    import dask

    calls: list[str] = []

    def node(name: str):
        def run(*args: Any) -> tuple[str, tuple]:
            calls.append(name)
            return name, args
        return run

    graph = {
        "__message__": ("__message__", ["hej"]),  # an input: a value, not a task
        "tokens": (node("tokens"), "__message__"),
        "features": (node("features"), "tokens", "not-a-node"),
        "intent": (node("intent"), "tokens", "features"),
        "policy": (node("policy"), "intent", "features"),
    }
    targets = ["policy", "intent"]
    expected = dask.get(graph, targets)
    calls.clear()
    assert rasa_patches.evaluate(graph, targets) == list(expected)
    assert sorted(calls) == ["features", "intent", "policy", "tokens"]  # each once


def test_past_states_are_computed_once_per_turn_and_each_caller_gets_its_own_copy(monkeypatch):
    """Patch 16: the same states as Rasa's replay, for each turn of a conversation and each set
    of arguments; computed again after an event; a caller changing its states changes nothing
    for the next caller."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.settings import ROOT

    rasa_patches.apply()
    domain = Domain.load(str(ROOT / "domain.yml"))
    original = getattr(DialogueStateTracker.past_states, rasa_patches.WRAPPED)
    replays = []
    replay = Domain.states_for_tracker_history
    monkeypatch.setattr(Domain, "states_for_tracker_history",
                        lambda self, *a, **k: (replays.append(1), replay(self, *a, **k))[1])
    tracker = DialogueStateTracker.from_events("anne", [ActionExecuted("action_listen")], slots=domain.slots)
    rule_only = {"slots": [], "loops": []}
    turns = [UserUttered("hej", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet"),
             ActionExecuted("action_listen"), UserUttered("book", {"name": "book_visit", "confidence": 1.0}),
             ActionExecuted("visit_form"), ActiveLoop("visit_form"), SlotSet("requested_slot", "cvr"),
             ActionExecuted("action_listen")]
    for event in turns:
        tracker.update(event)
        for args in ((False, False, None), (False, True, rule_only), (True, False, None)):
            expected = original(tracker, domain, *args)
            replays.clear()
            first = tracker.past_states(domain, *args)
            first[-1]["changed"] = {"by": "a caller"}
            first[-1].get("user", {}).clear()
            second = tracker.past_states(domain, *args)
            assert second == expected
            assert len(replays) == 1  # the second call replayed nothing


def test_the_loaded_model_is_frozen_out_of_full_collections_once_the_server_has_started():
    """Patch 17: ``configure_app`` registers the freeze after start; the freeze moves the
    objects there are out of the collector's generations."""
    import gc

    from rasa.core import run

    rasa_patches.apply()
    app = run.configure_app(port=0)
    # Sanic 21.12 keeps server listeners as signals ("server.init.after")
    listeners = [route.handler.keywords.get("listener") for route in app.signal_router.routes
                 if hasattr(route.handler, "keywords")]
    assert rasa_patches.freeze_loaded_objects in listeners
    try:
        asyncio.run(rasa_patches.freeze_loaded_objects())
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
