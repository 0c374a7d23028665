"""Real local stand-ins for the external services the assistant calls (for unit and integration tests)."""
