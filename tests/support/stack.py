"""The whole assistant as ``make run`` starts it (``python -m bot.cli run``), for end-to-end
tests and benchmarks: Rasa server, action server, web server and notification sender on free
ports, with their databases in a given folder unless other URLs are given."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from bot.settings import ROOT

MODEL = ROOT / "models" / "koege.tar.gz"
START_TIMEOUT = 600  # seconds; the model load alone takes about a minute on 2 idle cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _up(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:  # refused, or accepted but not answering yet
        return False


class BotStack:
    """``with BotStack(tmp_path, SMTP_PORT=...) as bot: bot.say("Hej")``"""

    def __init__(self, folder: Path, origins: tuple[str, ...] = (), **settings: str) -> None:
        """``origins``: pages on other sites that embed the widget (added to ``RASA_CORS``)."""
        if not MODEL.exists():
            raise FileNotFoundError("train the model first: make train")
        self.folder = folder
        self.rasa_port, self.action_port, self.web_port = free_port(), free_port(), free_port()
        self.staff_port, self.telegram_port = free_port(), free_port()
        self.rasa = f"http://localhost:{self.rasa_port}"
        self.web = f"http://localhost:{self.web_port}"
        self.console = f"http://localhost:{self.staff_port}"
        self.var = folder / "var"  # secrets of this start (api-token, action-token, …)
        self.tracker = folder / "tracker.db"
        self.env = {
            **os.environ,
            "RASA_PORT": str(self.rasa_port),
            "ACTION_PORT": str(self.action_port),
            "WEB_PORT": str(self.web_port),
            "STAFF_PORT": str(self.staff_port),
            "TELEGRAM_PORT": str(self.telegram_port),
            "NOTIFY_PORT": str(free_port()),
            "MAIL_DROP_DIR": str(folder / "mail"),
            "STATE_DIR": str(folder / "var"),
            "ACTION_SERVER_URL": f"http://localhost:{self.action_port}/webhook",
            "TRACKER_URL": f"sqlite:///{self.tracker}",
            "BOT_DATABASE_URL": f"sqlite:///{folder / 'bot.db'}",
            "RASA_MODEL": str(MODEL),
            "RASA_PUBLIC_URL": self.rasa,
            "RASA_CORS": " ".join([self.web, *origins]),
            "RASA_LOG_FILE": str(folder / "rasa.log"),
            **settings,
        }
        self.database = self.env["BOT_DATABASE_URL"]
        self.log = folder / "server.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> BotStack:
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT,
                                            env=self.env, stdout=out, stderr=subprocess.STDOUT)
        checks = [f"http://127.0.0.1:{self.rasa_port}/", f"http://127.0.0.1:{self.action_port}/health",
                  f"http://127.0.0.1:{self.web_port}/api/config"]
        deadline = time.time() + START_TIMEOUT
        try:
            while not all(_up(url) for url in checks):
                if self.process.poll() is not None or time.time() > deadline:
                    raise RuntimeError("the servers did not start:\n" + self.log.read_text()[-5000:])
                time.sleep(2)
        except BaseException:
            self.__exit__()  # never leave servers running behind a failed start
            raise
        return self

    def stop(self) -> int:
        """Ctrl-C, as a user stops `make run`; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.process.kill()

    def say(self, text: str, sender: str | None = None) -> tuple[str, list[dict]]:
        """Send a message on the REST channel: the reply's texts and buttons."""
        reply = requests.post(f"{self.rasa}/webhooks/rest/webhook", timeout=120,
                              json={"sender": sender or uuid.uuid4().hex, "message": text})
        reply.raise_for_status()
        messages = reply.json()
        return ("\n".join(m.get("text", "") for m in messages),
                [b for m in messages for b in m.get("buttons") or []])
