"""``make profile``: where the Rasa server's (or the action server's) time goes under load.

Starts the whole assistant (``BotStack``), plays ``--users`` concurrent conversations of nine
messages each (greeting, topic questions, a contact look-up, the start of a booking) on the
REST channel, and samples the Rasa server (``--process action``: the action server) with
py-spy for ``--seconds``. Prints the CPU time each of the two servers used per message (from
/proc, over the same seconds), the share of samples in which each of the main parts of a
message was on the stack (inclusive time) and the functions with the most samples of their own,
and writes the raw stacks to ``var/profile/`` (load them into speedscope or flamegraph.pl).

The parts are matched by function and module, so the report reads the same from one Rasa
version to the next: NLU, policies (TED, rules, memoization), the action server call and its
answer's validation (jsonschema), the tracker store's read and save, and the channel.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bot.settings import ROOT
from tests.support import rest
from tests.support.stack import BotStack

CONVERSATION = ["Hej", "hvor meget kan man få i smv grøn?", "hvem skal jeg kontakte om støj fra min virksomhed?",
                "hvad kan erhvervshuset hjælpe med?", "jeg vil gerne booke et virksomhedsbesøg", "ved ikke",
                "Testfirma ApS", "Anne Jensen", "tak"]
#: Label -> pattern of a frame (``function (module/path.py)`` after site-packages is cut off).
PARTS = {
    "whole message (handle_message)": r"^handle_message \(rasa/core/processor\.py\)",
    "NLU (parse_message)": r"^parse_message \(rasa/core/processor\.py\)",
    # TED's own function, or its state cache around it (bot/rasa_patches/policies.py, correction 8)
    "TED policy (cache and inference)": r"^predict_action_probabilities \((rasa/core/policies/ted_policy|.*bot/rasa_patches/policies)\.py\)",
    "rule policy": r"^predict_action_probabilities \(rasa/core/policies/rule_policy\.py\)",
    "custom action call (HTTP)": r"^_request \(aiohttp/client\.py\)",
    "action answer validation (jsonschema)": r"\(jsonschema/",
    "tracker store save": r"^save \(rasa/core/tracker_store\.py\)",
    "tracker store read": r"^retrieve \(rasa/core/tracker_store\.py\)",
    "SQLAlchemy commit": r"^commit \(sqlalchemy/engine/base\.py\)",
    "channel (bot/channels)": r"\(/?.*bot/channels/",
    "log record masking (bot/logs)": r"^masked \(.*bot/logs\.py\)",
}
#: The action server's parts (``--process action``).
ACTION_PARTS = {
    "whole call (webhook)": r"^webhook \(rasa_sdk/endpoint\.py\)",
    "tracker and domain from JSON (rasa_sdk)": r"^from_dict \(rasa_sdk/",
    "actions (actions/, the server's own module aside)": r"\(/?.*actions/(?!server\.py)\w+\.py\)",
    "routing (actions/routing.py)": r"\(/?.*actions/routing\.py\)",
    "document search (bot/documents)": r"\(/?.*bot/documents/",
    "form validation (rasa_sdk forms)": r"\(rasa_sdk/forms\.py\)",
    "the project's stores (bot/store)": r"\(/?.*bot/store/",
    "JSON encoding of the answer": r"^(dumps|json_dumps|encode) \(",
    "Sanic request handling": r"\(sanic/",
}


def _frame(text: str) -> str:
    text = re.sub(r"\s*\(.*?/site-packages/", " (", text)
    return re.sub(r":\d+\)", ")", text)


#: Innermost frames of a thread that waits (py-spy does not always tell these from work).
WAITING = re.compile(r"^(_worker \(concurrent/futures/thread\.py\)|serve \(sanic/server/runners\.py\)|"
                     r"select \(selectors\.py\)|wait \(threading\.py\))")


def shares(raw: Path, parts: dict[str, str] = PARTS, busy_only: bool = False) -> tuple[int, dict[str, float]]:
    """(samples, label -> share of samples with that part on the stack); ``busy_only``: of the
    samples in which the thread was not waiting."""
    total, counts = 0, collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if busy_only and WAITING.match(frames[-1]):
            continue
        total += int(n)
        for label, pattern in parts.items():
            if any(re.search(pattern, f) for f in frames):
                counts[label] += int(n)
    return total, {label: counts[label] / total if total else 0.0 for label in parts}


def own_time(raw: Path, top: int = 15) -> list[tuple[str, float]]:
    """The functions with the most samples of their own (the innermost frame, waits aside), with
    their share of the samples in which the thread was not waiting."""
    total, counts = 0, collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        innermost = _frame(stack.split(";")[-1]) if stack else ""
        if innermost and not WAITING.match(innermost):
            total += int(n)
            counts[innermost] += int(n)
    return [(frame, n / total) for frame, n in counts.most_common(top)] if total else []


#: The module each server is started as, and the variable that tells this start's from another's.
SERVERS = {"rasa": (b"bot.rasa_server", "RASA_PORT"), "action": (b"actions.server", "ACTION_PORT")}


def server_pid(stack: BotStack, which: str) -> int:
    """The pid of this stack's Rasa server (``which="rasa"``) or action server (``"action"``)."""
    module, variable = SERVERS[which]
    port = stack.env[variable]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            environ = (cmdline.parent / "environ").read_bytes()
        except OSError:
            continue
        if module in argv and f"{variable}={port}".encode() in environ:
            return int(cmdline.parent.name)
    raise RuntimeError(f"the {which} server process was not found")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (/proc/PID/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--process", choices=sorted(SERVERS), default="rasa", help="the server py-spy samples")
    args = parser.parse_args(argv)
    out = ROOT / "var" / "profile"
    out.mkdir(parents=True, exist_ok=True)
    stop, answered = threading.Event(), []  # one entry per answer (list.append is atomic)
    with tempfile.TemporaryDirectory() as tmp, BotStack(Path(tmp)) as stack:
        def user() -> None:
            while not stop.is_set():
                sender = "profile-" + uuid.uuid4().hex
                for text in CONVERSATION:
                    if stop.is_set():
                        return
                    rest.post(stack.rasa, sender, text)
                    answered.append(None)

        for text in CONVERSATION:  # warm up
            stack.say(text, "profile-warm-up")
        threads = [threading.Thread(target=user) for _ in range(args.users)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        pids = {which: server_pid(stack, which) for which in SERVERS}
        raw = out / f"{args.process}-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        before, sent = {which: cpu_seconds(pid) for which, pid in pids.items()}, len(answered)
        subprocess.run([str(ROOT / ".venv" / "bin" / "py-spy"), "record", "-d", str(args.seconds), "-r", "50",
                        "-p", str(pids[args.process]), "-f", "raw", "-o", str(raw), "--nonblocking"],
                       check=True, capture_output=True)
        messages = len(answered) - sent
        used = {which: cpu_seconds(pid) - before[which] for which, pid in pids.items()}
        stop.set()
        for thread in threads:
            thread.join()
    print(f"{args.seconds} s, {args.users} concurrent conversations: {messages} messages answered")
    for which, seconds in used.items():
        print(f"  {which} server: {seconds * 1000 / max(messages, 1):.2f} ms of CPU per message")
    action = args.process == "action"  # mostly idle: its shares are of the samples it was working
    total, found = shares(raw, ACTION_PARTS if action else PARTS, busy_only=action)
    print(f"py-spy: {total} {'working ' if action else ''}samples of the {args.process} server (inclusive)")
    for label, share in found.items():
        print(f"  {share * 100:5.1f} %  {label}")
    print("own time (innermost frame, of the samples it was working)")
    for frame, share in own_time(raw):
        print(f"  {share * 100:5.1f} %  {frame}")
    print(f"raw stacks: {raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
