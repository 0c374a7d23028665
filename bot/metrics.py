"""Prometheus metrics of the assistant (``GET /metrics`` on the Rasa server, the action server,
the web server and the notification sender; each process exposes what it counts).

No label ever holds personal data: channels, action names, outcomes. Scrape every instance on
its own address (behind the load balancer ``/metrics`` is not routed: the counts are internal).

Who may read them is one rule for every process (``may_read``): with ``METRICS_TOKEN`` set, a
request with ``Authorization: Bearer <METRICS_TOKEN>``; without it, a request straight from
loopback, i.e. from the machine itself and not through a reverse proxy (a proxy such as nginx
or the TLS proxy adds ``X-Forwarded-For``). Anything else gets **404**, the same answer as a
path that does not exist: nothing tells a scanner that there is something behind it. (A
Prometheus target that shows 404 has no or the wrong token, or is scraped through a proxy.)
A Prometheus on another machine or in another container therefore needs ``METRICS_TOKEN``
(``authorization: {credentials: …}`` in its scrape configuration).
"""
from __future__ import annotations

import hmac
import ipaddress
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from bot import settings

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
DOCUMENT_ANSWERS = Counter("koege_document_answers_total",
                           "Messages no intent answered, answered from the documents instead (bot.documents).",
                           ["kind"])
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


#: Headers a reverse proxy adds: a request with any of them did not come straight from loopback.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


class Headers(Protocol):
    """Case-insensitive request headers (Sanic's, aiohttp's and http.server's all have ``get``)."""

    def get(self, name: str, default: None = None) -> str | None: ...


def is_loopback(peer: str | None) -> bool:
    """Whether ``peer`` (a connection's address, possibly IPv6 with a zone or IPv4-mapped) is
    this machine."""
    try:
        address = ipaddress.ip_address((peer or "").split("%")[0])
    except ValueError:  # no address (a Unix socket) or not an IP address
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def may_read(peer: str | None, forwarded_for: str | None, authorization: str | None) -> bool:
    """Whether a request may read ``/metrics``: ``peer`` is the connection's address (never a
    forwarded one), ``forwarded_for`` the X-Forwarded-For header (None if absent). With
    ``METRICS_TOKEN`` set, only ``Authorization: Bearer <token>``; without, only loopback
    directly (no proxy header)."""
    token = settings.get("METRICS_TOKEN").strip()
    if token:
        scheme, _, given = (authorization or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    return forwarded_for is None and is_loopback(peer)


def may_read_request(peer: str | None, headers: Headers) -> bool:
    """``may_read`` for a request's headers; any proxy header (``PROXY_HEADERS``) counts as
    X-Forwarded-For."""
    proxied = next((value for value in map(headers.get, PROXY_HEADERS) if value is not None), None)
    return may_read(peer, proxied, headers.get("Authorization"))
