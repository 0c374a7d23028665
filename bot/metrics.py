"""Prometheus metrics of the assistant (``GET /metrics`` on the Rasa server, the action server,
the web server and the notification sender; each process exposes what it counts).

No label ever holds personal data: channels, action names, outcomes. Scrape every instance on
its own address (behind the load balancer ``/metrics`` is not routed: the counts are internal).
"""
from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

#: Seconds; the bench's target is p95 ≤ 0.2 s at 10 concurrent conversations.
BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

MESSAGES = Counter("koege_messages_total", "User messages answered, by channel.", ["channel"])
LATENCY = Histogram("koege_message_seconds", "Time from a user message to the assistant's answer.",
                    ["channel"], buckets=BUCKETS)
ERRORS = Counter("koege_errors_total", "Messages or requests that failed and got an apology instead.",
                 ["where"])
REFUSED = Counter("koege_refused_total", "Requests refused with a 4xx (malformed, too large, rate limit).",
                  ["status"])
ACTIONS = Counter("koege_actions_total", "Custom actions run by the action server.", ["action"])
FALLBACKS = Counter("koege_fallbacks_total", "Messages not understood (the assistant asked what was meant).")
BOOKINGS = Counter("koege_bookings_total", "Company visits booked, moved or cancelled.", ["event"])
HANDOVERS = Counter("koege_handovers_total", "Requests for a person: queued, unstaffed (callback offered).",
                    ["outcome"])
CALLBACKS = Counter("koege_callback_requests_total", "Callback requests stored.")
TED_CACHE = Counter("koege_ted_cache_total", "TED predictions given again for a dialogue state seen before "
                    "(hit) or computed (miss).", ["result"])
EMAILS = Counter("koege_emails_total", "E-mails the outbox tried to send, by result.", ["result"])
OUTBOX = Gauge("koege_outbox_due", "E-mails due in the outbox at the sender's last round.")


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
