"""The one reader of Rasa's tracker store (``TRACKER_URL``, table ``events``), shared by the
staff console, retention and erasure.

Rasa's ``SQLTrackerStore`` writes one row per event: ``sender_id``, ``type_name`` (user, bot,
action, slot, active_loop, …), ``timestamp`` (seconds), ``intent_name`` (user events),
``action_name`` (the event's ``name``: an action's, a slot's or a form's) and ``data`` (the
event as JSON). ``tracker_engine()`` and ``events_table()`` give access for deletes;
``ConversationIndex`` summarises each conversation (cached by its newest and oldest event id
and event count, so a page parses only what changed, and a purge of older messages by another
process is seen) for the filtered list, triage and dashboard; ``transcript()`` reads one
conversation in full.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot import answers, settings

TZ = ZoneInfo("Europe/Copenhagen")
LOW_CONFIDENCE = 0.6  # a user message whose best intent is below this is "low confidence"
FALLBACK_INTENT = "nlu_fallback"
CLARIFY_ACTION = "action_clarify"
OUT_OF_SCOPE_ACTION = "action_out_of_scope"
PERSON_INTENT = "request_human"
HANDOVER_ACTION = "action_handover"
BOOK_ACTION = "action_book_visit"
VISIT_FORM = "visit_form"
#: Rasa's input channel name -> the console's channel
CHANNELS = {"socketio": "web", "telegram": "telegram", "rest": "rest"}
CHANNEL_LABELS = {"web": "Web", "telegram": "Telegram", "rest": "REST", "other": "Andet"}
HIDDEN_ACTIONS = {"action_listen", "action_session_start"}
#: In the JSON of a bot event that quotes a document (``metadata.document.passage``).
QUOTE_MARK = '"passage"'
#: In the JSON of a bot event that gives an answer as the closest the assistant has
#: (``metadata.unsure``, set by ``actions/knowledge_answers.answer_topic``).
UNSURE_MARK = '"unsure"'
CHUNK = 200


def tracker_url(url: str | None = None) -> sa.engine.URL:
    """The SQLAlchemy URL of the tracker store (``TRACKER_URL``, as Rasa uses it)."""
    parsed = sa.engine.make_url(url or settings.get("TRACKER_URL"))
    if parsed.get_backend_name() == "sqlite" and parsed.database and not parsed.database.startswith("/"):
        parsed = parsed.set(database=str(settings.ROOT / parsed.database))  # relative to the project
    return parsed


def tracker_engine(url: str | None = None) -> sa.engine.Engine:
    """The engine of the tracker store, one per URL per process."""
    return _engine(tracker_url(url).render_as_string(hide_password=False))


@lru_cache(maxsize=8)
def _engine(url: str) -> sa.engine.Engine:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sa.create_engine(parsed, future=True, connect_args={"timeout": 30})
    return sa.create_engine(parsed, future=True, pool_pre_ping=True)


def events_table(engine: sa.engine.Engine) -> sa.Table | None:
    """Rasa's ``events`` table, or None while Rasa has stored nothing yet."""
    if not sa.inspect(engine).has_table("events"):
        return None
    return sa.Table("events", sa.MetaData(), autoload_with=engine)


def channel_of(input_channel: str | None) -> str:
    return CHANNELS.get(input_channel or "", "other") if input_channel else "other"


def local_time(timestamp: float | None) -> dt.datetime | None:
    return None if timestamp is None else dt.datetime.fromtimestamp(timestamp, TZ).replace(tzinfo=None)


def _ranking(parse: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The intent ranking without the fallback classifier's own entry."""
    ranking = [(r.get("name"), float(r.get("confidence") or 0.0)) for r in parse.get("intent_ranking") or []
               if r.get("name") and r.get("name") != FALLBACK_INTENT]
    if not ranking:
        intent = parse.get("intent") or {}
        if intent.get("name") and intent.get("name") != FALLBACK_INTENT:
            ranking = [(intent["name"], float(intent.get("confidence") or 0.0))]
    return ranking


@dataclass
class UserLine:
    """One user message as the classifier saw it."""

    event_id: int
    timestamp: float
    text: str
    intent: str | None  # as classified (may be nlu_fallback)
    confidence: float  # of the best real intent (the fallback classifier's entry left out)
    guess: str | None  # the best real intent
    runner_up: str | None
    runner_up_confidence: float | None
    channel: str
    unanswered: bool = False  # fallback, clarification, out of scope or an unsure answer followed
    #: answered with a quote from a document: the passage's and the document's id (the bot
    #: event's ``metadata.document``, set by ``actions/knowledge_answers.say_quote``)
    passage: str | None = None
    document: str | None = None

    @property
    def is_payload(self) -> bool:
        return self.text.startswith("/")

    @property
    def fallback(self) -> bool:
        return self.intent == FALLBACK_INTENT

    @property
    def when(self) -> dt.datetime | None:
        return local_time(self.timestamp)


def user_line(event_id: int, data: Mapping[str, Any]) -> UserLine:
    parse = data.get("parse_data") or {}
    ranking = _ranking(parse)
    guess, confidence = ranking[0] if ranking else (None, 0.0)
    runner_up, runner_conf = ranking[1] if len(ranking) > 1 else (None, None)
    return UserLine(event_id=event_id, timestamp=float(data.get("timestamp") or 0.0),
                    text=str(data.get("text") or ""), intent=(parse.get("intent") or {}).get("name"),
                    confidence=confidence, guess=guess, runner_up=runner_up,
                    runner_up_confidence=runner_conf, channel=channel_of(data.get("input_channel")))


@dataclass
class Summary:
    """What the list, triage and dashboard need of one conversation."""

    sender_id: str
    last_event_id: int = 0
    first: float = 0.0
    last: float = 0.0
    channel: str = "other"
    messages: list[UserLine] = field(default_factory=list)
    intents: set[str] = field(default_factory=set)
    fallback: bool = False  # nlu_fallback intent
    clarified: bool = False  # action_clarify ran
    person: bool = False  # request_human or action_handover
    booked: bool = False  # action_book_visit ran
    form_started: bool = False  # the visit form was started

    @property
    def started(self) -> dt.datetime | None:
        return local_time(self.first)

    @property
    def ended(self) -> dt.datetime | None:
        return local_time(self.last)

    @property
    def preview(self) -> str:
        for line in self.messages:
            if not line.is_payload:
                return line.text
        return self.messages[0].text if self.messages else ""

    def min_confidence(self) -> float | None:
        typed = [m.confidence for m in self.messages if not m.is_payload]
        return min(typed) if typed else None

    def low_confidence(self, under: float = LOW_CONFIDENCE) -> bool:
        lowest = self.min_confidence()
        return lowest is not None and lowest < under

    @property
    def failed(self) -> bool:
        return self.fallback or self.clarified


def summarise(sender_id: str, rows: Iterable[tuple[int, str, float | None, str | None, str | None, str]]) -> Summary:
    """A ``Summary`` from a conversation's rows (id, type_name, timestamp, intent, action, data)."""
    summary = Summary(sender_id)
    last_user: UserLine | None = None
    for event_id, type_name, timestamp, _intent, action, data in rows:
        summary.last_event_id = max(summary.last_event_id, event_id)
        if timestamp is not None:
            summary.first = timestamp if not summary.first else min(summary.first, timestamp)
            summary.last = max(summary.last, timestamp)
        if type_name == "user":
            line = user_line(event_id, _json(data))
            summary.messages.append(line)
            last_user = line
            if line.channel != "other" or summary.channel == "other":
                summary.channel = line.channel
            if line.intent:
                summary.intents.add(line.intent)
            summary.fallback |= line.intent == FALLBACK_INTENT
            summary.person |= line.intent == PERSON_INTENT
            if line.intent == FALLBACK_INTENT:
                line.unanswered = True
        elif type_name == "action":
            summary.clarified |= action == CLARIFY_ACTION
            summary.person |= action == HANDOVER_ACTION
            summary.booked |= action == BOOK_ACTION
            if last_user is not None and action in (CLARIFY_ACTION, OUT_OF_SCOPE_ACTION):
                last_user.unanswered = True
        elif type_name == "active_loop":
            summary.form_started |= action == VISIT_FORM
        elif type_name == "bot" and last_user is not None and data and (QUOTE_MARK in data or UNSURE_MARK in data):
            metadata = _json(data).get("metadata") or {}
            last_user.unanswered |= metadata.get("unsure") is True
            quoted = metadata.get("document")
            if isinstance(quoted, dict) and quoted.get("passage"):
                last_user.passage = str(quoted["passage"])
                last_user.document = str(quoted.get("document") or last_user.passage.split("/")[0])
    return summary


def _json(text: str | None) -> dict[str, Any]:
    try:
        found = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


@dataclass
class Filters:
    """The conversation list's filters; ``from_query`` / ``query`` read and write them as the
    page's query string (Danish parameter names), so links keep the filter."""

    fra: dt.date | None = None  # date range (local dates of activity)
    til: dt.date | None = None
    kanal: str = ""  # web | telegram | rest
    intent: str = ""
    lav: bool = False  # low confidence
    under: float = LOW_CONFIDENCE
    fallback: bool = False  # fallback or clarification happened
    person: bool = False  # a person was requested
    booking: bool = False  # a booking was made
    afbrudt: bool = False  # a booking was started and not made
    negativ: bool = False  # negative feedback
    ikke_gennemgaaet: bool = False  # not reviewed yet
    tekst: str = ""  # free text in the user's messages (or the conversation id)
    side: int = 1

    FLAGS = ("lav", "fallback", "person", "booking", "afbrudt", "negativ", "ikke_gennemgaaet")

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        def day(name: str) -> dt.date | None:
            try:
                return dt.date.fromisoformat(query.get(name, "").strip()) if query.get(name) else None
            except ValueError:
                return None

        def number(name: str, default: float, low: float, high: float) -> float:
            try:
                return min(max(float(query.get(name, default)), low), high)
            except ValueError:
                return default

        kanal = query.get("kanal", "")
        return cls(fra=day("fra"), til=day("til"), kanal=kanal if kanal in CHANNEL_LABELS else "",
                   intent=query.get("intent", "").strip()[:100],
                   under=number("under", LOW_CONFIDENCE, 0.0, 1.0),
                   tekst=query.get("tekst", "").strip()[:200], side=int(number("side", 1, 1, 10_000)),
                   **{flag: query.get(flag) in ("1", "on", "ja") for flag in cls.FLAGS})

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (only those set), with ``changes`` applied."""
        out: dict[str, str] = {}
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        for name, value in values.items():
            default = getattr(Filters, name, None)
            if value in (None, "", False) or (name == "side" and value == 1) or (name == "under" and value == default):
                continue
            out[name] = "1" if value is True else (value.isoformat() if isinstance(value, dt.date) else str(value))
        return out

    @property
    def active(self) -> bool:
        return bool(self.query(side=1))


@dataclass(frozen=True)
class Facts:
    """What the assistant's own database knows about conversations (for the filters)."""

    negative: frozenset[str] = frozenset()  # thumbs down
    bookings: frozenset[str] = frozenset()  # a booking stored
    reviewed: frozenset[str] = frozenset()

    @classmethod
    def load(cls, url: str | None = None) -> Facts:
        from bot.store import db
        from bot.store.models import Booking, ConversationReview, Feedback

        with db.session(url) as s:
            return cls(
                negative=frozenset(s.scalars(sa.select(Feedback.sender_id).where(Feedback.rating == "down"))),
                bookings=frozenset(s.scalars(sa.select(Booking.sender_id))),
                reviewed=frozenset(s.scalars(sa.select(ConversationReview.sender_id).where(
                    ConversationReview.reviewed_at.is_not(None)))))


def matches(summary: Summary, filters: Filters, facts: Facts) -> bool:
    """Whether one conversation passes every filter that is set."""
    sid = summary.sender_id
    if filters.fra and (summary.ended is None or summary.ended.date() < filters.fra):
        return False
    if filters.til and (summary.started is None or summary.started.date() > filters.til):
        return False
    if filters.kanal and summary.channel != filters.kanal:
        return False
    if filters.intent and filters.intent not in summary.intents and not any(
            m.guess == filters.intent for m in summary.messages):
        return False
    checks = (
        (filters.lav, lambda: summary.low_confidence(filters.under)),
        (filters.fallback, lambda: summary.failed),
        (filters.person, lambda: summary.person),
        (filters.booking, lambda: summary.booked or sid in facts.bookings),
        (filters.afbrudt, lambda: summary.form_started and not summary.booked and sid not in facts.bookings),
        (filters.negativ, lambda: sid in facts.negative),
        (filters.ikke_gennemgaaet, lambda: sid not in facts.reviewed),
    )
    if any(wanted and not test() for wanted, test in checks):
        return False
    if filters.tekst:
        needle = filters.tekst.lower()
        if needle not in sid.lower() and not any(needle in m.text.lower() for m in summary.messages):
            return False
    return True


class ConversationIndex:
    """Summaries of every conversation in the tracker store, kept up to date cheaply: one
    grouped query finds each conversation's newest and oldest event id and its number of
    events, and only conversations where one of them changed (or that are new) are read again.
    Erased conversations drop out, and so do the texts of messages the retention purge deleted
    (in any process: the action server runs it), also when newer messages of the conversation
    are kept."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self._cache: dict[str, Summary] = {}
        #: sender id -> (newest event id, oldest event id, events) when its summary was read
        self._versions: dict[str, tuple[int, int, int]] = {}
        self._lock = threading.Lock()

    @property
    def engine(self) -> sa.engine.Engine:
        return tracker_engine(self.url)

    def summaries(self) -> list[Summary]:
        """Every conversation, newest activity first."""
        with self._lock:
            table = events_table(self.engine)
            if table is None:
                self._cache.clear()
                self._versions.clear()
                return []
            c = table.c
            with self.engine.connect() as connection:
                versions = {sid: (int(top), int(first), int(n)) for sid, top, first, n in connection.execute(
                    sa.select(c.sender_id, sa.func.max(c.id), sa.func.min(c.id), sa.func.count())
                    .group_by(c.sender_id))}
                stale = [sid for sid, version in versions.items()
                         if sid not in self._cache or self._versions.get(sid) != version]
                for start in range(0, len(stale), CHUNK):
                    chunk = stale[start:start + CHUNK]
                    self._read(connection, table, chunk)
                    self._versions.update((sid, versions[sid]) for sid in chunk)
            for gone in set(self._cache) - set(versions):
                self._drop(gone)
            found = [s for s in self._cache.values() if s.messages]
        return sorted(found, key=lambda s: s.last, reverse=True)

    def forget(self, sender_id: str) -> None:
        """Drop a conversation's summary (its texts) at once, e.g. after erasing it."""
        with self._lock:
            self._drop(sender_id)

    def _drop(self, sender_id: str) -> None:
        self._cache.pop(sender_id, None)
        self._versions.pop(sender_id, None)

    def _read(self, connection: sa.engine.Connection, table: sa.Table, senders: list[str]) -> None:
        c = table.c
        rows = connection.execute(
            sa.select(c.sender_id, c.id, c.type_name, c.timestamp, c.intent_name, c.action_name, c.data)
            .where(c.sender_id.in_(senders),
                   sa.or_(c.type_name.in_(("user", "action", "active_loop")),
                          sa.and_(c.type_name == "bot", sa.or_(c.data.contains(QUOTE_MARK, autoescape=True),
                                                               c.data.contains(UNSURE_MARK, autoescape=True)))))
            .order_by(c.sender_id, c.id))
        grouped: dict[str, list] = {sid: [] for sid in senders}
        for sid, *rest in rows:
            grouped[sid].append(rest)
        for sid, events in grouped.items():
            self._cache[sid] = summarise(sid, events)

    def find(self, filters: Filters, facts: Facts | None = None) -> list[Summary]:
        facts = facts if facts is not None else Facts.load()
        return [s for s in self.summaries() if matches(s, filters, facts)]


# --- one conversation in full ---------------------------------------------------------


@dataclass
class Turn:
    """One line of a transcript: a user message, a bot reply, an action or another event."""

    kind: str  # user | bot | action | form | pause | other
    event_id: int
    timestamp: float
    text: str = ""
    user: UserLine | None = None
    name: str | None = None  # action / form name
    policy: str | None = None
    confidence: float | None = None
    buttons: list[str] = field(default_factory=list)
    staff: str | None = None  # a bot line written by this member of staff (a handover)
    footer: list[str] = field(default_factory=list)  # a factual answer's footer (``text`` is its body)

    @property
    def when(self) -> dt.datetime | None:
        return local_time(self.timestamp)

    @property
    def whole_text(self) -> str:
        """The text with an answer's footer, as the user read it."""
        return "\n\n".join([self.text, "\n".join(self.footer)]) if self.footer else self.text


@dataclass
class Transcript:
    sender_id: str
    turns: list[Turn]
    slots: dict[str, Any]
    summary: Summary

    def user_turn(self, event_id: int) -> UserLine | None:
        for turn in self.turns:
            if turn.user is not None and turn.event_id == event_id:
                return turn.user
        return None


def _events(sender_id: str, engine: sa.engine.Engine) -> Iterator[tuple]:
    table = events_table(engine)
    if table is None:
        return iter(())
    c = table.c
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(c.id, c.type_name, c.timestamp, c.intent_name, c.action_name, c.data)
            .where(c.sender_id == sender_id).order_by(c.id)).all()
    return iter(rows)


def transcript(sender_id: str, url: str | None = None) -> Transcript | None:
    """The whole conversation, or None if the tracker store has no user message of it."""
    rows = list(_events(sender_id, tracker_engine(url)))
    summary = summarise(sender_id, rows)
    if not summary.messages:
        return None
    by_id = {m.event_id: m for m in summary.messages}
    turns: list[Turn] = []
    slots: dict[str, Any] = {}
    for event_id, type_name, timestamp, _intent, action, text in rows:
        data = _json(text)
        ts = float(timestamp or 0.0)
        if type_name == "user":
            turns.append(Turn("user", event_id, ts, text=by_id[event_id].text, user=by_id[event_id]))
        elif type_name == "bot":
            buttons = [str(b.get("title", "")) for b in (data.get("data") or {}).get("buttons") or []
                       if isinstance(b, dict)]
            staff = (data.get("metadata") or {}).get("staff")
            parts = answers.of(data.get("data") or {})  # a factual answer: its body, then its footer
            turns.append(Turn("bot", event_id, ts, text=parts["body"] if parts else str(data.get("text") or ""),
                              buttons=buttons, staff=str(staff) if staff else None,
                              footer=parts["footer"] if parts else []))
        elif type_name == "action" and action not in HIDDEN_ACTIONS:
            confidence = data.get("confidence")
            turns.append(Turn("action", event_id, ts, name=action, policy=data.get("policy"),
                              confidence=float(confidence) if confidence is not None else None))
        elif type_name == "active_loop":
            turns.append(Turn("form", event_id, ts, name=action))  # None: the form ended
        elif type_name in ("pause", "resume"):
            turns.append(Turn("pause" if type_name == "pause" else "other", event_id, ts, name=type_name))
        elif type_name == "slot" and action:
            slots[action] = data.get("value")
        elif type_name in ("session_started", "restart", "reset_slots"):
            if type_name != "session_started" or turns:
                turns.append(Turn("other", event_id, ts, name=type_name))
            if type_name != "session_started":
                slots = {}
    return Transcript(sender_id, turns, slots, summary)
