"""A member of staff using a running staff console over HTTP (requests), as a browser would:
sign in, and send forms with the session's CSRF token and the console's Origin."""
from __future__ import annotations

import re
import subprocess
import sys

import requests

from bot.settings import ROOT
from tests.support.process import http_ok, wait_until
from tests.support.stack import BotStack

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "korrekt-hest-batteri"


def add_staff(env: dict[str, str], name: str, role: str = "reviewer", password: str = PASSWORD) -> None:
    """A staff user made with the real command line (``bot.cli staff add``)."""
    subprocess.run([sys.executable, "-m", "bot.cli", "staff", "add", name, "--role", role], cwd=ROOT, env=env,
                   input=password + "\n", text=True, check=True, capture_output=True)


def wait_for_console(stack: BotStack, seconds: float = 120) -> None:
    """Until the stack's staff console answers (it may start after the servers ``BotStack`` waits for)."""
    wait_until(lambda: http_ok(stack.console + "/sundhed"), seconds, "the staff console", watch=[stack.process])


class ConsoleSession:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.token = ""

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=30)
        found = TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str]) -> requests.Response:
        if not self.token:
            self.get("/log-ind")
        response = self.http.post(self.base + path, data={**data, "csrf_token": self.token},
                                  headers={"Origin": self.base}, timeout=30)
        found = TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def sign_in(self, name: str, password: str = PASSWORD) -> requests.Response:
        self.get("/log-ind")
        response = self.post("/log-ind", {"name": name, "password": password})
        assert "Log ud" in response.text, "sign-in failed"
        return response
