"""A synchronous client for the console app (aiohttp's test server on a loop of its own), so
tests read like the browser's: sign in, follow forms with their CSRF token."""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    text: str
    headers: dict[str, str]
    url: str

    def token(self) -> str:
        found = TOKEN.search(self.text)
        assert found, "no CSRF token on the page"
        return found.group(1)


class Client:
    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.client = TestClient(TestServer(app), loop=self.loop)
        self.loop.run_until_complete(self.client.start_server())
        self.origin = str(self.client.make_url("")).rstrip("/")

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.close()

    def _do(self, method: str, path: str, **options) -> Reply:
        async def go() -> Reply:
            async with self.client.request(method, path, **options) as response:
                return Reply(response.status, await response.text(), dict(response.headers), str(response.url))
        return self.loop.run_until_complete(go())

    def get(self, path: str, redirects: bool = True) -> Reply:
        return self._do("GET", path, allow_redirects=redirects)

    def post(self, path: str, data: dict[str, str], token: str | None = None, origin: str | None = "self",
             redirects: bool = True) -> Reply:
        headers = {}
        if origin:
            headers["Origin"] = self.origin if origin == "self" else origin
        if token is not None:
            data = {**data, "csrf_token": token}
        return self._do("POST", path, data=data, headers=headers, allow_redirects=redirects)

    def upload(self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None,
               token: str | None = None, origin: str | None = "self") -> Reply:
        """A multipart form, as a browser sends a form with a file input: ``files`` maps a
        field to (file name, content); a field without a file is sent empty, as browsers do."""
        form = FormData()
        for name, value in data.items():
            form.add_field(name, value)
        if token is not None:
            form.add_field("csrf_token", token)
        for name, (filename, content) in (files or {}).items():
            form.add_field(name, content, filename=filename, content_type="application/octet-stream")
        headers = {"Origin": self.origin if origin == "self" else origin} if origin else {}
        return self._do("POST", path, data=form, headers=headers)

    def token(self, path: str = "/log-ind") -> str:
        return self.get(path).token()

    def sign_in(self, name: str, password: str) -> Reply:
        return self.post("/log-ind", {"name": name, "password": password}, token=self.token())

    def cookies(self) -> list:
        return list(self.client.session.cookie_jar)
