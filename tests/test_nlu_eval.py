"""``make nlu-eval``'s paired comparison: where the project and a baseline differ on the same messages."""
from __future__ import annotations

from tools.nlu_eval import paired


def test_paired_counts_the_messages_only_one_of_the_two_gets_right():
    gold = ["a", "b", "c", "d", "e"]
    project = ["a", "b", "x", "x", "e"]   # c, d wrong
    baseline = ["a", "x", "c", "x", "x"]  # b, d, e wrong
    found = paired(gold, project, baseline)
    assert (found.only_project, found.only_baseline) == (2, 1)  # b and e; c (d both wrong, a both right)


def test_a_tie_made_of_different_errors_is_no_evidence_and_a_clear_lead_is():
    tie = paired(["a"] * 6, ["a", "a", "a", "x", "x", "x"], ["x", "x", "x", "a", "a", "a"])
    assert (tie.only_project, tie.only_baseline) == (3, 3)
    assert tie.p_value == 1.0
    lead = paired(["a"] * 12, ["a"] * 12, ["x"] * 12)
    assert lead.p_value < 0.001
    assert "McNemar exact p = 0.00" in lead.row("(c) SVM")


def test_identical_predictions_give_no_difference():
    same = paired(["a", "b"], ["a", "x"], ["a", "x"])
    assert (same.only_project, same.only_baseline, same.p_value) == (0, 0, 1.0)


def test_the_makefile_rebuilds_on_the_code_the_python_names():
    """The Makefile retrains and rebuilds the spaCy pipeline on the files ``bot.nlp`` names as its
    training code and the pipeline's sources (one list each in Python; make cannot import it)."""
    import re
    from pathlib import Path

    from bot.nlp import PIPELINE_SOURCES
    from bot.nlp.ensemble import TRAINING_CODE

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    trained = re.search(r"\$\(addprefix bot/nlp/,([\w. ]+)\)", makefile).group(1).split()
    assert sorted(trained) == sorted(path.name for path in TRAINING_CODE)
    rule = re.search(r"^\$\(SPACY_MODEL\): (.*)$", makefile, re.MULTILINE).group(1).split()
    assert sorted(p for p in rule if p.startswith("bot/")) == sorted(f"bot/nlp/{path.name}" for path in PIPELINE_SOURCES)


def test_the_wrong_topic_rate_counts_what_the_user_gets():
    """``tools.wrong_topic`` measures the dialogue's own decision: an out-of-scope message about
    another municipality is sent there (no factual answer: abstained, not wrong), one that names
    what the documents name gets their answer (a topic), and Køge's rules for another
    municipality are never counted as an answer."""
    from bot import knowledge
    from tools.wrong_topic import answered_topics, tally

    kb = knowledge.default()
    out = {"intent": {"name": "out_of_scope", "confidence": 0.9}, "intent_ranking": []}
    assert answered_topics("hvem er borgmester i Greve Kommune", out, kb) == ()
    assert answered_topics("hvad siger Roskilde Kommune om DBD?", out, kb) == ()
    assert answered_topics("hvad er DBD?", out, kb) == ("ask_tenders",)
    assert answered_topics("Hvem vandt fodboldkampen i går?", out, kb) is None
    result = tally([frozenset({"out_of_scope"})] * 2, [(), ("ask_tenders",)])
    assert (result.abstained, result.wrong) == (1, 1)


def test_an_answer_given_as_the_closest_is_counted_apart():
    """An answer the assistant says it is unsure of (``routing.CLOSEST``) is neither right nor
    wrong in the wrong-topic rate: it is counted as hedged, with how many of those were about the
    message's topic; below ``routing.HEDGE`` the dialogue gives one, at ``HEDGE`` the answer."""
    from actions import routing
    from bot import knowledge
    from tools.wrong_topic import Hedged, answered_topics, tally

    kb = knowledge.default()
    text = "hvad vil kommunen gøre for folk der starter for sig selv?"

    def parse(confidence: float) -> dict:
        ranking = [{"name": "ask_startup_cvr", "confidence": confidence},
                   {"name": "ask_entrepreneur", "confidence": 0.2}]
        return {"intent": ranking[0], "intent_ranking": ranking}

    unsure = answered_topics(text, parse((routing.UNSURE + routing.HEDGE) / 2), kb)
    assert isinstance(unsure, Hedged) and unsure == ("ask_startup_cvr",)
    sure = answered_topics(text, parse(routing.HEDGE), kb)
    assert sure == ("ask_startup_cvr",) and not isinstance(sure, Hedged)
    gold = frozenset({"ask_entrepreneur"})
    result = tally([gold, gold, gold], [unsure, Hedged(("ask_entrepreneur",)), sure])
    assert (result.right, result.wrong, result.hedged, result.hedged_right) == (0, 1, 2, 1)
