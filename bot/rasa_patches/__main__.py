"""``python -m bot.rasa_patches``: each correction, its kind, how it is made (a class of
``bot.rasa_ext`` or a patch), and whether the installed Rasa is the code it was written against
(exit 1 if not). ``--fingerprints``: every target's hash now."""
from __future__ import annotations

import sys

from bot.rasa_patches import CORRECTIONS
from bot.rasa_patches.guard import fingerprint, original, problems


def main(argv: list[str]) -> int:
    if "--fingerprints" in argv:
        for correction in CORRECTIONS.values():
            for target in correction.targets:
                print(f"{correction.number:>2}  {target.path}  {fingerprint(original(target.path))}")
        return 0
    failed = False
    for number, correction in sorted(CORRECTIONS.items()):
        found = problems(correction)
        failed = failed or bool(found)
        how = f"carried by {correction.carrier}" if correction.carrier else "patched at run time"
        print(f"{number:>2}  {correction.kind.value:<9}  {'ok' if not found else 'MISMATCH'}  {correction.title}"
              f"  [{how}]")
        for problem in found:
            print(f"      {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
