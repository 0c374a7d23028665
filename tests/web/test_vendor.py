"""The committed front-end files are the versions bot/web/package-lock.json pins (``make vendor``)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = json.loads((ROOT / "bot" / "web" / "package-lock.json").read_text())["packages"]


def _version(package: str) -> str:
    return LOCK[f"node_modules/{package}"]["version"]


def test_vendored_socketio_client_is_the_locked_version():
    head = (ROOT / "bot" / "web" / "static" / "vendor" / "socket.io.min.js").read_text()[:200]
    assert f"Socket.IO v{_version('socket.io-client')}\n" in head


def test_vendored_axe_core_is_the_locked_version():
    head = (ROOT / "tests" / "web" / "vendor" / "axe.min.js").read_text()[:200]
    assert f"axe v{_version('axe-core')}\n" in head
