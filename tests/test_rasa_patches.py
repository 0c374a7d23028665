"""Rasa's corrections (``bot/rasa_patches.py``): the same results as Rasa's own code, without
its cost, and applied in the Rasa server process before Rasa starts."""
from __future__ import annotations

import asyncio
import sys

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
