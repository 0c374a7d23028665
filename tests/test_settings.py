"""Settings: environment variables with embedded defaults; URLs that follow a changed port."""
from __future__ import annotations

import pytest

from bot import settings


@pytest.fixture
def clean_env(monkeypatch):
    for name in settings.DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_what_the_readme_lists(clean_env):
    for name, (default, _) in settings.DEFAULTS.items():
        assert settings.get(name) == default, name
    assert all(settings.environment()[name] == default for name, (default, _) in settings.DEFAULTS.items())


def test_a_changed_port_moves_the_urls_that_depend_on_it(clean_env):
    clean_env.setenv("WEB_PORT", "9090")
    clean_env.setenv("RASA_PORT", "6006")
    clean_env.setenv("ACTION_PORT", "6066")
    assert settings.cors_origins() == ["http://localhost:9090", "http://127.0.0.1:9090"]
    env = settings.environment()  # what the child processes get
    assert env["RASA_PUBLIC_URL"] == "http://localhost:6006"
    assert env["ACTION_SERVER_URL"] == "http://localhost:6066/webhook"


def test_a_url_set_explicitly_wins_over_the_port(clean_env):
    clean_env.setenv("WEB_PORT", "9090")
    clean_env.setenv("RASA_CORS", "https://www.koege.dk")
    assert settings.cors_origins() == ["https://www.koege.dk"]
    assert settings.environment()["RASA_CORS"] == "https://www.koege.dk"
