"""Rasa SDK action server of Køge Erhvervsbot (run with ``rasa run actions``)."""
