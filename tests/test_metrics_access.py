"""Who may read ``/metrics`` (issue #22): one rule, ``bot.metrics.may_read``, in every process
that has the route — the Rasa server (``bot/rasa_patches.py``), the action server, the web
server and the notification sender — each served for real on a socket.

Without ``METRICS_TOKEN`` only a request straight from loopback is answered; one through a
proxy (``X-Forwarded-For``) or from another address gets 404, as for a path that does not
exist. With the token, ``Authorization: Bearer <token>`` is needed and enough. "Another
address" is the machine's own outward address (e.g. eth0's): a real connection whose peer is
not loopback.
"""
from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
import requests
from sanic import Sanic

from bot import metrics
from tests.support.stack import free_port

TOKEN = "scrape-" + "x" * 24
FORWARDED = {"X-Forwarded-For": "203.0.113.7"}  # what nginx or the TLS proxy adds


def outward_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent), or None."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        with socket.socket() as server:
            server.bind((address, 0))
    except OSError:
        return None
    return None if address.startswith("127.") else address


OUTSIDE = outward_address()
needs_outside = pytest.mark.skipif(OUTSIDE is None, reason="this machine has no address but loopback")


@pytest.fixture
def no_token(monkeypatch):
    monkeypatch.delenv("METRICS_TOKEN", raising=False)


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)


# --- the rule ---------------------------------------------------------------------------------

@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_directly_may_read(no_token, peer):
    assert metrics.may_read(peer, None, None)


@pytest.mark.parametrize("peer", ["192.0.2.10", "10.0.0.5", "172.28.0.10", "::ffff:10.0.0.5", "fd00::2", "", None,
                                  "localhost", "not an address"])
def test_without_a_token_no_other_peer_may_read(no_token, peer):
    assert not metrics.may_read(peer, None, None)


def test_without_a_token_loopback_through_a_proxy_may_not_read(no_token):
    assert not metrics.may_read("127.0.0.1", "203.0.113.7", None)
    assert not metrics.may_read("127.0.0.1", "", None)  # present, even empty
    for header in metrics.PROXY_HEADERS:
        assert not metrics.may_read_request("127.0.0.1", {header: "for=203.0.113.7"})
    assert not metrics.may_read("192.0.2.10", None, "Bearer anything")  # no token: nothing to match


@pytest.mark.parametrize("authorization, allowed", [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), (f"Bearer  {TOKEN} ", True),
    (None, False), ("", False), ("Bearer", False), ("Bearer ", False), (f"Bearer {TOKEN}x", False),
    (f"Basic {TOKEN}", False), (TOKEN, False), ("Bearer wrong", False),
])
def test_with_a_token_only_the_token_counts(token, authorization, allowed):
    for peer, forwarded in [("127.0.0.1", None), ("192.0.2.10", None), ("127.0.0.1", "203.0.113.7")]:
        assert metrics.may_read(peer, forwarded, authorization) is allowed


# --- the four processes, served on a real socket -------------------------------------------

class SanicServer:
    """A Sanic app served on ``host`` in a thread of its own (its own event loop)."""

    def __init__(self, app: Sanic, host: str) -> None:
        self.app, self.port = app, free_port()
        self.url = f"http://{host}:{self.port}"
        self.host = host
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: Any = None

    def __enter__(self) -> str:
        async def start() -> None:
            self.server = await self.app.create_server(host=self.host, port=self.port, access_log=False,
                                                       return_asyncio_server=True)
            await self.server.startup()  # no "after start" listeners: nothing else of the server

        self.thread.start()
        asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)
        return self.url

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()
            for connection in list(self.server.connections):
                connection.close_if_idle()
            await asyncio.sleep(0.05)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def fresh_sanic_apps(monkeypatch):
    """Sanic refuses a second app of the same name in a process: a registry for this test only."""
    monkeypatch.setattr(Sanic, "_app_registry", dict(Sanic._app_registry))
    monkeypatch.setattr(Sanic, "test_mode", True)


def _rasa_server(host: str) -> AbstractContextManager[str]:
    """The Rasa server's app as ``rasa run`` builds it (``configure_app`` with the REST channel,
    whose blueprint brings ``/metrics``; the patches applied)."""
    from rasa.core import run

    from bot import rasa_patches
    from bot.channels.rest import RestInput

    rasa_patches.apply()
    return SanicServer(run.configure_app([RestInput()], port=0), host)


def _action_server(host: str) -> AbstractContextManager[str]:
    from actions.server import create_app

    return SanicServer(create_app(token="action-token"), host)


@contextmanager
def _web_server(host: str) -> Iterator[str]:
    """The web server's aiohttp app on aiohttp's test server, in a thread of its own."""
    from aiohttp.test_utils import TestServer

    from bot.web.server import create_app

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = TestServer(create_app("http://localhost:5005"), host=host, port=free_port())
    asyncio.run_coroutine_threadsafe(server.start_server(), loop).result(30)
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@contextmanager
def _notifier(host: str) -> Iterator[str]:
    """The notification sender's own listener (``serve_probes``) on ``host``."""
    import os

    from bot.booking import notify

    port = free_port()
    before = {name: os.environ.get(name) for name in ("NOTIFY_INTERFACE", "NOTIFY_PORT")}
    os.environ.update(NOTIFY_INTERFACE=host, NOTIFY_PORT=str(port))
    try:
        server = notify.serve_probes()
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


PROCESSES: dict[str, Callable[[str], AbstractContextManager[str]]] = {
    "rasa server": _rasa_server, "action server": _action_server,
    "web server": _web_server, "notification sender": _notifier,
}


def _get(url: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(url + "/metrics", headers=headers or {}, timeout=10)


def _answered(answer: requests.Response) -> bool:
    return answer.status_code == 200 and "# HELP" in answer.text and "koege_" in answer.text


@pytest.mark.parametrize("process", PROCESSES)
def test_without_a_token_loopback_reads_a_proxy_does_not(process, no_token, fresh_sanic_apps):
    with PROCESSES[process]("127.0.0.1") as url:
        assert _answered(_get(url)), process
        refused = _get(url, FORWARDED)  # e.g. nginx or the TLS proxy on the same machine
        assert refused.status_code == 404 and "koege_" not in refused.text, process
        assert _get(url, {"Forwarded": "for=203.0.113.7"}).status_code == 404, process


@needs_outside
@pytest.mark.parametrize("process", PROCESSES)
def test_without_a_token_another_address_gets_404(process, no_token, fresh_sanic_apps):
    with PROCESSES[process](OUTSIDE) as url:
        refused = _get(url)
        assert refused.status_code == 404 and "koege_" not in refused.text, process
        assert _get(url, {"Authorization": "Bearer anything"}).status_code == 404, process
        assert requests.get(url + "/health", timeout=10).status_code in (200, 503), process  # it is there


@needs_outside
@pytest.mark.parametrize("process", PROCESSES)
def test_with_a_token_the_token_reads_from_anywhere_and_nothing_else_does(process, token, fresh_sanic_apps):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with PROCESSES[process](OUTSIDE) as url:
        assert _answered(_get(url, bearer)), process
        assert _answered(_get(url, {**bearer, **FORWARDED})), process  # a scrape through a proxy
        for wrong in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            assert _get(url, wrong).status_code == 404, (process, wrong)
    with PROCESSES[process]("127.0.0.1") as url:
        assert _get(url).status_code == 404, process  # with a token set, loopback needs it too
        assert _answered(_get(url, bearer)), process
