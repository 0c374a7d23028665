"""The staff console: a web application for the business service's staff (Danish), its own
process and port (``python -m bot.console``, ``STAFF_PORT``): sign-in with roles, the
conversation list and transcripts, triage, the improve loop (annotations, NLU and test-story
export), booking follow-up, a dashboard, content corrections and erasure."""
