"""Look up a company in Erhvervsstyrelsen's CVR register (the system-to-system Elasticsearch API).

``validate`` checks a CVR number locally (8 digits, modulus 11) and raises ``InvalidCvr`` with
the reason; no request is made for an invalid number. ``lookup`` asks
``POST {CVR_API_URL}/cvr-permanent/virksomhed/_search`` (HTTP basic auth) and returns a
``Company`` or None when the register has no such company. Connection errors, timeouts and 5xx
answers are retried with exponential back-off; when the register cannot give a usable answer,
``RegisterUnavailable`` is raised. Results, found and not found, are cached in memory.

Logs name at most the CVR number and the kind of error: never credentials or response bodies.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import requests
from stdnum import exceptions as stdnum_errors
from stdnum.dk import cvr as stdnum_cvr

from bot import settings

log = logging.getLogger(__name__)

SEARCH_PATH = "/cvr-permanent/virksomhed/_search"
#: Only the fields the assistant shows; keeps the answer small.
SOURCE_FIELDS = ["Vrvirksomhed.cvrNummer", "Vrvirksomhed.virksomhedMetadata"]


class InvalidCvr(ValueError):
    """Not a valid CVR number; ``reason`` says why: ``format``, ``length``, ``leading_zero`` or
    ``checksum`` (the user is told with the response ``utter_cvr_invalid_<reason>``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid CVR number: {reason}")
        self.reason = reason


class RegisterUnavailable(Exception):
    """The CVR register gave no usable answer. ``kind`` says why, e.g. ``timeout``,
    ``unreachable``, ``http_503``, ``auth``, ``malformed``, ``unexpected_structure``."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"CVR register unavailable: {kind}")
        self.kind = kind


@dataclass(frozen=True)
class Company:
    cvr: str
    name: str
    #: One Danish line, e.g. "Torvet 1, 4600 Køge"; None when the register has no address.
    address: str | None
    #: The main industry's text (hovedbranche), e.g. "Generelle offentlige tjenester".
    industry: str | None
    #: The register's combined status (sammensatStatus), e.g. "NORMAL", "OPHØRT".
    status: str | None


def validate(number: str) -> str:
    """The 8-digit CVR number in ``number`` (spaces, dashes and a "DK" prefix allowed).

    Raises ``InvalidCvr`` with the reason.
    """
    try:
        return stdnum_cvr.validate(number)
    except stdnum_errors.InvalidChecksum:
        raise InvalidCvr("checksum") from None
    except stdnum_errors.InvalidLength:
        raise InvalidCvr("length") from None
    except stdnum_errors.ValidationError:
        compact = stdnum_cvr.compact(number)
        if compact[:1] == "0" and compact.isascii() and compact.isdigit():
            raise InvalidCvr("leading_zero") from None
        raise InvalidCvr("format") from None


NUMBER_IN_TEXT = re.compile(r"(?:\bDK[\s-]?)?(?<!\d)\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d)", re.IGNORECASE)


def find_number(text: str) -> str:
    """The part of ``text`` that looks like a CVR number ("vores cvr er 2918 9374" → "2918 9374"),
    or the whole text, for ``validate`` to explain what is wrong with it."""
    match = NUMBER_IN_TEXT.search(text)
    return match.group(0) if match else text.strip()


def format_address(address: Mapping[str, Any] | None) -> str | None:
    """A register address as one Danish line: "c/o X, Vej 12B, 2. tv, Bynavn, 4600 Køge"."""
    if not address:
        return None

    def text(key: str) -> str:
        value = address.get(key)
        return "" if value is None else str(value).strip()

    street = " ".join(p for p in (text("vejnavn"), text("husnummerFra") + text("bogstavFra")) if p)
    floor = text("etage")
    if floor and not floor.endswith("."):
        floor += "."  # "2" -> "2.", "st" -> "st.", "kl" -> "kl."
    unit = " ".join(p for p in (floor, text("sidedoer")) if p)
    town = text("bynavn")
    postal = " ".join(p for p in (text("postnummer"), text("postdistrikt")) if p)
    parts = [
        f"c/o {text('conavn')}" if text("conavn") else "",
        street,
        unit if street else "",
        town if town.casefold() != text("postdistrikt").casefold() else "",
        postal,
    ]
    return ", ".join(p for p in parts if p) or None


class CvrClient:
    """A CVR register client with retries and an in-memory TTL cache; safe to share between threads.

    Arguments left as None are read from ``bot.settings``. ``clock`` and ``sleep`` can be replaced
    in tests; ``backoff`` is the first pause between attempts (it doubles for each retry).
    """

    def __init__(self, url: str | None = None, user: str | None = None, password: str | None = None,
                 timeout: float | None = None, retries: int | None = None,
                 cache_seconds: float | None = None, *, cache_size: int = 1024, backoff: float = 0.25,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        url = settings.get("CVR_API_URL") if url is None else url
        user = settings.get("CVR_API_USER") if user is None else user
        password = settings.get("CVR_API_PASSWORD") if password is None else password
        self.search_url = url.rstrip("/") + SEARCH_PATH
        self.timeout = settings.number("CVR_API_TIMEOUT") if timeout is None else timeout
        self.retries = settings.integer("CVR_API_RETRIES") if retries is None else retries
        self.cache_seconds = settings.number("CVR_CACHE_SECONDS") if cache_seconds is None else cache_seconds
        self.cache_size = cache_size
        self.backoff = backoff
        self._clock = clock
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        if user or password:
            self._session.auth = (user, password)
        self._cache: OrderedDict[str, tuple[float, Company | None]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, number: str) -> Company | None:
        """The company with CVR number ``number``, or None when the register has none.

        Raises ``InvalidCvr`` (before any request) and ``RegisterUnavailable``.
        """
        cvr = validate(number)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(cvr)
            if cached is not None and cached[0] > now:
                self._cache.move_to_end(cvr)
                return cached[1]
        company = _parse(self._search(cvr), cvr)
        self._remember(cvr, company)
        return company

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> CvrClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _remember(self, cvr: str, company: Company | None) -> None:
        if self.cache_seconds <= 0 or self.cache_size <= 0:
            return
        with self._lock:
            self._cache[cvr] = (self._clock() + self.cache_seconds, company)
            self._cache.move_to_end(cvr)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)  # the least recently used

    def _search(self, cvr: str) -> Any:
        """The register's decoded JSON answer for ``cvr``, retrying transient failures."""
        query = {"query": {"term": {"Vrvirksomhed.cvrNummer": int(cvr)}}, "_source": SOURCE_FIELDS,
                 "size": 1}
        attempts = self.retries + 1
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                self._sleep(self.backoff * 2 ** (attempt - 2))
            try:
                response = self._session.post(self.search_url, json=query, timeout=self.timeout)
            except requests.Timeout:  # before ConnectionError: ConnectTimeout is both
                kind = "timeout"
            except requests.ConnectionError:
                kind = "unreachable"
            except requests.RequestException:
                kind = "request_error"  # e.g. an invalid URL: retrying will not help
                log.warning("CVR look-up %s failed: %s", cvr, kind)
                raise RegisterUnavailable(kind) from None
            else:
                with response:
                    status = response.status_code
                    if status < 400:
                        try:
                            return response.json()
                        except ValueError:
                            kind = "malformed"
                            log.warning("CVR look-up %s failed: %s", cvr, kind)
                            raise RegisterUnavailable(kind) from None
                kind = "auth" if status in (401, 403) else f"http_{status}"
                if status < 500:  # the request itself is wrong: retrying will not help
                    log.warning("CVR look-up %s failed: %s", cvr, kind)
                    raise RegisterUnavailable(kind)
            log.warning("CVR look-up %s failed: %s (attempt %d of %d)", cvr, kind, attempt, attempts)
        raise RegisterUnavailable(kind)


def _parse(answer: Any, cvr: str) -> Company | None:
    """The company in an Elasticsearch answer, None for no hits; ``RegisterUnavailable`` when
    the answer does not have the expected shape."""
    try:
        hits = answer["hits"]["hits"]
        if not isinstance(hits, list):
            raise TypeError
        documents = [hit["_source"]["Vrvirksomhed"] for hit in hits]
        document = next((d for d in documents if str(d["cvrNummer"]) == cvr), None)
        if document is None:
            if documents:  # hits, but for another number: not an answer to our query
                raise ValueError
            return None
        meta = document["virksomhedMetadata"]
        name = meta["nyesteNavn"]["navn"]
        industry = (meta.get("nyesteHovedbranche") or {}).get("branchetekst")
        status = meta.get("sammensatStatus")
        if not isinstance(name, str) or not all(v is None or isinstance(v, str) for v in (industry, status)):
            raise TypeError
        return Company(cvr=cvr, name=name, address=format_address(meta.get("nyesteBeliggenhedsadresse")),
                       industry=industry, status=status)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        log.warning("CVR look-up %s failed: %s", cvr, "unexpected_structure")
        raise RegisterUnavailable("unexpected_structure") from None


@lru_cache(maxsize=1)
def default_client() -> CvrClient:
    """The process's shared client, configured from the settings at first use
    (``default_client.cache_clear()`` makes the next call read them again)."""
    return CvrClient()


def lookup(number: str) -> Company | None:
    """``CvrClient.lookup`` on the shared client."""
    return default_client().lookup(number)
