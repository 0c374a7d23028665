"""Rasa input channels: code that runs inside ``rasa run`` (named in credentials.yml)."""
