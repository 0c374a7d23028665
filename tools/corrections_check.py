"""Whether every speed correction of Rasa has a test that fails without it.

For each speed correction N (``bot.rasa_patches``, ``Kind.SPEED``) the tests of the corrections
(``tests/test_rasa_patches.py``, ``tests/test_rasa_ext.py``) run in a fresh process with
``RASA_CORRECTIONS`` set to every speed correction but N; the tests that fail are the ones that
need N. First the same tests run with every correction on: any that fail then stop the check
(a failure without N must be N's). A correction no test needs is reported and the exit code is
1: its tests could pass with the correction removed. The behaviour corrections (always on) are compared with Rasa's
original inside their tests (``guard.original``).

``make corrections-check`` (about one minute per correction on 2 cores)."""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from bot.rasa_patches import CORRECTIONS, Kind
from bot.settings import ROOT

TEST_FILES = ("tests/test_rasa_patches.py", "tests/test_rasa_ext.py")
_FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.MULTILINE)


def speed_corrections() -> list[int]:
    return [n for n, c in sorted(CORRECTIONS.items()) if c.kind is Kind.SPEED]


def failing_without(number: int | None) -> list[str]:
    """The tests that fail when speed correction ``number`` alone is left out (None: none left out)."""
    others = [str(n) for n in speed_corrections() if n != number]
    env = {**os.environ, "RASA_CORRECTIONS": ",".join(others)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *TEST_FILES, "-q", "-rfE", "-p", "no:cacheprovider", "--no-header"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return sorted({name.split("::", 1)[-1] for name in _FAILED.findall(done.stdout)})  # a file's own error: its path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", type=int, help="speed corrections to check (default: all)")
    args = parser.parse_args(argv)
    numbers = args.numbers or speed_corrections()
    if not set(numbers) <= set(speed_corrections()):
        parser.error(f"the speed corrections are {', '.join(map(str, speed_corrections()))}")
    broken = failing_without(None)
    if broken:
        print("these tests fail with every correction on; fix them first:", *broken, sep="\n     ")
        return 1
    unneeded = []
    for number in numbers:
        failing = failing_without(number)
        print(f"{number:>2} {CORRECTIONS[number].title}: {len(failing)} failing without it", flush=True)
        for name in failing:
            print(f"     {name}", flush=True)
        if not failing:
            unneeded.append(number)
    if unneeded:
        print(f"no test fails without correction(s) {', '.join(map(str, unneeded))}")
        return 1
    checked = "the speed correction" if len(numbers) == 1 else f"each of the {len(numbers)} speed corrections"
    print(f"{checked} checked has a test that fails without it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
