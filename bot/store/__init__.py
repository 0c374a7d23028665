"""Database access: the conversation tracker store's retention and erasure."""
