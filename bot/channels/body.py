"""Reading a JSON request body that anyone on the internet may send, for the REST channel
(Sanic) and the web server's ``/api/feedback`` (aiohttp).

Every way a body can be wrong ends in ``BodyError`` with an HTTP status and a short English
message for the client, never in an exception the server turns into a 500:

- compressed (``Content-Encoding`` other than identity): 415. Nothing here decompresses; a
  small compressed body can expand to gigabytes (aiohttp's GHSA-6mq8-rvhq-8wgg);
- a ``charset`` other than UTF-8 (JSON is UTF-8, RFC 8259): 415;
- larger than the limit: 413;
- not UTF-8, not JSON, ``NaN``/``Infinity``, numbers of thousands of digits, nesting deeper
  than ``MAX_DEPTH`` (5,000 ``[`` included): 400;
- JSON that is not an object (an array, a string, ``null``): 400.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 8
UTF8 = ("utf-8", "utf8", "us-ascii", "ascii")


class BodyError(ValueError):
    """The request body cannot be used: ``status`` and a short message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower case, or None."""
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').strip("'").lower()
    return None


def check_headers(content_type: str | None, content_encoding: str | None,
                  content_length: str | None = None, max_bytes: int | None = None) -> None:
    """Refuse what the headers already show: compressed bodies, other charsets, too large."""
    if (content_encoding or "").strip().lower() not in ("", "identity"):
        raise BodyError(415, "compressed request bodies are not accepted")
    found = charset(content_type)
    if found is not None and found not in UTF8:
        raise BodyError(415, "send the JSON body as UTF-8")
    if max_bytes is not None and content_length and content_length.strip().isdigit() \
            and int(content_length) > max_bytes:
        raise BodyError(413, f"the request body is larger than {max_bytes} bytes")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (a scalar: 0); iterative, no recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_object(raw: bytes, max_bytes: int, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The JSON object in ``raw``, or ``BodyError``."""
    if len(raw) > max_bytes:
        raise BodyError(413, f"the request body is larger than {max_bytes} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "the request body is not valid UTF-8") from None
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise BodyError(400, "the JSON nests too deeply") from None
    except ValueError:  # JSONDecodeError, NaN/Infinity, an integer of too many digits
        raise BodyError(400, "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BodyError(400, "the request body must be a JSON object")
    if depth(data) > max_depth:
        raise BodyError(400, "the JSON nests too deeply")
    return data
