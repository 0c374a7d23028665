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


def test_a_wrong_value_stops_start_up_naming_the_variable(clean_env):
    clean_env.setenv("SMTP_PORT", "abc")
    with pytest.raises(SystemExit) as stopped:
        settings.check_or_exit("notification sender")
    assert "SMTP_PORT='abc'" in str(stopped.value) and "notification sender" in str(stopped.value)


@pytest.mark.parametrize(("name", "value"), [("RASA_WORKERS", "two"), ("SMTP_STARTTLS", "maybe"),
                                             ("LOCK_STORE_TYPE", "disk"), ("RETENTION_DAYS", "-1"),
                                             ("ACTION_PORT", "70000"), ("CVR_API_TIMEOUT", "soon")])
def test_every_kind_of_wrong_value_is_refused(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(settings.SettingError, match=name):
        settings.check()


def test_several_rasa_workers_without_the_redis_lock_store_are_refused(clean_env):
    """Each worker would keep its own in-memory lock, and two could answer one conversation at
    once (Rasa's own check only looks at the class endpoints.yml names, which is always ours)."""
    clean_env.setenv("RASA_WORKERS", "2")
    with pytest.raises(settings.SettingError, match="RASA_WORKERS=2 needs LOCK_STORE_TYPE=redis"):
        settings.check()
    clean_env.setenv("LOCK_STORE_TYPE", "redis")
    settings.check()


def test_a_secret_is_never_shown(clean_env):
    clean_env.setenv("SMTP_PASSWORD", "hemmeligt-kodeord")
    clean_env.setenv("SMTP_PORT", "x")
    assert settings.describe()["SMTP_PASSWORD"] == "***"
    with pytest.raises(settings.SettingError) as error:
        settings.check()
    assert "hemmeligt" not in str(error.value)


def test_typed_values(clean_env):
    clean_env.setenv("SMTP_STARTTLS", "yes")
    clean_env.setenv("CVR_API_TIMEOUT", "2.5")
    assert settings.flag("SMTP_STARTTLS") is True and settings.number("CVR_API_TIMEOUT") == 2.5
    assert settings.integer("RASA_PORT") == 5005
