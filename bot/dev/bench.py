"""``make bench``: speed and memory of the running assistant, as ratios to a baseline
measured in the same run on the same machine.

Starts the whole assistant (``python -m bot.cli run``) on free ports with databases in a
temporary folder and sends messages on the REST channel. Baseline: the greeting sent as a
button payload (``/greet``: no NLU, a fixed response) — the cheapest message the assistant
answers. Measured: a topic question (NLU + knowledge answer from the action server), a
contact question (NLU + contact matching), the first step of a booking (NLU + form), and the
topic question from several users at once. Memory is the resident set size of each process.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.dev.stack import BotStack

CASES = {
    "greeting button (baseline)": "/greet",
    "topic question": "hvor meget kan man få i smv grøn?",
    "contact question": "hvem skal jeg kontakte om støj fra min virksomhed?",
    "start a booking": "jeg vil gerne booke et virksomhedsbesøg",
}


def _timed(bot: BotStack, text: str) -> float:
    start = time.perf_counter()
    bot.say(text, "bench-" + uuid.uuid4().hex)
    return time.perf_counter() - start


def latency(bot: BotStack, text: str, n: int) -> tuple[float, float]:
    """(p50, p95) in seconds over ``n`` sequential messages, each in a new conversation."""
    samples = sorted(_timed(bot, text) for _ in range(n))
    return statistics.median(samples), samples[max(0, int(0.95 * n) - 1)]


def throughput(bot: BotStack, text: str, users: int, n: int) -> float:
    """Messages per second with ``users`` concurrent conversations."""
    start = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(lambda _: _timed(bot, text), range(n)))
    return n / (time.perf_counter() - start)


def rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, in MB (from /proc)."""
    parent, rss = {}, {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue  # the process ended meanwhile
        pid = int(status.parent.name)
        parent[pid] = int(fields["PPid"])
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, ppid in parent.items() if ppid in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    return sum(rss.get(pid, 0) for pid in tree) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=40, help="messages per latency measurement")
    parser.add_argument("--users", type=int, default=8, help="concurrent users for throughput")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with BotStack(Path(tmp)) as bot:
            startup = time.perf_counter() - started
            for text in CASES.values():  # warm up: the first message loads lazy parts
                bot.say(text)
            results = {name: latency(bot, text, args.n) for name, text in CASES.items()}
            base_rate = throughput(bot, CASES["greeting button (baseline)"], args.users, args.n * 2)
            topic_rate = throughput(bot, CASES["topic question"], args.users, args.n * 2)
            memory = rss_mb(bot.process.pid)
    base = results["greeting button (baseline)"][0]
    print(f"{'case':30s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50 / baseline':>15s}")
    for name, (p50, p95) in results.items():
        print(f"{name:30s} {p50 * 1000:8.0f} {p95 * 1000:8.0f} {p50 / base:15.2f}")
    print(f"throughput, {args.users} users: baseline {base_rate:.1f} msg/s, topic question "
          f"{topic_rate:.1f} msg/s (ratio {topic_rate / base_rate:.2f})")
    print(f"start-up until every process answers: {startup:.0f} s; resident memory of all processes: "
          f"{memory:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
