"""A real local HTTP server that answers like Erhvervsstyrelsen's CVR register (Elasticsearch).

    with FakeCvrRegister() as register:          # 127.0.0.1, a free port
        client = CvrClient(register.url, register.user, register.password)
        register.mode = ERROR                    # every request now gets a 500
        register.queue(ERROR, OK)                # or: the next two requests, then ``mode`` again
        assert len(register.requests) == ...

It serves ``POST /cvr-permanent/virksomhed/_search`` with a ``term`` query on
``Vrvirksomhed.cvrNummer`` and HTTP basic auth (401 when wrong), and counts every request.
Modes:

- ``OK``: the company from ``companies`` (empty hits for an unknown number);
- ``NOT_FOUND``: empty hits for every number;
- ``ERROR``: 500;
- ``SLOW``: waits ``delay`` seconds, then answers as ``OK``;
- ``MALFORMED``: 200 with truncated JSON;
- ``UNEXPECTED``: 200 with valid JSON of the wrong shape.
"""
from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SEARCH_PATH = "/cvr-permanent/virksomhed/_search"
OK, NOT_FOUND, ERROR, SLOW, MALFORMED, UNEXPECTED = "ok", "not_found", "error", "slow", "malformed", "unexpected"
MODES = (OK, NOT_FOUND, ERROR, SLOW, MALFORMED, UNEXPECTED)


def company(cvr: int, name: str, address: dict[str, Any], industry: str | None = None,
            status: str = "NORMAL") -> dict[str, Any]:
    """A ``Vrvirksomhed`` document with the fields the client reads."""
    return {
        "cvrNummer": cvr,
        "reklamebeskyttet": False,
        "virksomhedMetadata": {
            "nyesteNavn": {"navn": name, "periode": {"gyldigFra": "2007-01-01", "gyldigTil": None}},
            "nyesteBeliggenhedsadresse": {
                "landekode": "DK", "vejnavn": None, "husnummerFra": None, "bogstavFra": None,
                "etage": None, "sidedoer": None, "postnummer": None, "postdistrikt": None,
                "bynavn": None, "conavn": None, **address,
            },
            "nyesteHovedbranche": ({"branchekode": "841100", "branchetekst": industry} if industry else None),
            "sammensatStatus": status,
        },
    }


#: Køge Kommune as the register shows it, and a made-up company with every address field.
KOEGE_KOMMUNE = company(29189374, "KØGE KOMMUNE",
                        {"vejnavn": "Torvet", "husnummerFra": 1, "postnummer": 4600, "postdistrikt": "Køge"},
                        industry="Generelle offentlige tjenester")
TESTFIRMA = company(12345674, "TESTFIRMA ApS",
                    {"vejnavn": "Søndre Alle", "husnummerFra": 12, "bogstavFra": "B", "etage": "1",
                     "sidedoer": "th", "bynavn": "Ølsemagle", "postnummer": 4600, "postdistrikt": "Køge",
                     "conavn": "Revisor Hansen"},
                    status="OPHØRT")


@dataclass(frozen=True)
class Request:
    """One request the server received."""
    method: str
    path: str
    authorized: bool
    body: Any  # the decoded JSON body, None when there was none or it was not JSON
    cvr: str | None  # the number in the term query, when there was one


class FakeCvrRegister:
    """The fake register; start()/stop() or use it as a context manager. ``url`` is its base URL."""

    def __init__(self, companies: list[dict[str, Any]] | None = None, user: str = "koege-bot",
                 password: str = "hemmelig-kode", delay: float = 5.0) -> None:
        self.companies = {str(c["cvrNummer"]): c for c in (companies or [KOEGE_KOMMUNE, TESTFIRMA])}
        self.user = user
        self.password = password
        self.delay = delay  # seconds a SLOW answer waits (stop() cuts it short)
        self._mode = OK
        self._queued: list[str] = []
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        self._mode = mode

    def queue(self, *modes: str) -> None:
        """Answer the next requests in these modes, one each, then in ``mode`` again."""
        for mode in modes:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._lock:
            self._queued.extend(modes)

    @property
    def requests(self) -> list[Request]:
        """The requests received so far (a copy), including refused ones."""
        with self._lock:
            return list(self._requests)

    def reset(self) -> None:
        """Back to mode ``OK`` with no queued modes and no recorded requests."""
        with self._lock:
            self._mode, self._queued, self._requests = OK, [], []

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake CVR register is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCvrRegister:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-cvr-register", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes SLOW answers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeCvrRegister:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- answering ---------------------------------------------------------------------------
    def _record(self, request: Request) -> str:
        """Records ``request``; the mode to answer it in."""
        with self._lock:
            self._requests.append(request)
            return self._queued.pop(0) if self._queued else self._mode

    def _authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return header == f"Basic {expected}"

    def _answer(self, mode: str, cvr: str) -> tuple[int, bytes]:
        if mode == ERROR:
            return 500, _json({"error": {"type": "internal_server_error", "reason": "fake failure"}, "status": 500})
        if mode == MALFORMED:
            return 200, b'{"took": 1, "hits": {"total": 1, "hits": [{"_source": {"Vrvirksomhed": '
        if mode == UNEXPECTED:
            return 200, _json({"hits": {"total": 1, "hits": [{"_source": {"Vrvirksomhed": {"cvrNummer": int(cvr)}}}]}})
        if mode == SLOW:
            self._stopping.wait(self.delay)
        found = self.companies.get(cvr) if mode != NOT_FOUND else None
        hits = [{"_index": "cvr-v-20240101", "_type": "_doc", "_id": cvr, "_score": 1.0,
                 "_source": {"Vrvirksomhed": found}}] if found else []
        return 200, _json({"took": 1, "timed_out": False,
                           "_shards": {"total": 6, "successful": 6, "skipped": 0, "failed": 0},
                           "hits": {"total": len(hits), "max_score": 1.0 if hits else None, "hits": hits}})


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _term_cvr(body: Any) -> str | None:
    """The CVR number of an Elasticsearch ``{"query": {"term": {"Vrvirksomhed.cvrNummer": N}}}``."""
    try:
        term = body["query"]["term"]["Vrvirksomhed.cvrNummer"]
    except (KeyError, TypeError):
        return None
    if isinstance(term, dict):  # the long form {"value": N}
        term = term.get("value")
    return str(term) if isinstance(term, (int, str)) and str(term).isdigit() else None


def _handler_for(register: FakeCvrRegister) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            authorized = register._authorized(self.headers.get("Authorization"))
            cvr = _term_cvr(body)
            mode = register._record(Request("POST", self.path, authorized, body, cvr))
            if not authorized:
                self._send(401, _json({"error": "security_exception", "status": 401}),
                           {"WWW-Authenticate": 'Basic realm="security" charset="UTF-8"'})
            elif self.path.split("?")[0] != SEARCH_PATH:
                self._send(404, _json({"error": "index_not_found_exception", "status": 404}))
            elif cvr is None:
                self._send(400, _json({"error": "parsing_exception", "status": 400}))
            else:
                self._send(*register._answer(mode, cvr))

        def do_GET(self) -> None:
            register._record(Request("GET", self.path, register._authorized(self.headers.get("Authorization")),
                                     None, None))
            self._send(405, _json({"error": "method not allowed", "status": 405}))

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timed out) before the answer
                pass

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler
