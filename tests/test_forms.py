"""The form base (actions/forms.py): what every form does with an answer."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import manage_booking, visit_form  # noqa: F401 - registers the forms' validations
from actions.forms import ActionAbortForm, Rejected, check, form_slots
from tests.conftest import DOMAIN, all_buttons, call, make_tracker, responses

ACTIONS = Path(__file__).resolve().parent.parent / "actions"


def parse_number(text: str, tracker: Tracker, dispatcher: CollectingDispatcher) -> dict:
    if not text.isdigit():
        raise Rejected("utter_invalid_phone")
    return {"phone": text}


def test_an_answer_is_accepted_and_its_failures_forgotten():
    tracker = make_tracker("20123456")
    tracker.slots["form_failures"] = {"phone": 2, "email": 1}
    result = check("phone", CollectingDispatcher(), tracker, parse_number)
    assert result == {"phone": "20123456", "form_failures": {"email": 1}}


def test_a_rejected_answer_is_explained_and_a_person_offered_after_three():
    failures: dict = {}
    for _ in range(3):
        dispatcher = CollectingDispatcher()
        tracker = make_tracker("hmm")
        tracker.slots["form_failures"] = failures
        result = check("phone", dispatcher, tracker, parse_number)
        failures = result["form_failures"]
        assert result["phone"] is None
    assert responses(dispatcher.messages) == ["utter_invalid_phone", "utter_offer_human"]
    assert "/request_human" in [b["payload"] for b in all_buttons(dispatcher.messages)]
    assert failures == {"phone": 0}  # counted again from zero


def test_a_side_question_is_answered_instead_of_failing():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("hvad er SMV:Digital?", "ask_grant_smv_digital")
    result = check("phone", dispatcher, tracker, parse_number)
    assert result == {"phone": None} and "utter_invalid_phone" not in responses(dispatcher.messages)
    assert dispatcher.messages[0]["kind"] == "answer"


def test_question_first_answers_before_reading_free_text():
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("hvad er SMV:Digital?", "ask_grant_smv_digital")
    result = check("company_name", dispatcher, tracker, lambda t, *_: {"company_name": t}, question_first=True)
    assert result == {"company_name": None}


def test_the_abort_action_forgets_the_stopped_forms_slots_from_the_domain():
    tracker = make_tracker("stop", "stop")
    tracker.events.append({"event": "active_loop", "name": "visit_form"})
    tracker.events.append({"event": "active_loop", "name": None})
    dispatcher = CollectingDispatcher()
    events = ActionAbortForm().run(dispatcher, tracker, DOMAIN)
    cleared = {e["name"] for e in events if e["event"] == "slot" and e["value"] is None}
    required = set(DOMAIN["forms"]["visit_form"]["required_slots"])
    assert required | {"company_address", "summary_shown", "send_copy", "form_failures", "stop_declined"} == cleared
    assert responses(dispatcher.messages) == ["utter_form_stopped"]


def test_every_form_slot_list_comes_from_the_domain():
    assert form_slots(DOMAIN, "manage_booking_form") == DOMAIN["forms"]["manage_booking_form"]["required_slots"]


@pytest.mark.parametrize("module", sorted(ACTIONS.glob("*.py")), ids=lambda p: p.name)
def test_no_action_module_imports_another_ones_private_names(module):
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("actions"):
            assert not [a.name for a in node.names if a.name.startswith("_")], module.name


def test_every_response_an_action_or_e_mail_names_is_in_the_domain():
    import re

    named = set()
    for path in [*ACTIONS.glob("*.py"), *Path("bot").rglob("*.py")]:
        if path.name == "wording.py":
            continue  # its docstring's example
        named |= set(re.findall(r'response="(utter_[a-z_]+)"', path.read_text()))
        named |= set(re.findall(r'wording\.(?:text|message)\("(utter_[a-z_]+)"', path.read_text()))
    assert named, "responses are named in the code"
    assert not named - set(DOMAIN["responses"])


def _in_form(text: str, intent: str, requested: str, **slots) -> Tracker:
    tracker = make_tracker(text, intent)
    tracker.active_loop = {"name": "visit_form"}
    tracker.slots.update({"requested_slot": requested, **slots})
    return tracker


def test_stop_in_a_form_asks_first_and_drops_nothing_yet():
    from actions.forms import ActionConfirmStop

    dispatcher = CollectingDispatcher()
    events = ActionConfirmStop().run(dispatcher, _in_form("Stop & Shop ApS", "stop", "company_name"), DOMAIN)
    assert events == [] and responses(dispatcher.messages) == ["utter_confirm_stop"]
    [da] = [v for v in DOMAIN["responses"]["utter_confirm_stop"] if "condition" not in v]
    assert [b["payload"] for b in da["buttons"]] == ["/affirm", "/deny"]


def test_after_no_to_stopping_a_stop_at_the_same_question_is_its_answer():
    """A company called "Stop & Shop ApS": the form reads the name as usual (FollowupAction)."""
    from actions.forms import ActionConfirmStop

    dispatcher = CollectingDispatcher()
    tracker = _in_form("Stop & Shop ApS", "stop", "company_name", stop_declined="company_name")
    events = ActionConfirmStop().run(dispatcher, tracker, DOMAIN)
    assert dispatcher.messages == []
    assert {"event": "slot", "timestamp": None, "name": "company_name", "value": "Stop & Shop ApS"} in events
    assert {"event": "followup", "timestamp": None, "name": "visit_form"} in events
    # at another question, "stop" asks again
    tracker = _in_form("stop", "stop", "email", stop_declined="company_name")
    assert ActionConfirmStop().run(dispatcher, tracker, DOMAIN) == []
    assert responses(dispatcher.messages) == ["utter_confirm_stop"]


def test_no_to_stopping_is_not_the_answer_and_the_question_is_asked_again():
    from actions.visit_form import ValidateVisitForm

    tracker = _in_form("nej", "deny", "company_name", company_name="nej")
    tracker.events[:0] = [{"event": "action", "name": "action_confirm_stop"},
                          {"event": "action", "name": "action_listen"}]
    dispatcher = CollectingDispatcher()
    events = call(ValidateVisitForm().run(dispatcher, tracker, DOMAIN))
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots == {"company_name": None, "stop_declined": "company_name"}
    assert dispatcher.messages == []


def test_a_stop_taken_as_an_answer_that_is_not_one_asks_again_next_time():
    tracker = make_tracker("stop")
    tracker.slots["stop_declined"] = "phone"
    result = check("phone", CollectingDispatcher(), tracker, parse_number)
    assert result["phone"] is None and result["stop_declined"] is None


def test_the_summarys_stop_button_asks_too():
    """The summary's "Afbryd" (/stop) asks like a typed "stop": a form stopped by an action
    instead of the rules leaves a state the policies never saw (they answered "not understood"
    until Rasa's limit of predictions)."""
    from actions.forms import ActionConfirmStop

    dispatcher = CollectingDispatcher()
    events = ActionConfirmStop().run(dispatcher, _in_form("/stop", "stop", "booking_confirmed"), DOMAIN)
    assert events == [] and responses(dispatcher.messages) == ["utter_confirm_stop"]
