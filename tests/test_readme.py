"""The README documents the two commands and every setting with its default."""
from __future__ import annotations

from pathlib import Path

from bot.settings import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_readme_gives_the_two_commands():
    assert "make run" in README and "make test" in README


def test_readme_lists_every_setting_with_its_default():
    for name, (default, _) in DEFAULTS.items():
        assert f"| `{name}` | `{default}` |" in README, name
