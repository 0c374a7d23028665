"""The document index, built once per test session (it loads the Danish spaCy pipeline)."""
from __future__ import annotations

import pytest

from bot.documents.answer import default_index
from bot.documents.index import PassageIndex


@pytest.fixture(scope="session")
def index() -> PassageIndex:
    return default_index()
