"""The municipality's documents as passages, their index, and answers quoted from them.

The dialogue calls ``best_answer(question, language)`` (``bot.documents.answer``) when no
intent is confident, and for questions about what a document says (``include_knowledge=False``).
Documents live in ``data/documents`` (``bot.documents.catalogue``), with the staff console's
additions, new versions and retirements (``bot.store.documents``; the index rebuilds when they
change); the manual and the measured figures are in ``docs/documents.md``.
"""
from bot.documents.answer import (
    CLEAR_COVERAGE,
    NO_MATCH,
    DocumentAnswer,
    NoAnswer,
    TopicMatch,
    best_answer,
    default_index,
    names,
    reset_default_index,
    topic_matches,
)

__all__ = ["CLEAR_COVERAGE", "NO_MATCH", "DocumentAnswer", "NoAnswer", "TopicMatch", "best_answer", "default_index",
           "names", "reset_default_index", "topic_matches"]
