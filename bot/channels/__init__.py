"""Rasa input channels: code that runs inside ``rasa run`` (named in credentials.yml)."""

#: Where Rasa serves the REST channel (credentials.yml: ``bot.channels.rest.RestInput``).
REST_WEBHOOK = "/webhooks/rest/webhook"
