"""``make profile``: where the Rasa server's time goes under load.

Starts the whole assistant (``BotStack``), plays ``--users`` concurrent conversations of nine
messages each (greeting, topic questions, a contact look-up, the start of a booking) on the
REST channel, and samples the Rasa server with py-spy for ``--seconds``. Prints the share of
samples in which each of the main parts of a message was on the stack (inclusive time) and
writes the raw stacks to ``var/profile/`` (load them into speedscope or flamegraph.pl).

The parts are matched by function and module, so the report reads the same from one Rasa
version to the next: NLU, policies (TED, rules, memoization), the action server call and its
answer's validation (jsonschema), the tracker store's read and save, and the channel.
"""
from __future__ import annotations

import argparse
import collections
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


def _frame(text: str) -> str:
    text = re.sub(r"\s*\(.*?/site-packages/", " (", text)
    return re.sub(r":\d+\)", ")", text)


def shares(raw: Path) -> tuple[int, dict[str, float]]:
    """(samples, label -> share of samples with that part on the stack)."""
    total, counts = 0, collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        total += int(n)
        frames = [_frame(f) for f in stack.split(";")]
        for label, pattern in PARTS.items():
            if any(re.search(pattern, f) for f in frames):
                counts[label] += int(n)
    return total, {label: counts[label] / total if total else 0.0 for label in PARTS}


def _rasa_pid(stack: BotStack) -> int:
    port = stack.env["RASA_PORT"]
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
            environ = (cmdline.parent / "environ").read_bytes()
        except OSError:
            continue
        if b"bot.rasa_server" in argv and f"RASA_PORT={port}".encode() in environ:
            return int(cmdline.parent.name)
    raise RuntimeError("the Rasa server process was not found")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args(argv)
    out = ROOT / "var" / "profile"
    out.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as tmp, BotStack(Path(tmp)) as stack:
        def user() -> None:
            while not stop.is_set():
                sender = "profile-" + uuid.uuid4().hex
                for text in CONVERSATION:
                    if stop.is_set():
                        return
                    rest.post(stack.rasa, sender, text)

        for text in CONVERSATION:  # warm up
            stack.say(text, "profile-warm-up")
        threads = [threading.Thread(target=user) for _ in range(args.users)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        raw = out / f"rasa-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        subprocess.run([str(ROOT / ".venv" / "bin" / "py-spy"), "record", "-d", str(args.seconds), "-r", "50",
                        "-p", str(_rasa_pid(stack)), "-f", "raw", "-o", str(raw), "--nonblocking"],
                       check=True, capture_output=True)
        stop.set()
        for thread in threads:
            thread.join()
    total, found = shares(raw)
    print(f"py-spy, {args.seconds} s, {args.users} concurrent conversations: {total} samples of the Rasa server")
    for label, share in found.items():
        print(f"  {share * 100:5.1f} %  {label}")
    print(f"raw stacks: {raw}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
