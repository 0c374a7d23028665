"""Rasa's command line with the corrections of ``bot.rasa_patches`` applied, as the Rasa server
runs it: ``python -m bot.rasa_cli test core …`` (``make test``'s story check), and
``bot.rasa_server`` for ``rasa run``. So the quality gates test the code production runs, and
``RASA_CORRECTIONS`` selects the same corrections for both.

A Rasa that the corrections were not written for stops here, before Rasa starts, with a message
that names each correction and what changed (exit code 2); so does a server whose conversations
would not be in the store endpoints.yml names (``bot.rasa_ext.tracker_store.NotThisStore``).
"""
from __future__ import annotations

import sys


def run(arguments: list[str]) -> None:
    """Apply the selected corrections, then ``rasa <arguments>`` in this process."""
    from bot import rasa_patches

    try:
        rasa_patches.apply()
    except rasa_patches.CorrectionMismatch as err:
        print(f"rasa: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    from rasa.__main__ import main as rasa_main

    from bot.rasa_ext.tracker_store import NotThisStore

    sys.argv = ["rasa", *arguments]  # inside this process only: /proc/<pid>/cmdline keeps ours
    try:
        rasa_main()
    except NotThisStore as err:
        print(f"rasa: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    run(sys.argv[1:])
