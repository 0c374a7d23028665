"""The whole assistant as ``make run`` starts it (``python -m bot.cli run``), for end-to-end
tests and benchmarks: Rasa server, action server, web server and notification sender on free
ports, with their databases in a given folder unless other URLs are given."""
from __future__ import annotations

import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from bot.settings import ROOT
from tests.support import rest
from tests.support.process import Process, http_ok

MODEL = ROOT / "models" / "koege.tar.gz"
START_TIMEOUT = 600  # seconds; the model load alone takes about a minute on 2 idle cores
STOP_TIMEOUT = 60  # seconds from Ctrl-C until every process has stopped
STACK = "BotStack (python -m bot.cli run)"  # its name in messages and in process.STARTS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        # The supervisor alone gets Ctrl-C (SIGINT), as from a terminal; it stops the others.
        self.process = Process(STACK, [sys.executable, "-m", "bot.cli", "run"], env=self.env, log=self.log,
                               stop_signal=signal.SIGINT, group=False,
                               model_loads=int(self.env.get("RASA_WORKERS") or 1))

    def ready(self) -> bool:
        """The Rasa server (with its model), the action server and the web server answer."""
        return all(map(http_ok, (f"http://127.0.0.1:{self.rasa_port}/", f"http://127.0.0.1:{self.action_port}/health",
                                 f"http://127.0.0.1:{self.web_port}/api/config")))

    def __enter__(self) -> BotStack:
        self.process.start()
        try:
            self.process.wait_until(self.ready, START_TIMEOUT, "the Rasa, action and web servers", interval=0.5)
        except BaseException:
            self.__exit__()  # never leave servers running behind a failed start
            raise
        return self

    def stop(self) -> int | None:
        """Ctrl-C, as a user stops `make run`; returns the exit code (after SIGKILL: negative)."""
        return self.process.stop(timeout=STOP_TIMEOUT)

    def __exit__(self, *_: object) -> None:
        self.stop()

    def say(self, text: str, sender: str | None = None) -> tuple[str, list[dict[str, Any]]]:
        """Send a message on the REST channel: the reply's texts and buttons."""
        return rest.say(self.rasa, sender, text)

    @property
    def api_token(self) -> str:
        """The token of Rasa's HTTP API that ``bot.cli run`` generated for this start."""
        return (self.var / "api-token").read_text().strip()

