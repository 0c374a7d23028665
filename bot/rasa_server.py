"""The Rasa server process: ``python -m bot.rasa_server`` (``python -m bot.cli run`` starts it).

It runs ``rasa run`` with the options that follow from the settings, built here rather than
on the command line: Rasa's API token (``RASA_API_TOKEN`` or the generated one in
``STATE_DIR/api-token``) is given to Rasa inside the process, so it never appears in a process
list (``ps``) or a log. Log records are masked (``bot.logs``): no personal data in Rasa's logs.
Rasa's corrections (``bot.rasa_patches``) are checked and applied before it starts
(``bot.rasa_cli``); a Rasa they were not written for stops it with a message naming them.
"""
from __future__ import annotations

from bot import logs, settings


def logging_arguments() -> list[str]:
    """With ``LOG_FORMAT=json``: Rasa's logging configuration file (JSON lines)."""
    if settings.get("LOG_FORMAT") != "json":
        return []
    import yaml

    file = settings.state_dir() / "rasa-logging.yml"
    file.write_text(yaml.safe_dump(logs.rasa_logging_config()), encoding="utf-8")
    return ["--logging-config-file", str(file)]


def arguments() -> list[str]:
    """``rasa run``'s arguments for the current settings (the token last, never printed)."""
    return ["run", "--enable-api", *logging_arguments(),
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
    from bot import rasa_cli

    rasa_cli.run(arguments())


if __name__ == "__main__":
    main()
