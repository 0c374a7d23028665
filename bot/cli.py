"""One entry point for running and maintaining the assistant: ``python -m bot.cli COMMAND``.

``run`` checks every setting, migrates the assistant's database, writes the secrets of this
start (mode 600, under ``STATE_DIR``) and supervises the processes: the action server, the Rasa
server, the web server, the notification sender, the staff console and, when a token is set,
the Telegram bridge. A process that stops is restarted with back-off (1 s, 2 s, 4 s … at most
a minute); Ctrl-C stops them all. ``make run`` builds the venv, the spaCy pipeline and the
model first. ``purge`` and ``erase`` are the retention and erasure commands.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from bot import settings
from bot.channels import REST_WEBHOOK

MAX_BACKOFF = 60.0  # seconds between restarts of a process that keeps stopping
STABLE_AFTER = 120.0  # a process that ran this long starts its back-off again from 1 s


@dataclass
class Child:
    """One supervised process."""

    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    started_at: float = 0.0
    next_start: float = field(default=0.0)

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(self.command, cwd=settings.ROOT, env=env, start_new_session=True)
        self.started_at = time.monotonic()

    def stopped(self) -> int | None:
        """The exit code if the process has stopped, else None."""
        return None if self.process is None else self.process.poll()

    def schedule_restart(self, now: float) -> float:
        if now - self.started_at >= STABLE_AFTER:
            self.restarts = 0
        delay = min(2.0 ** self.restarts, MAX_BACKOFF)
        self.restarts += 1
        self.process = None
        self.next_start = now + delay
        return delay

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)


def server_commands(env: dict[str, str]) -> dict[str, list[str]]:
    """The processes ``run`` starts, by name."""
    python = sys.executable
    commands = {
        "action server": [python, "-m", "actions.server"],
        "rasa server": [python, "-m", "bot.rasa_server"],
        "web server": [python, "-m", "bot.web.server"],
        "notification sender": [python, "-m", "bot.booking.notify"],
        "staff console": [python, "-m", "bot.console"],
    }
    if env.get("TELEGRAM_BOT_TOKEN"):
        commands["telegram bridge"] = [python, "-m", "bot.telegram"]
    return commands


def child_environment() -> dict[str, str]:
    """The children's environment: every setting, this start's secrets, Rasa's worker count."""
    env = settings.environment()
    env["ACTION_SERVER_TOKEN"] = settings.new_secret("ACTION_SERVER_TOKEN", "action-token")
    settings.new_secret("RASA_API_TOKEN", "api-token")  # read by bot.rasa_server, never on argv
    settings.new_secret("TELEGRAM_PUSH_TOKEN", "telegram-push-token")
    settings.new_secret("TELEGRAM_BRIDGE_TOKEN", "telegram-bridge-token")
    settings.new_secret("WIDGET_SESSION_SECRET", "widget-session-key")
    env["SANIC_WORKERS"] = env["RASA_WORKERS"]
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["RASA_TELEMETRY_ENABLED"] = "false"  # no calls home: the machines have no internet
    return env


def _host(interface: str) -> str:
    return "localhost" if interface in ("0.0.0.0", "127.0.0.1") else interface


def welcome(env: dict[str, str]) -> str:
    from bot.booking import notify

    rasa, web, staff = (_host(env[f"{k}_INTERFACE"]) for k in ("RASA", "WEB", "STAFF"))
    mail = (f"SMTP {env['SMTP_HOST']}:{env['SMTP_PORT']}" if env.get("SMTP_HOST")
            else f"{notify.mail_drop()} (no SMTP_HOST: e-mails are written there as .eml files)")
    telegram = "on" if env.get("TELEGRAM_BOT_TOKEN") else "off (TELEGRAM_BOT_TOKEN is not set)"
    return (
        "\nKøge Erhvervsbot is starting (the model takes about a minute to load).\n"
        f"  REST:      POST http://{rasa}:{env['RASA_PORT']}{REST_WEBHOOK} "
        '{"sender": "a", "message": "Hej"}\n'
        f"  socket.io: http://{rasa}:{env['RASA_PORT']}/socket.io\n"
        f"  chat:      http://{web}:{env['WEB_PORT']}/ (demo page with the chat widget)\n"
        f"  console:   http://{staff}:{env['STAFF_PORT']}/ (staff; add a user: python -m bot.cli staff add NAME --role admin)\n"
        f"  e-mails:   {mail}\n"
        f"  Telegram:  {telegram}\n"
        f"  API token: {settings.state_dir() / 'api-token'}\n"
        "Stop with Ctrl-C.\n"
    )


def run() -> int:
    settings.check_or_exit("make run")
    from bot.store import db

    settings.kept_secret("AUDIT_KEY", "audit-key")  # made once, kept: the audit log's pseudonyms
    db.migrate()  # the assistant's own tables, before any process uses them
    env = child_environment()
    children = [Child(name, command) for name, command in server_commands(env).items()]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(welcome(env), flush=True)
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.process is None and now >= child.next_start:
                child.start(env)
            elif (code := child.stopped()) is not None:
                delay = child.schedule_restart(now)
                print(f"{child.name} stopped with exit code {code}; restarting in {delay:.0f} s",
                      file=sys.stderr, flush=True)
        time.sleep(0.5)
    for child in children:
        child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)
    print("Stopped.")
    return 0


def purge() -> int:
    from bot.store import retention

    deleted, rows = retention.purge_expired()
    print(f"Deleted {deleted} conversation events and {rows} bookings, notifications, feedback, staff notes "
          "and marks, and e-mail files "
          f"older than {settings.retention_days()} days.")
    return 0


def erase(sender_id: str | None, reference: str | None, email: str | None) -> int:
    from bot.store import retention

    report = retention.erase_everywhere(sender_id=sender_id, reference=reference, email=email)
    print(report.summary())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koege-bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start and supervise every process of the assistant")
    sub.add_parser("purge", help="delete conversation logs and data older than RETENTION_DAYS")
    erase_parser = sub.add_parser(
        "erase", help="erase one user's data everywhere: conversation, bookings, e-mails, feedback")
    erase_parser.add_argument("sender_id", nargs="?", help="the conversation's sender id")
    erase_parser.add_argument("--reference", help="a booking reference (KB-2026-…): its conversation and booking")
    erase_parser.add_argument("--email", help="an e-mail address: every booking with it and their conversations")
    from bot.console import cli as staff_cli  # the staff console's users (bot/console/cli.py)
    staff_cli.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "staff":
        return staff_cli.run(args)
    if args.command == "run":
        return run()
    if args.command == "purge":
        return purge()
    if not (args.sender_id or args.reference or args.email):
        parser.error("erase needs a sender id, --reference or --email")
    return erase(args.sender_id, args.reference, args.email)


if __name__ == "__main__":
    sys.exit(main())
