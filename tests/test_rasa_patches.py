"""Rasa's corrections (``bot/rasa_patches/``): each one against Rasa's own code (kept by the
guard, ``guard.original``) on the same inputs; the guard that stops start-up when Rasa is not
the code a correction was written for; ``RASA_CORRECTIONS``.

Every test applies the corrections ``RASA_CORRECTIONS`` selects (the ``corrected`` fixture), so
``RASA_CORRECTIONS=<all but N> pytest tests/test_rasa_patches.py`` shows which tests need
correction N: each fails without it."""
from __future__ import annotations

import asyncio
import sys
from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_patches, rasa_server
from bot.rasa_patches import guard
from tests.test_rasa_ext import ted_of


@pytest.fixture(autouse=True)
def corrected() -> None:
    """The selected corrections, as the Rasa server applies them (idempotent)."""
    rasa_patches.apply()


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
    assert RemoteAction._validate_action_result is not guard.original(
        "rasa.core.actions.action:RemoteAction._validate_action_result")
    expected = _original(result)
    if expected is None:
        assert _action()._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError) as err:
            _action()._validate_action_result(result)
        assert err.value.message.startswith(expected)
        assert "Failed to validate Action server response" in err.value.message


def test_an_event_seen_valid_is_not_walked_through_the_schema_again(monkeypatch):
    walked = []
    validator = rasa_patches.actions._event_validator()
    monkeypatch.setattr(rasa_patches.actions, "_event_validator",
                        lambda: type("Counting", (), {"is_valid": lambda self, e: (walked.append(e),
                                                                                   validator.is_valid(e))[1]})())
    event = {"event": "slot", "name": "company_name", "value": "Firma nummer 7 ApS"}
    for _ in range(5):
        assert _action()._validate_action_result({"events": [dict(event)], "responses": []}) is True
    assert walked == [event]


def test_the_schema_is_checked_once_not_for_every_answer(monkeypatch):
    rasa_patches.actions._action_result_validator.cache_clear()
    checks = []
    original = jsonschema.validators.Draft202012Validator.check_schema
    monkeypatch.setattr(jsonschema.validators.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema: (checks.append(1), original(schema))[1]))
    for _ in range(50):
        _action()._validate_action_result(VALID[1])
    assert len(checks) == 1


def test_the_rasa_server_applies_the_corrections_before_rasa_starts(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.setenv("RASA_API_TOKEN", "token-for-the-test")
    guard.restore()
    assert not guard.replaced(RemoteAction, "_validate_action_result")
    import rasa.__main__

    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.update(
        patched=guard.replaced(RemoteAction, "_validate_action_result"), argv=list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["python"])
    monkeypatch.setattr(rasa_server.logs, "mask_every_record", lambda: None)  # keep pytest's logging
    rasa_server.main()
    assert seen["patched"] is True and seen["argv"][:2] == ["rasa", "run"]


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


def test_action_server_calls_keep_one_connection_and_survive_a_restart_of_the_server():
    """Patch 9: five calls over one TCP connection, with Rasa's token; after the action server
    restarts on the same port the next call works on a new connection."""
    import socket

    from aiohttp import web

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

    original = guard.original("rasa.shared.core.events:Event.resolve_by_type")
    assert Event.resolve_by_type is not original
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

    from bot.settings import ROOT
    from tests.support.stack import MODEL

    texts = [re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])
             for line in (ROOT / "tests/nlu/heldout.yml").read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("- ")][::8]
    assert len(texts) > 50

    def predictions() -> list[list[float]]:
        async def run() -> list[list[float]]:
            agent = await load_agent(model_path=str(MODEL))
            ted = ted_of(agent)
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

    steps = []
    fit = RasaModel.fit
    monkeypatch.setattr(RasaModel, "fit", lambda self, *a, **k: (steps.append(1), fit(self, *a, **k))[1])
    lean = predictions()
    assert steps == [], "the model was trained a step to load it"
    monkeypatch.setattr(RasaModel, "load", classmethod(guard.original("rasa.utils.tensorflow.models:RasaModel.load")))
    assert lean == predictions()
    assert steps, "Rasa's own load trains one step (what the correction leaves out)"


def test_the_graph_for_given_targets_is_worked_out_once_and_as_rasa_does():
    """Patch 12."""
    from rasa.engine.graph import GraphSchema, SchemaNode

    from bot.nlp.ensemble import CharNgramEnsembleClassifier

    def node(*needs: str) -> SchemaNode:
        return SchemaNode(needs={f"i{n}": need for n, need in enumerate(needs)}, uses=CharNgramEnsembleClassifier,
                          constructor_name="create", fn="process", config={})

    schema = GraphSchema({"a": node(), "b": node("a"), "c": node("a", "b"), "d": node("c"), "e": node("a")})
    original = guard.original("rasa.engine.graph:GraphSchema.minimal_graph_schema")
    first = schema.minimal_graph_schema(["d"])
    assert set(first.nodes) == set(original(schema, ["d"]).nodes) == {"a", "b", "c", "d"}
    assert schema.minimal_graph_schema(["d"]) is first
    assert set(schema.minimal_graph_schema(["e"]).nodes) == {"a", "e"}


def test_a_slot_is_copied_as_copy_copy_would():
    """Patch 13: a new slot of the same class and values; changing the copy leaves the original."""
    import copy

    from rasa.shared.core.slots import CategoricalSlot, TextSlot

    generic = []
    for slot in (TextSlot("company", mappings=[{"type": "from_text"}], initial_value="Firma"),
                 CategoricalSlot("language", mappings=[], values=["da", "en"], initial_value="da")):
        reduce_ex = type(slot).__reduce_ex__
        type(slot).__reduce_ex__ = lambda self, protocol, _r=reduce_ex: (generic.append(1), _r(self, protocol))[1]
        try:
            twin = copy.copy(slot)
        finally:
            del type(slot).__reduce_ex__
        assert type(twin) is type(slot) and twin is not slot and vars(twin) == vars(slot)
        twin.value = "other"
        assert slot.value in ("Firma", "da")
    assert generic == [], "copy.copy went through __reduce_ex__ (Rasa's way)"


def test_the_graph_is_evaluated_as_dask_evaluates_it():
    """Patch 15: the same values as ``dask.get`` for a graph shaped like Rasa's (tasks naming
    other tasks, an input given as a value, a name not in the graph passed as it is), each
    task run once."""
    import dask
    from rasa.engine.runner.dask import DaskGraphRunner

    assert DaskGraphRunner.run is not guard.original("rasa.engine.runner.dask:DaskGraphRunner.run")
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


def test_the_rasa_graph_runner_gives_what_dask_gives_on_the_real_model(agent, monkeypatch):
    """Correction 15 on the model's own graphs: the NLU of messages and a policy prediction by
    the corrected ``DaskGraphRunner.run`` (which never calls ``dask.get``) are what Rasa's own
    ``run`` (with ``dask.get``) gives for the same inputs."""
    import dask
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    processor = agent.processor
    runner = processor.graph_runner
    rasa_own = guard.original("rasa.engine.runner.dask:DaskGraphRunner.run")
    assert DaskGraphRunner.run is not rasa_own

    def runs(run) -> list:
        from rasa.core.channels.channel import UserMessage

        out = []
        for i, text in enumerate(("hvad er smv grøn", "jeg vil booke et besøg", "hej", "tak for hjælpen")):
            tracker = DialogueStateTracker.from_events(f"g{i}", [ActionExecuted("action_listen")],
                                                       slots=agent.domain.slots)
            nlu = run(runner, inputs={PLACEHOLDER_MESSAGE: [UserMessage(text)], PLACEHOLDER_TRACKER: tracker},
                      targets=[processor.model_metadata.nlu_target])
            parsed = nlu[processor.model_metadata.nlu_target][0]
            ranking = [(r["name"], round(r["confidence"], 6)) for r in parsed.get("intent_ranking")]
            tracker.update(UserUttered(text, parsed.get("intent"), parsed.get("entities")))
            target = processor.model_metadata.core_target
            prediction = run(runner, inputs={PLACEHOLDER_TRACKER: tracker}, targets=[target])[target]
            out.append((ranking, [round(p, 6) for p in prediction.probabilities], prediction.policy_name))
        return out

    def no_dask(*_: Any, **__: Any) -> Any:
        raise AssertionError("dask.get was called")

    monkeypatch.setattr(dask, "get", no_dask)
    corrected = runs(DaskGraphRunner.run)
    monkeypatch.undo()
    assert corrected == runs(rasa_own)


def test_past_states_are_computed_once_per_turn_and_each_caller_gets_its_own_copy(monkeypatch):
    """Patch 16: the same states as Rasa's replay, for each turn of a conversation and each set
    of arguments; computed again after an event; a caller changing its states changes nothing
    for the next caller."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.settings import ROOT

    domain = Domain.load(str(ROOT / "domain.yml"))
    original = guard.original("rasa.shared.core.trackers:DialogueStateTracker.past_states")
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



# ---- the guard -----------------------------------------------------------------------------


def test_every_correction_was_written_for_the_installed_rasa():
    """Each target's source is the one its hash was taken of (Rasa 3.6.21). After an upgrade this
    fails, naming each correction to read again against the new code."""
    found = {c.label: guard.problems(c) for c in rasa_patches.CORRECTIONS.values()}
    assert {label: p for label, p in found.items() if p} == {}
    assert sorted(rasa_patches.CORRECTIONS) == list(range(1, 21))


def test_a_changed_renamed_or_other_rasa_is_a_mismatch_naming_the_correction():
    import dataclasses

    correction = rasa_patches.CORRECTIONS[12]
    changed = dataclasses.replace(correction, targets=(guard.Target(correction.targets[0].path, "0" * 16),))
    renamed = dataclasses.replace(correction, targets=(
        guard.Target("rasa.engine.graph:GraphSchema.minimal_schema_renamed", correction.targets[0].sha256),))
    assert "has changed" in guard.problems(changed)[0]
    assert "not found" in guard.problems(renamed)[0]
    assert "this is Rasa 3.6.22" in guard.problems(correction, rasa_version="3.6.22")[0]
    with pytest.raises(guard.CorrectionMismatch, match=r"correction 12 \(the graph to run worked out once\)"):
        rasa_patches.apply([changed])


def test_a_changed_original_stops_the_rasa_server_before_rasa_starts(tmp_path):
    """A test edits correction 15's recorded hash, as an upgraded Rasa would change the source:
    ``python -m bot.rasa_server`` stops with exit code 2 and a message naming the correction,
    before Rasa (or the model) is loaded, and nothing is replaced."""
    import os
    import subprocess

    from bot.settings import ROOT

    script = (
        "import dataclasses, sys\n"
        "from bot import rasa_patches, rasa_server\n"
        "from bot.rasa_patches import guard\n"
        "c = rasa_patches.CORRECTIONS[15]\n"
        "rasa_patches.CORRECTIONS[15] = dataclasses.replace(c, targets=(guard.Target(c.targets[0].path, 'f' * 16),"
        " *c.targets[1:]))\n"
        "try:\n"
        "    rasa_server.main()\n"
        "finally:\n"
        "    from rasa.engine.runner.dask import DaskGraphRunner\n"
        "    print('replaced' if guard.replaced(DaskGraphRunner, 'run') else 'untouched', file=sys.stderr)\n"
    )
    env = {**os.environ, "STATE_DIR": str(tmp_path), "RASA_API_TOKEN": "token-for-the-test",
           "RASA_CORRECTIONS": "all"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "correction 15 (the graph run without dask's scheduler)" in done.stderr
    assert "rasa.engine.runner.dask:DaskGraphRunner.run has changed" in done.stderr
    assert done.stderr.rstrip().endswith("untouched")


def test_rasa_corrections_none_runs_rasas_own_code_but_keeps_the_behaviour_corrections(monkeypatch):
    from rasa.core.processor import MessageProcessor
    from rasa.engine.runner.dask import DaskGraphRunner

    try:
        guard.restore()
        monkeypatch.setenv("RASA_CORRECTIONS", "none")
        applied = rasa_patches.apply()
        assert {c.number for c in applied} == {4, 5, 6, 18, 20}
        assert RemoteAction._validate_action_result is guard.original(
            "rasa.core.actions.action:RemoteAction._validate_action_result")
        assert DaskGraphRunner.run is guard.original("rasa.engine.runner.dask:DaskGraphRunner.run")
        assert guard.replaced(MessageProcessor, "_run_action")
        monkeypatch.setenv("RASA_CORRECTIONS", "1,15")
        assert {c.number for c in rasa_patches.selected()} == {1, 4, 5, 6, 15, 18, 20}
    finally:
        guard.restore()
        monkeypatch.undo()
        rasa_patches.apply()
    assert guard.replaced(DaskGraphRunner, "run") == (15 in {c.number for c in rasa_patches.selected()})


@pytest.mark.parametrize("value, numbers", [("all", None), ("", None), ("none", set()), ("1, 8,15", {1, 8, 15})])
def test_the_setting_names_the_speed_corrections(value, numbers):
    assert rasa_patches.parse(value) == numbers


@pytest.mark.parametrize("value", ["99", "1,x", "some", "-1"])
def test_a_setting_naming_no_correction_is_refused(value):
    with pytest.raises(ValueError):
        rasa_patches.parse(value)

