"""The README documents the two commands; docs/settings.md every setting with its default."""
from __future__ import annotations

from pathlib import Path

from bot import settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README


def test_the_settings_page_lists_every_setting_with_its_default():
    page = (ROOT / "docs" / "settings.md").read_text()
    assert page == settings.markdown(), "regenerate: python -m bot.settings > docs/settings.md"
    for name, setting in settings.SETTINGS.items():
        assert f"| `{name}` | `{setting.default}` |" in page, name
    assert "docs/settings.md" in README
