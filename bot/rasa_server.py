"""The Rasa server process: ``python -m bot.rasa_server`` (``python -m bot.cli run`` starts it).

It runs ``rasa run`` with the options that follow from the settings, built here rather than
on the command line: Rasa's API token (``RASA_API_TOKEN`` or the generated one in
``STATE_DIR/api-token``) is given to Rasa inside the process, so it never appears in a process
list (``ps``) or a log. Log records are masked (``bot.logs``): no personal data in Rasa's logs.
"""
from __future__ import annotations

import sys

from bot import logs, settings


def arguments() -> list[str]:
    """``rasa run``'s arguments for the current settings (the token last, never printed)."""
    return ["run", "--enable-api",
            "--interface", settings.get("RASA_INTERFACE"), "--port", settings.get("RASA_PORT"),
            "--cors", *settings.cors_origins(),
            "--model", settings.get("RASA_MODEL"),
            "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
            "--log-file", str(settings.path("RASA_LOG_FILE")),
            # one argument: a random token may begin with "-"
            f"--auth-token={settings.secret_file('RASA_API_TOKEN', 'api-token')}"]


def main() -> None:
    settings.check_or_exit("rasa server")
    if not settings.secret_file("RASA_API_TOKEN", "api-token"):
        raise SystemExit("rasa server: no RASA_API_TOKEN and no generated one: start it with "
                         "`python -m bot.cli run`")
    logs.mask_every_record()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *arguments()]  # inside this process only: /proc/<pid>/cmdline keeps ours
    rasa_main()


if __name__ == "__main__":
    main()
