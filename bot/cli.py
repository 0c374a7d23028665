"""One entry point for running and maintaining the assistant: ``python -m bot.cli COMMAND``.

``run`` starts the action server, the Rasa server and the web server (chat widget, demo
and privacy page) with the settings from ``bot.settings`` (environment variables with
embedded defaults) and stops them cleanly on Ctrl-C. ``make run`` builds the venv, the spaCy
pipeline and the model first.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time

from bot import settings

VAR = settings.ROOT / "var"
PURGE_INTERVAL = 6 * 3600  # seconds between deletions of expired conversation logs


def _purge_quietly() -> None:
    from bot.store import retention

    try:
        retention.purge_expired()
    except Exception as err:  # noqa: BLE001 - the database may not exist yet; never stop the bot
        print(f"retention purge skipped: {type(err).__name__}", file=sys.stderr)


def _api_token(env: dict[str, str]) -> str:
    token = env.get("RASA_API_TOKEN") or secrets.token_urlsafe(24)
    path = VAR / "api-token"
    path.write_text(token)
    path.chmod(0o600)
    return token


def server_commands(env: dict[str, str]) -> dict[str, list[str]]:
    """The processes ``run`` starts, by name."""
    python = sys.executable
    return {
        "action server": [python, "-m", "rasa_sdk", "--actions", "actions",
                          "--port", env["ACTION_PORT"]],
        "rasa server": [python, "-m", "rasa", "run", "--enable-api",
                        # one argument: a random token may begin with "-"
                        f"--auth-token={_api_token(env)}",
                        "--interface", env["RASA_INTERFACE"], "--port", env["RASA_PORT"],
                        "--cors", *env["RASA_CORS"].replace(",", " ").split(),
                        "--model", env["RASA_MODEL"],
                        "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                        "--log-file", env["RASA_LOG_FILE"]],
        "web server": [python, "-m", "bot.web.server"],
        "notification sender": [python, "-m", "bot.booking.notify"],
    }


def run() -> int:
    VAR.mkdir(exist_ok=True)
    env = settings.environment()
    env["SANIC_WORKERS"] = env["RASA_WORKERS"]
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["RASA_TELEMETRY_ENABLED"] = "false"  # no calls home: the machines have no internet
    processes: dict[str, subprocess.Popen] = {}
    stopping = False
    from bot.store import db

    db.migrate()  # the assistant's own tables, before any process uses them

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for name, command in server_commands(env).items():
        processes[name] = subprocess.Popen(command, cwd=settings.ROOT, env=env,
                                           start_new_session=True)
    host = "localhost" if env["RASA_INTERFACE"] in ("0.0.0.0", "127.0.0.1") else env["RASA_INTERFACE"]
    web_host = "localhost" if env["WEB_INTERFACE"] in ("0.0.0.0", "127.0.0.1") else env["WEB_INTERFACE"]
    print(
        "\nKøge Erhvervsbot is starting (the model takes about a minute to load).\n"
        f"  REST:      POST http://{host}:{env['RASA_PORT']}/webhooks/rest/webhook "
        '{"sender": "a", "message": "Hej"}\n'
        f"  socket.io: http://{host}:{env['RASA_PORT']}/socket.io\n"
        f"  chat:      http://{web_host}:{env['WEB_PORT']}/ (demo page with the chat widget)\n"
        f"  API token: {VAR / 'api-token'}\n"
        "Stop with Ctrl-C.\n",
        flush=True,
    )
    exit_code = 0
    next_purge = 0.0
    while not stopping:
        if time.time() >= next_purge:  # retention: at start, then every PURGE_INTERVAL
            _purge_quietly()
            next_purge = time.time() + PURGE_INTERVAL
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} stopped with exit code {process.returncode}", file=sys.stderr)
                exit_code, stopping = process.returncode or 1, True
        time.sleep(0.5)
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.time() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    print("Stopped.")
    return exit_code


def purge() -> int:
    from bot.store import retention

    deleted, rows = retention.purge_expired()
    print(f"Deleted {deleted} conversation events and {rows} bookings, notifications and feedback "
          f"older than {settings.retention_days()} days.")
    return 0


def erase(sender_id: str) -> int:
    from bot.store import retention

    deleted = retention.erase(sender_id)
    print(f"Deleted {deleted} conversation events of the conversation.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koege-bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the Rasa server, the action server and the web server")
    sub.add_parser("purge", help="delete conversation logs older than RETENTION_DAYS")
    erase_parser = sub.add_parser("erase", help="delete one conversation (erasure request)")
    erase_parser.add_argument("sender_id", help="the conversation's sender id")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run()
    if args.command == "purge":
        return purge()
    return erase(args.sender_id)


if __name__ == "__main__":
    sys.exit(main())
