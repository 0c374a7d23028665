"""The benchmark's parts that do not measure speed: the load generator against a small local
server that plays Rasa's REST channel, percentiles, the baseline's configuration and model
cache, and the report. No timing is asserted."""
from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import random
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from tests.support.stack import free_port
from tools import baseline, bench, load

TIMES = ["torsdag 3. december kl. 09.00", "torsdag 3. december kl. 10.30", "fredag 4. december kl. 13.00"]
FORM_QUESTIONS = ["Hvad er virksomhedens CVR-nummer?", "Hvad hedder virksomheden?", "Hvad er dit fulde navn?",
                  "Hvilken e-mailadresse?", "Hvilket telefonnummer?", "Hvad vil I tale om ved besøget?",
                  "Hvornår passer det jer?"]


class FakeRasa:
    """Rasa's REST channel with fixed behaviour: "boom" → HTTP 500, "slow" → no answer for a
    while, "empty" → ``[]``; the booking form with the first time each conversation presses
    already taken; anything else is echoed."""

    def __init__(self) -> None:
        self.pressed: dict[str, list[str]] = defaultdict(list)
        self.steps: dict[str, int] = defaultdict(int)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        if text == "boom":
            return web.Response(status=500, text="Internal Server Error")
        if text == "slow":
            await asyncio.sleep(2)
        if text == "empty":
            return web.json_response([])
        if text in TIMES:
            self.pressed[sender].append(text)
            if len(self.pressed[sender]) == 1:
                others = [t for t in TIMES if t != text]
                return self.reply(sender, "Det tidspunkt er optaget. Her er de nærmeste ledige tider:", others)
            return self.reply(sender, load.SUMMARY + ", før jeg booker besøget:", [], ["/affirm", "/deny"])
        if text == "ja":
            return self.reply(sender, "Tak! Dit bookingnummer er KB-2026-7QH4KM.")
        if "virksomhedsbesøg" in text or self.steps[sender]:
            step = self.steps[sender]
            self.steps[sender] += 1
            return self.reply(sender, FORM_QUESTIONS[step], TIMES if step == len(FORM_QUESTIONS) - 1 else [])
        return self.reply(sender, f"du skrev {text}")

    @staticmethod
    def reply(sender: str, text: str, times: list[str] = (), intents: list[str] = ()) -> web.Response:
        buttons = [{"title": t, "payload": t} for t in times] + [{"title": i, "payload": i} for i in intents]
        return web.json_response([{"recipient_id": sender, "text": text, **({"buttons": buttons} if buttons else {})}])


def play(fake: FakeRasa, budget: load.Budget, concurrency: int = 1, **options: object) -> load.Stats:
    """``load.run`` against ``fake`` served on a free local port."""

    async def main() -> load.Stats:
        app = web.Application()
        app.router.add_post(load.WEBHOOK, fake.webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            return await load.run(f"http://127.0.0.1:{port}", concurrency, budget, **options)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


def script(*messages: str) -> Callable[[load.Conversation], Awaitable[None]]:
    async def conversation(c: load.Conversation) -> None:
        for text in messages:
            await c.say(text, text)
    return conversation


def test_http_errors_timeouts_and_empty_replies_are_errors_and_end_the_conversation():
    fake = FakeRasa()
    scripts = {"500": script("hej", "boom", "never"), "slow": script("slow", "never"),
               "empty": script("empty", "never")}
    stats = play(fake, load.Budget(conversations=6), concurrency=3, timeout=0.5, scripts=scripts,
                 mix=("500", "slow", "empty"))
    assert stats.errors == {"HTTP 500": 2, "timeout": 2, "empty reply": 2}
    assert stats.sent == 2 * 2 + 2 + 2  # nothing after an error
    assert len(stats.latencies) == 2 * 2 + 2  # every answered message, none for a timeout
    assert not stats.finished and stats.started == {"500": 2, "slow": 2, "empty": 2}
    assert stats.summary()["errors"] == 6


def test_a_reply_without_the_expected_words_is_a_wrong_answer_not_an_error():
    async def check(c: load.Conversation) -> None:
        await c.say("hej", "echo", ("du skrev",))
        await c.say("hej", "question", ("SMV:Grøn",))

    stats = play(FakeRasa(), load.Budget(conversations=2), scripts={"x": check}, mix=("x",))
    assert stats.wrong == {"x: question": 2} and not stats.errors and stats.finished == {"x": 2}


def test_the_booking_presses_another_time_when_the_first_is_taken():
    fake = FakeRasa()
    stats = play(fake, load.Budget(conversations=1), scripts=load.SCRIPTS, mix=("booking",))
    assert stats.references == 1 and not stats.errors and not stats.wrong, stats.summary()
    (pressed,) = fake.pressed.values()
    assert len(pressed) == 2 and pressed[0] != pressed[1]
    assert stats.summary()["bookings_with_reference"] == 1


def test_a_booking_without_a_reference_is_a_wrong_answer():
    class NoFreeTime(FakeRasa):
        async def webhook(self, request: web.Request) -> web.Response:
            body = await request.json()
            if body["message"] in TIMES:  # every time taken, and no other offered
                return self.reply(body["sender"], "Det tidspunkt er optaget.")
            return await super().webhook(request)

    stats = play(NoFreeTime(), load.Budget(conversations=1), scripts=load.SCRIPTS, mix=("booking",))
    assert stats.wrong == {"booking: booking without a reference": 1} and stats.references == 0


def test_the_message_budget_and_the_mix():
    stats = play(FakeRasa(), load.Budget(messages=7), concurrency=2, scripts={"a": script("x", "y"),
                                                                            "b": script("z")}, mix=("a", "b"))
    assert stats.sent == 7 and len(stats.latencies) == 7
    assert stats.started["a"] >= stats.started["b"] >= 1


def test_percentiles_are_linear_between_ranks():
    assert load.percentile([3, 1, 2, 4, 5, 6, 7, 8, 9, 10], 50) == 5.5
    assert math.isclose(load.percentile(list(range(1, 11)), 95), 9.55)
    assert math.isclose(load.percentile(list(range(1, 11)), 99), 9.91)
    assert load.percentile([4.0], 99) == 4.0 and math.isnan(load.percentile([], 50))
    data = [random.Random(7).lognormvariate(0, 1) for _ in range(101)]
    cuts = statistics.quantiles(data, n=100, method="inclusive")
    for q in (50, 95, 99):
        assert math.isclose(load.percentile(data, q), cuts[q - 1])


def test_merged_runs_pool_messages_and_time():
    a, b = load.Stats(latencies=[0.1, 0.2], elapsed=1.0), load.Stats(latencies=[0.3], elapsed=2.0)
    a.errors["timeout"] = 1
    merged = load.merge([a, b]).summary()
    assert merged["messages"] == 3 and merged["messages_per_s"] == 1.0 and merged["errors"] == 1


def test_the_baseline_is_rasa_inits_config_with_danish():
    rasa = Path(importlib.util.find_spec("rasa").submodule_search_locations[0])
    written_by_init = yaml.safe_load((rasa / "cli" / "initial_project" / "config.yml").read_text())
    ours = yaml.safe_load(baseline.CONFIG)
    assert ours == {**written_by_init, "language": "da"}
    assert ours["recipe"] == "default.v1" and ours["pipeline"] is None and ours["policies"] is None
    assert yaml.safe_load(baseline.CREDENTIALS) == {"rest": None}


def test_the_baselines_endpoints_name_the_action_server_and_its_token():
    token = "-a:b #c'\""
    endpoints = yaml.safe_load(baseline.endpoints_yml("http://127.0.0.1:5055/webhook", token))
    assert endpoints == {"action_endpoint": {"url": "http://127.0.0.1:5055/webhook",
                                             "headers": {"X-Action-Token": token}}}


def test_the_cache_key_follows_data_domain_and_config(tmp_path: Path):
    for name in ("data/nlu/a.yml", "data/rules/r.yml", "data/stories/s.yml", "domain.yml", "bot/nlp/x.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    (tmp_path / "domain.yml").write_text("intents: [greet]\nresponses:\n  utter_greet: [{text: Hej}]\n")
    job = baseline.Training("t", Path("rasa"), baseline.CONFIG, extra=("bot/nlp",), root=tmp_path)
    first = job.key()
    assert job.key() == first and job.model().name == f"t-{first}.tar.gz"
    (tmp_path / "bot/nlp/__pycache__").mkdir()
    (tmp_path / "bot/nlp/__pycache__/x.cpython-310.pyc").write_text("byte-code")
    assert job.key() == first  # byte-code is no input
    (tmp_path / "domain.yml").write_text("intents: [greet]\nresponses:\n  utter_greet: [{text: Hej med dig}]\n")
    assert job.key() == first  # the wording of a response is not learnt from
    keys = {first}
    for change in ("data/nlu/a.yml", "data/stories/s.yml", "domain.yml", "bot/nlp/x.py"):
        (tmp_path / change).write_text("changed")
        keys.add(job.key())
    (tmp_path / "data/rules/new.yml").write_text("new")
    keys.add(job.key())
    keys.add(baseline.Training("t", Path("rasa"), baseline.CONFIG + "\n", extra=("bot/nlp",), root=tmp_path).key())
    assert len(keys) == 7


def test_the_memory_sampler_keeps_peaks_by_process():
    tree = bench.process_tree(os.getpid())
    assert tree[os.getpid()] > 0
    sampler = bench.MemorySampler()
    sampler.start()
    sampler.watch("me", os.getpid())
    sampler.sample()
    sampler.stop()
    (label, peak), = sampler.peaks["me"].items()
    assert label == bench._label(os.getpid()) and peak > 0 and sampler.totals["me"] >= peak


def _measured(side: bench.Side, rate: float, errors: int = 0, latency: float = 0.1) -> bench.Side:
    """``side`` as if measured: three runs (1, 10, 10) of ``rate`` messages/s."""
    side.startup_s, side.training = 20.0, {"seconds": 100.0}
    for c in (1, 10, 10):
        stats = load.Stats(latencies=[latency] * 10, elapsed=10 / rate)
        stats.started["booking"], stats.finished["booking"], stats.references = 2, 2, 2
        stats.errors["timeout"] = errors
        side.runs.append((c, stats))
    return side


def _side(name: str, rate: float, errors: int = 0, latency: float = 0.1) -> bench.Side:
    return _measured(bench.Side(name), rate, errors, latency)


PEAKS = {"project": {"bot.rasa_server": 900 * bench.MB, "actions.server": 300 * bench.MB},
         "project on stock Rasa": {"bot.rasa_server": 1100 * bench.MB, "actions.server": 300 * bench.MB},
         "Rasa default": {"rasa run": 1000 * bench.MB}}
TOTALS = {"project": 1200 * bench.MB, "project on stock Rasa": 1500 * bench.MB, "Rasa default": 1000 * bench.MB}
HEADER = "| figure | project | project on stock Rasa | Rasa default | project / default | stock / default |"


def test_the_report_gives_both_ratios_to_the_default_and_the_targets():
    project, base = _side("project", 10.0, latency=0.3), _side("Rasa default", 1.0, errors=1)
    stock = _side("project on stock Rasa", 4.0, latency=0.5)
    stock.startup_s = 40.0
    table = bench.rows(project, stock, base, PEAKS, TOTALS)
    figures = {row[0]: row[1:] for row in table}
    assert all(len(row) == len(bench.COLUMNS) for row in table)
    assert figures["10 conversations (both runs): messages/s"] == ("10.0", "4.0", "1.0", "10.00", "4.00")
    assert figures["10 conversations (both runs): p95"] == ("300 ms", "500 ms", "100 ms", "3.00", "5.00")
    assert figures["1 conversation: errors / wrong answers"] == ("0 / 0", "0 / 0", "1 / 0", "–", "–")
    assert figures["peak RSS: bot.rasa_server"] == ("900 MB", "1,100 MB", "1,000 MB (rasa run)", "0.90", "1.10")
    assert figures["peak RSS: actions.server"] == ("300 MB", "300 MB", "", "–", "–")
    assert figures["peak RSS: all processes"] == ("1,200 MB", "1,500 MB", "1,000 MB", "1.20", "1.50")
    assert figures["start-up to the first answer"] == ("20.0 s", "40.0 s", "20.0 s", "1.00", "2.00")
    goals = bench.targets(project, base, PEAKS)
    assert [g["pass"] for g in goals] == [True, False, True, True, True]  # p95 300 ms; the stock side is no target
    text = bench.markdown(table, goals)
    assert text.startswith(HEADER + "\n|---|---|---|---|---|---|\n")
    assert "| 10 conversations (both runs): messages/s | 10.0 | 4.0 | 1.0 | 10.00 | 4.00 |" in text
    assert "| 1 conversation: bookings with a reference | 2 of 2 (2 started) | 2 of 2 (2 started) | " \
           "2 of 2 (2 started) | – | – |" in text and "**FAIL**" in text
    project.runs[-1][1].steps["booking: confirm"] = [0.5, 0.7]
    assert bench.slowest(project).startswith("project @10, slowest steps (p95): booking: confirm 690 ms")
    base.runs[0][1].wrong["booking: confirm"] = 2
    base.runs[0][1].wrong_examples["booking: confirm"] = "> ja\nHvad mener du?"
    assert "2 × booking: confirm: > ja / Hvad mener du?" in bench.wrong_report(base)


def test_the_report_without_a_baseline_or_stock_rasa():
    project = _side("project", 10.0)
    goals = bench.targets(project, None, {"project": {"bot.rasa_server": 100 * bench.MB}})
    assert goals[0]["pass"] is None
    table = bench.rows(project, None, None, {}, {})
    assert ("10 conversations (both runs): messages/s", "10.0", "–", "–", "–", "–") in table
    assert "not measured" in bench.markdown(table, goals)


@pytest.mark.parametrize("options, stock_measured", [([], True), (["--skip-stock"], False),
                                                      (["--production"], False)])
def test_the_bench_measures_the_project_on_stock_rasa_unless_told_not_to(
        options: list[str], stock_measured: bool, tmp_path: Path, monkeypatch, capsys):
    started = {}

    def measure(args, sampler, folder, project, stock, base) -> None:  # the sides as if measured
        started.update(project=project, stock=stock, base=base)
        for side, rate in ((project, 10.0), (stock, 4.0), (base, 1.0)):
            if side:
                _measured(side, rate)
        sampler.peaks.update(PEAKS)
        sampler.totals.update(TOTALS)

    monkeypatch.setattr(bench, "measure", measure)
    monkeypatch.setenv("RASA_CORRECTIONS", "all")
    out = tmp_path / "results.json"
    bench.main(["--quick", "--out", str(out), *options])
    stock, results, shown = started["stock"], json.loads(out.read_text()), capsys.readouterr().out
    assert started["project"].settings == {"RASA_CORRECTIONS": "all"} and started["base"] is not None
    assert HEADER in shown
    row = {r["figure"]: r for r in results["table"]}["10 conversations (both runs): messages/s"]
    if stock_measured:
        assert stock.name == "project on stock Rasa" and stock.settings == {"RASA_CORRECTIONS": "none"}
        assert "| 10 conversations (both runs): messages/s | 10.0 | 4.0 | 1.0 | 10.00 | 4.00 |" in shown
        assert row == {"figure": "10 conversations (both runs): messages/s", "project": "10.0",
                       "project on stock Rasa": "4.0", "Rasa default": "1.0", "project / default": "10.00",
                       "stock / default": "4.00"}
        assert results["project_on_stock_rasa"]["settings"] == {"RASA_CORRECTIONS": "none"}
        assert [r["concurrency"] for r in results["project_on_stock_rasa"]["runs"]] == [1, 10, 10]
        assert results["project_on_stock_rasa"]["peak_rss_total_mb"] == 1500
        assert "project on stock Rasa @10, slowest steps" in shown
    else:
        assert stock is None and results["project_on_stock_rasa"] is None
        assert "| 10 conversations (both runs): messages/s | 10.0 | – | 1.0 | 10.00 | – |" in shown
        assert row["project on stock Rasa"] == "–" and row["stock / default"] == "–"
        assert "project on stock Rasa" not in shown.replace(HEADER, "")


def test_the_cache_keeps_the_newest_models(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(baseline, "MODELS", tmp_path)
    for age, key in enumerate("abcde"):
        for suffix in (".tar.gz", ".json"):
            path = tmp_path / f"rasa-default-{key}{suffix}"
            path.write_text(key)
            os.utime(path, (1000 - age, 1000 - age))
    (tmp_path / "project-z.tar.gz").write_text("other configuration")
    baseline.prune("rasa-default", keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "project-z.tar.gz", *(f"rasa-default-{k}{s}" for k in "abc" for s in (".json", ".tar.gz"))]
