"""``make bench``: the assistant against Rasa's default configuration, in the same run, on the
same machine, under the same load — and the assistant on Rasa's own code, to tell what the
configuration gives from what the corrections of Rasa's code give.

Why: the figures of one run depend on the machine and on what else runs on it (2 shared
cores), so every figure is printed as a ratio to a baseline measured in the same run. The
baseline is what a user gets from ``rasa init``: a plain ``pip install rasa==3.6.21`` in its
own environment with Rasa's default pipeline and policies (``language: da``), trained on the
same data and domain and calling the same action server (``tools/baseline.py``). So
whatever the project pins, patches or configures (its NLU pipeline, channels with their
checks and limits, SQL tracker store, log masking …) counts, for better or worse.

The three sides:

- **project**: the assistant as ``make run`` starts it (``tests.support.stack.BotStack``) with the
  project's model and the corrections of Rasa's code the settings select (all by default);
- **project on stock Rasa**: a second, separate assistant with the same model and
  ``RASA_CORRECTIONS=none``: Rasa's own code, but for the behaviour corrections (4, 5, 6, 18, 20).
  Project against it: what the speed corrections give; it against the default: what the
  configuration gives. ``--skip-stock`` leaves it out, and so does ``--production``;
- **Rasa default**: the baseline above (``--skip-baseline`` leaves it out).

What is measured:

- **load** (``tools/load.py``): multi-turn conversations on the REST channel — Danish
  questions, English questions, a clarification, a whole booking of a company visit — with
  1, 10 and 50 concurrent conversations. The sides take turns (project@1, stock@1,
  baseline@1, project@10, …, then the 10 runs again), one of them under load at a time, each
  started once; each is warmed up first with one conversation of each kind (not counted).
  Per run: p50/p95/p99 latency per message, messages/s, errors (HTTP errors, timeouts,
  empty replies), wrong answers (a reply without what the step expects, a booking without a
  reference) and bookings that ended with a reference.
- **memory**: the peak resident set size of every process of each side, from /proc every
  0.5 s for the whole run (start-up included). Each assistant has its own action server; the
  baseline calls the project's, which is counted on the project's side.
- **start-up**: from starting the processes until the first answer to "Hej" (each assistant:
  ``python -m bot.cli run`` with all its processes, one after the other; the baseline: ``rasa run``).
- **training**: ``rasa train`` from an empty Rasa cache, for the project's model (which the
  project on stock Rasa serves too) and the default's, timed when the model is trained; both
  models are kept in ``var/bench/models/`` by a hash of their inputs, and a cached model's
  training time is the one measured when it was trained. ``--quick`` serves
  ``models/koege.tar.gz`` unless the project's model is in that cache.

The targets of issue #15, with pass/fail: ≥ 5× the default's messages/s at 10 concurrent
conversations; p95 ≤ 200 ms at 10; no errors and no wrong answers in any project run (a
booking without a reference is an error there); every project process ≤ 1.2 GB peak RSS;
start-up ≤ 30 s (the project's figures). The 10-conversation figures pool both 10 runs. Results:
``var/bench/results.json`` and a markdown table on stdout for the README: every figure of the three
sides and the ratios of the project and of the project on stock Rasa to the default. Exit code 1
when a target is missed.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bot.settings import ROOT
from bot.settings import get as setting
from tests.support import rest
from tests.support.process import Process, ProcessError, wait_until
from tests.support.stack import MODEL, BotStack, free_port
from tools import baseline, load

RESULTS = baseline.BENCH_DIR / "results.json"
SAMPLE_EVERY = 0.5  # seconds between memory samples
START_TIMEOUT = 600.0  # seconds until the first answer
MB = 1_000_000
TARGET_SPEEDUP = 5.0
TARGET_P95_MS = 200.0
TARGET_RSS_MB = 1200.0
TARGET_STARTUP_S = 30.0
STOCK = {"RASA_CORRECTIONS": "none"}  # the project on stock Rasa: Rasa's own code
COLUMNS = ("figure", "project", "project on stock Rasa", "Rasa default", "project / default", "stock / default")


# --- memory ------------------------------------------------------------------------------------

def _label(pid: int) -> str:
    """A process's name for the report: the module of ``python -m``, ``rasa run``, or the program."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return f"pid {pid}"
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    for i, arg in enumerate(argv[:-1]):
        if Path(arg).name == "rasa":
            return f"rasa {argv[i + 1]}"
    return Path(argv[0]).name or f"pid {pid}"


def process_tree(root: int) -> dict[int, int]:
    """Resident memory in bytes of ``root`` and all its descendants, by pid (from /proc)."""
    parent, rss = {}, {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # the process ended meanwhile
        pid = int(status.parent.name)
        parent[pid] = int(fields["PPid"])
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {pid for pid, ppid in parent.items() if ppid in frontier and pid not in tree}
        tree |= frontier
    return {pid: rss[pid] for pid in tree if pid in rss}


class MemorySampler(threading.Thread):
    """Peak RSS of every process under each watched root, sampled every :data:`SAMPLE_EVERY` s.
    ``peaks[side][label]`` in bytes; ``totals[side]``: the peak of the side's sum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, dict[str, int]] = {}
        self.totals: dict[str, int] = {}
        self.labels: dict[int, str] = {}
        self.pids: dict[str, dict[str, set[int]]] = {}  # side -> label -> every pid seen
        self._halt = threading.Event()

    def watch(self, side: str, pid: int) -> None:
        self.roots[side] = pid

    def sample(self) -> None:
        for side, root in list(self.roots.items()):
            tree = process_tree(root)
            peaks = self.peaks.setdefault(side, {})
            by_label: dict[str, int] = {}
            for pid, rss in tree.items():
                label = self.labels.setdefault(pid, _label(pid))
                by_label[label] = by_label.get(label, 0) + rss
                self.pids.setdefault(side, {}).setdefault(label, set()).add(pid)
            for label, rss in by_label.items():
                peaks[label] = max(peaks.get(label, 0), rss)
            self.totals[side] = max(self.totals.get(side, 0), sum(tree.values()))

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_EVERY):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --- start-up ----------------------------------------------------------------------------------

def first_answer(url: str, started: float, process: Process | None = None, timeout: float = START_TIMEOUT,
                 stop: threading.Event | None = None) -> float:
    """Seconds from ``started`` (``time.perf_counter()``) until ``url`` answers "Hej" with the
    greeting (NaN when ``stop`` is set first); polls every 0.25 s. Raises ``ProcessError`` when
    ``process`` stopped, ``TimeoutError`` when it takes longer than ``timeout``."""
    def answered() -> str | None:
        if stop is not None and stop.is_set():
            return "stopped"
        try:
            reply = rest.post(url, "bench-start-" + uuid.uuid4().hex, "Hej", timeout=30)
            if reply.ok and load.Reply.parse(reply.json()).has("Hej"):
                return "answered"
        except (requests.RequestException, ValueError):
            pass  # not listening yet, or not ready
        return None

    left = timeout - (time.perf_counter() - started)
    found = wait_until(answered, left, f"{url} to answer 'Hej'", watch=[process] if process else [], interval=0.25)
    return math.nan if found == "stopped" else time.perf_counter() - started


@dataclass
class Side:
    """One of the assistants under test and what was measured of it."""

    name: str
    settings: dict[str, str] = field(default_factory=dict)  # for the assistant's processes (BotStack)
    url: str = ""
    startup_s: float = math.nan
    training: dict[str, Any] = field(default_factory=dict)
    runs: list[tuple[int, load.Stats]] = field(default_factory=list)

    def at(self, concurrency: int) -> load.Stats:
        """Every run at ``concurrency`` pooled."""
        return load.merge([s for c, s in self.runs if c == concurrency])


#: project, project on stock Rasa, Rasa default (None: not measured)
Sides = tuple[Side, Side | None, Side | None]


def sides(args: argparse.Namespace) -> Sides:
    """The sides the options select: the project always (with the corrections the settings
    select); the project on stock Rasa unless ``--skip-stock`` or ``--production``; Rasa's
    default unless ``--skip-baseline``."""
    project = Side("project", {"RASA_CORRECTIONS": setting("RASA_CORRECTIONS")})
    stock = None if args.skip_stock or args.production else Side("project on stock Rasa", dict(STOCK))
    return project, stock, None if args.skip_baseline else Side("Rasa default")


# --- the run -----------------------------------------------------------------------------------

def project_model(quick: bool) -> tuple[Path, dict[str, Any]]:
    """The project's model, trained into the bench's cache (timed) — or, with ``quick`` and no
    cached model, ``models/koege.tar.gz`` without a training time."""
    job = baseline.Training("project", ROOT / ".venv" / "bin" / "rasa", (ROOT / "config.yml").read_text(),
                            extra=("data/knowledge", "bot/nlp", "var/spacy-da"))
    if quick and not job.model().exists():
        return MODEL, {"seconds": None, "note": "not measured (--quick): models/koege.tar.gz"}
    return baseline.train_cached(job)


def measure(args: argparse.Namespace, sampler: MemorySampler, folder: Path, project: Side,
            stock: Side | None, base: Side | None) -> None:
    """Start the sides and measure them; what is measured goes into them."""
    if base is not None:  # trained before anything runs: the training time is the machine's alone
        rasa = baseline.ensure_venv()
        base_model, base.training = baseline.train_cached(baseline.baseline_training(rasa))
    model, project.training = project_model(args.quick)
    print(f"project model: {model}", flush=True)
    with contextlib.ExitStack() as stack:
        if args.production:
            _measure_production(args, sampler, folder, project, base, base_model if base else None, stack)
            return
        bot = start_stack(project, model, folder / "project", sampler, stack)
        running = [project]
        if stock is not None:
            stock.training = project.training  # the same model
            start_stack(stock, model, folder / "stock", sampler, stack)
            running.append(stock)
        if base is not None:
            token = (bot.var / "action-token").read_text().strip()
            server = stack.enter_context(baseline.BaselineServer(
                base_model, f"http://127.0.0.1:{bot.action_port}/webhook", token, folder, free_port()))
            sampler.watch(base.name, server.process.pid)
            base.url = server.url
            base.startup_s = first_answer(server.url, server.process.started, server.process)
            print(f"Rasa default: first answer after {base.startup_s:.1f} s", flush=True)
            running.append(base)
        _alternate(args, running)


def start_stack(side: Side, model: Path, folder: Path, sampler: MemorySampler,
                stack: contextlib.ExitStack) -> BotStack:
    """Start the assistant (``python -m bot.cli run``, ``side.settings``) serving ``model``, until
    ``stack`` closes: its memory sampled from the start on, ``side.startup_s`` until the first answer."""
    folder.mkdir(parents=True, exist_ok=True)
    bot = BotStack(folder, RASA_MODEL=str(model), **side.settings)
    side.url = f"http://127.0.0.1:{bot.rasa_port}"
    done, result = threading.Event(), {}
    stack.callback(done.set)  # the poller stops with the stack, also after a failed start

    def poll() -> None:
        while bot.process.pid is None and not done.wait(0.05):
            pass
        if bot.process.pid is not None:  # memory from the start on
            sampler.watch(side.name, bot.process.pid)
        with contextlib.suppress(ProcessError, TimeoutError):  # entering the stack says why
            result["s"] = first_answer(side.url, started, bot.process, stop=done)

    started = time.perf_counter()
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    stack.enter_context(bot)  # returns when every process answers its health check
    poller.join(timeout=60)
    done.set()
    side.startup_s = result.get("s", math.nan)
    print(f"{side.name}: first answer after {side.startup_s:.1f} s", flush=True)
    return bot


def _alternate(args: argparse.Namespace, sides: list[Side]) -> None:
    """Warm up, then every concurrency level, the sides taking turns."""
    for side in sides:  # warm-up: lazily loaded parts, first database use
        load.run_load(side.url, 1, conversations=len(load.MIX), timeout=args.timeout)
    for concurrency in plan(args.concurrency, args.quick):
        for side in sides:
            budget = {"duration": args.duration} if args.duration else {"messages": args.messages}
            stats = load.run_load(side.url, concurrency, timeout=args.timeout, **budget)
            side.runs.append((concurrency, stats))
            s = stats.summary()
            print(f"{side.name:>21s} @{concurrency:<3d} {s['messages_per_s']:7.2f} msg/s  "
                  f"p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  errors {s['errors']}  "
                  f"wrong {s['wrong_answers']}", flush=True)


def _measure_production(args: argparse.Namespace, sampler: MemorySampler, folder: Path, project: Side,
                        base: Side | None, base_model: Path | None,
                        stack: contextlib.ExitStack) -> None:
    """``--production``: the project as the production configuration runs it on this machine
    (``tests.support.cluster``: two Rasa servers and two action servers behind nginx, PostgreSQL and
    Redis), the baseline calling the same action servers through nginx."""
    from tests.support.cluster import Cluster

    project.name = "project (2 instances)"
    started = time.perf_counter()
    # Behind nginx every message carries the load generator's one address (X-Forwarded-For),
    # which the per-client limit would stop at RATE_LIMIT_CLIENT a minute; real users each
    # have their own. The per-conversation limit stays.
    cluster = stack.enter_context(Cluster(folder / "cluster", RATE_LIMIT_CLIENT="1000000"))
    project.startup_s = time.perf_counter() - started  # every process ready, both Rasa servers
    watched = {name: f"{project.name}|{name}" for name, service in cluster.services.items() if service.pid}
    for name, key in watched.items():
        sampler.watch(key, cluster.services[name].pid)
    project.url = cluster.url
    print(f"{project.name}: every process ready after {project.startup_s:.1f} s", flush=True)
    sides = [project]
    if base is not None and base_model is not None:
        server = stack.enter_context(baseline.BaselineServer(
            base_model, f"http://127.0.0.1:{cluster.nginx_actions_port}/webhook", cluster.action_token, folder,
            free_port()))
        sampler.watch(base.name, server.process.pid)
        base.url = server.url
        base.startup_s = first_answer(server.url, server.process.started, server.process)
        sides.append(base)
    _alternate(args, sides)
    sampler.sample()  # each service is a root of its own: the project's figures are theirs together
    sampler.peaks[project.name] = {name: max(sampler.peaks.get(key, {}).values(), default=0)
                                   for name, key in watched.items()}
    sampler.totals[project.name] = sum(sampler.totals.get(key, 0) for key in watched.values())


def plan(levels: list[int], quick: bool) -> list[int]:
    """The concurrency levels in order: each once, then 10 again (the targets' level)."""
    return levels if quick or 10 not in levels else [*levels, 10]


# --- the report --------------------------------------------------------------------------------

def ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or not base or any(map(math.isnan, (value, base))):
        return "–"
    return f"{value / base:.2f}"


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if value < 100 else f"{value:,.0f}{unit}"
    return f"{value}{unit}"


def _bookings(summary: dict[str, Any]) -> str:
    """"3 of 4 (5 started)": bookings that ended with a reference, of those played to the end
    (the rest were cut off by the budget or an error)."""
    return (f"{summary['bookings_with_reference']} of {summary['bookings_finished']} "
            f"({summary['conversations_started'].get('booking', 0)} started)")


def slowest(side: Side, n: int = 5) -> str:
    """The steps with the highest p95 at the highest concurrency, for the console."""
    level = max(c for c, _ in side.runs)
    steps = side.at(level).summary()["steps"]
    top = sorted(steps.items(), key=lambda kv: -(kv[1]["p95_ms"] or 0))[:n]
    return f"{side.name} @{level}, slowest steps (p95): " + "; ".join(
        f"{label} {v['p95_ms']:.0f} ms" for label, v in top)


def wrong_report(side: Side) -> str:
    """The wrong answers and errors of all the side's runs, with the first wrong reply of each step."""
    s = load.merge([stats for _, stats in side.runs]).summary()
    kinds = f" {s['error_kinds']}" if s["error_kinds"] else ""
    lines = [f"{side.name}: {s['errors']} errors{kinds}, {s['wrong_answers']} wrong answers"]
    for step, count in sorted(s["wrong_kinds"].items(), key=lambda kv: -kv[1]):
        example = s["wrong_examples"].get(step, "").replace("\n", " / ")
        lines.append(f"  {count:4d} × {step}" + (f": {example[:200]}" if example else ""))
    return "\n".join(lines)


def _level_name(c: int, runs: list[int]) -> str:
    return f"{c} conversation{'s' if c > 1 else ''}" + (" (both runs)" if runs.count(c) > 1 else "")


Row = tuple[str, str, str, str, str, str]  # COLUMNS


def _row(figure: str, shown: Sequence[str], values: Sequence[float | None] = (None, None, None)) -> Row:
    """The figure, as each side shows it, and the ratios of the project and of the project on
    stock Rasa to the default (from ``values``, the sides' numbers)."""
    (project, stock, default), (p, s, d) = values, shown
    return figure, p, s, d, ratio(project, default), ratio(stock, default)


def _figure(figure: str, values: Sequence[float | None], unit: str = "") -> Row:
    return _row(figure, [_fmt(v, unit) for v in values], values)


def _mb(value: float | None) -> float | None:
    return None if value is None else value / MB


def rows(project: Side, stock: Side | None, base: Side | None, peaks: dict[str, dict[str, int]],
         totals: dict[str, int]) -> list[Row]:
    """The rows of the report (:data:`COLUMNS`); a side not measured shows "–"."""

    def each(get: Callable[[Side], Any]) -> list[Any]:
        return [get(side) if side else None for side in (project, stock, base)]

    out = []
    levels = [c for c, _ in project.runs]
    for c in dict.fromkeys(levels):
        summaries = each(lambda side, c=c: side.at(c).summary())
        name = _level_name(c, levels)
        for key, label, unit in (("messages_per_s", "messages/s", ""), ("p50_ms", "p50", " ms"),
                                 ("p95_ms", "p95", " ms"), ("p99_ms", "p99", " ms")):
            out.append(_figure(f"{name}: {label}", [s[key] if s else None for s in summaries], unit))
        out.append(_row(f"{name}: errors / wrong answers",
                        [f"{s['errors']} / {s['wrong_answers']}" if s else "–" for s in summaries]))
        out.append(_row(f"{name}: bookings with a reference", [_bookings(s) if s else "–" for s in summaries]))
    stock_peaks = peaks.get(stock.name, {}) if stock else {}
    base_rasa = max(peaks.get(base.name, {}).values(), default=None) if base else None
    for label, rss in sorted(peaks.get(project.name, {}).items(), key=lambda kv: -kv[1]):
        default = base_rasa if label == "bot.rasa_server" else None  # the default's Rasa: rasa run
        out.append(_row(f"peak RSS: {label}", (_fmt(rss / MB, " MB"), _fmt(_mb(stock_peaks.get(label)), " MB"),
                                               _fmt(default / MB, " MB (rasa run)") if default else ""),
                        (rss, stock_peaks.get(label), default)))
    out.append(_figure("peak RSS: all processes", each(lambda side: _mb(totals.get(side.name))), " MB"))
    out.append(_figure("start-up to the first answer", each(lambda side: side.startup_s), " s"))
    out.append(_figure("training (empty Rasa cache; timed when the model was trained)",
                       each(lambda side: side.training.get("seconds")), " s"))
    return out


def targets(project: Side, base: Side | None, peaks: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """The targets of issue #15: name, value, limit, pass (None: not measured)."""
    at10 = project.at(10).summary() if any(c == 10 for c, _ in project.runs) else None
    base10 = base.at(10).summary() if base and at10 else None
    speedup = (at10["messages_per_s"] / base10["messages_per_s"]
               if at10 and base10 and base10["messages_per_s"] else None)
    errors = sum(s.summary()["errors"] + s.summary()["wrong_answers"] for _, s in project.runs)
    rss = max(peaks.get(project.name, {}).values(), default=0) / MB
    p95 = at10["p95_ms"] if at10 else None
    return [
        {"target": "messages/s at 10 ≥ 5× Rasa default", "value": speedup, "limit": TARGET_SPEEDUP,
         "pass": None if speedup is None else speedup >= TARGET_SPEEDUP},
        {"target": "p95 at 10 ≤ 200 ms", "value": p95, "limit": TARGET_P95_MS,
         "pass": None if p95 is None else p95 <= TARGET_P95_MS},
        {"target": "no errors or wrong answers (project, all runs)", "value": errors, "limit": 0,
         "pass": errors == 0},
        {"target": "every project process ≤ 1.2 GB peak RSS", "value": round(rss), "limit": TARGET_RSS_MB,
         "pass": rss <= TARGET_RSS_MB},
        {"target": "start-up to the first answer ≤ 30 s", "value": project.startup_s, "limit": TARGET_STARTUP_S,
         "pass": None if math.isnan(project.startup_s) else project.startup_s <= TARGET_STARTUP_S},
    ]


def markdown(table: list[Row], goals: list[dict[str, Any]]) -> str:
    lines = [f"| {' | '.join(COLUMNS)} |", "|---" * len(COLUMNS) + "|"]
    lines += [f"| {' | '.join(row)} |" for row in table]
    lines += ["", "| target (#15) | value | pass |", "|---|---|---|"]
    for goal in goals:
        verdict = {True: "**pass**", False: "**FAIL**", None: "not measured"}[goal["pass"]]
        value = goal["value"]
        shown = f"{value:.2f}" if isinstance(value, float) and not math.isnan(value) else _fmt(value)
        lines.append(f"| {goal['target']} | {shown} | {verdict} |")
    return "\n".join(lines)


def side_json(side: Side, sampler: MemorySampler) -> dict[str, Any]:
    return {
        "url": side.url,
        "settings": side.settings,
        "startup_s": None if math.isnan(side.startup_s) else round(side.startup_s, 1),
        "training": {k: v for k, v in side.training.items() if k != "config"},
        "peak_rss_mb": {k: round(v / MB) for k, v in sampler.peaks.get(side.name, {}).items()},
        "peak_rss_total_mb": round(sampler.totals.get(side.name, 0) / MB),
        "processes_seen": {k: len(v) for k, v in sampler.pids.get(side.name, {}).items()},
        "runs": [{"concurrency": c, **s.summary()} for c, s in side.runs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default=None,
                        help="concurrent conversations, comma-separated (default 1,10,50; --quick 1,10)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--messages", type=int, default=None, help="messages per run (default 400; --quick 40)")
    budget.add_argument("--duration", type=float, default=None, help="seconds per run instead of --messages")
    parser.add_argument("--timeout", type=float, default=load.TIMEOUT, help="seconds one message may take")
    parser.add_argument("--skip-baseline", action="store_true", help="leave out Rasa's default")
    parser.add_argument("--skip-stock", action="store_true",
                        help="leave out the project on stock Rasa (RASA_CORRECTIONS=none)")
    parser.add_argument("--production", action="store_true",
                        help="the project in its production configuration: 2 Rasa servers and 2 action servers "
                             "behind nginx, PostgreSQL, Redis (tests/support/cluster.py); without the project on "
                             "stock Rasa")
    parser.add_argument("--quick", action="store_true",
                        help="for development: 1 and 10 conversations, 40 messages each, no second 10 run, "
                             "models/koege.tar.gz unless the project's model is cached")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON results go")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in (args.concurrency or ("1,10" if args.quick else "1,10,50")).split(",")]
    if not args.duration and not args.messages:
        args.messages = 40 if args.quick else 400
    sampler = MemorySampler()
    sampler.start()
    began, load_before = dt.datetime.now(), os.getloadavg()
    project, stock, base = measured = sides(args)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        try:
            measure(args, sampler, Path(tmp), *measured)
        finally:
            sampler.stop()
    table, goals = rows(project, stock, base, sampler.peaks, sampler.totals), targets(project, base, sampler.peaks)
    results = {
        "date": began.isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_before": load_before,
                    "load_average_after": os.getloadavg()},
        "options": {k: v for k, v in vars(args).items() if k != "out"},
        "project": side_json(project, sampler),
        "project_on_stock_rasa": side_json(stock, sampler) if stock else None,
        "rasa_default": side_json(base, sampler) if base else None,
        "table": [dict(zip(COLUMNS, row, strict=True)) for row in table],
        "targets": goals,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    print(f"\nBenchmark {began:%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
          f"{'messages' if args.messages else 'seconds'} per run: {args.messages or args.duration} "
          f"(results: {args.out})\n")
    print(markdown(table, goals))
    print("\n" + "\n".join(slowest(side) for side in measured if side and side.runs))
    print("\n".join(wrong_report(side) for side in measured if side and side.runs))
    print(f"load average (1 min) before the run {load_before[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    return 1 if any(goal["pass"] is False for goal in goals) else 0


if __name__ == "__main__":
    sys.exit(main())
