"""Corrections of Rasa's calls to the action server (``docs/performance.md`` has the profile
behind each one).

1. **The action server's answer is validated with a compiled schema.** Rasa checks every answer
   (``RemoteAction._validate_action_result``) with ``jsonschema.validate``, which first checks the
   *schema itself* against the meta-schema and builds a new validator, on every call: 35 % of
   the Rasa process under load. The schema is checked once and one validator of the same class
   validates every answer, in parts (the answer without events, then each event against
   ``events.items``, which is what ``items`` means), remembering the JSON of events found valid;
   anything that does not pass the parts goes through the whole schema, so the same answers pass
   and the same ``ValidationError`` (with Rasa's hint) is raised.
5. **A message the action server cannot run fails, instead of being answered with nothing.**
   Rasa's ``MessageProcessor._run_action`` logs any exception of an action and carries on
   without the action's events: with the action server down the user got no answer and the
   message was stored as handled (a form's answer swallowed). A remote action that fails that
   way (no connection, 5xx, time-out) is noted, and ``_run_action`` raises
   ``ActionServerUnavailable`` after Rasa's own handling: the message fails as a whole, the
   tracker is not saved, and the channel apologises; the same message works once the action
   server is back. A 400 (the action rejected itself) is Rasa's as before.
9. **The action server is called over kept connections.** ``EndpointConfig.request`` opened a
   new ``aiohttp.ClientSession`` for every call: a TCP connection and a name look-up in a thread
   (6 % of the process). Each endpoint keeps one session per event loop (same headers,
   authentication, time-out), whose idle connections are dropped after 2 s, before the action
   server's (5 s) and nginx's; the body is encoded with ``ujson`` (``json`` for what it cannot).
"""
from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, replace, wrap


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)  # once, instead of for every answer
    return cls(schema)


@lru_cache(maxsize=1)
def _event_validator() -> Any:
    """The validator of one event: the schema's ``events.items`` (it has no ``$ref``)."""
    validator = _action_result_validator()
    return type(validator)(validator.schema["properties"]["events"]["items"])


VALID_EVENTS_KEPT = 4096
_valid_events: OrderedDict[str, None] = OrderedDict()


def _event_is_valid(event: Any) -> bool:
    """Whether one event fits the schema; the JSON text of the valid ones is remembered."""
    import json

    try:
        key = json.dumps(event, sort_keys=True)
    except (TypeError, ValueError):
        return _event_validator().is_valid(event)
    if key in _valid_events:
        _valid_events.move_to_end(key)
        return True
    if not _event_validator().is_valid(event):
        return False
    _valid_events[key] = None
    if len(_valid_events) > VALID_EVENTS_KEPT:
        _valid_events.popitem(last=False)
    return True


def _fits(result: Any) -> bool:
    """The schema's decision, in parts: an answer fits when its other fields fit with no events
    and each of its events fits ``events.items`` (which is what ``items`` means)."""
    events = result.get("events") if isinstance(result, dict) else None
    if not isinstance(events, list):
        return False
    return all(_event_is_valid(event) for event in events) and \
        _action_result_validator().is_valid({**result, "events": []})


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """``RemoteAction._validate_action_result`` with the compiled validator; an answer whose
    events have all been seen valid before is not walked through the schema again."""
    from jsonschema import ValidationError
    from rasa.shared.constants import DOCS_BASE_URL

    if _fits(result):
        return True
    try:  # Rasa's own check: raises the same error as before, or passes what the parts did not
        _action_result_validator().validate(result)
        return True
    except ValidationError as e:
        e.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise e


#: The action server's failure during the current action (noted by the remote action).
_action_server_failure: ContextVar[BaseException | None] = ContextVar("koege_action_server_failure",
                                                                      default=None)


class ActionServerUnavailable(Exception):
    """The action server did not run a custom action (unreachable, 5xx, time-out): the message
    fails, so that the channel apologises and nothing of it is stored."""


def action_server_failed(err: BaseException) -> bool:
    """Whether ``err`` (or what caused it) says the action server did not run the action:
    no connection, a time-out, or a 5xx answer (from it or from the load balancer)."""
    import aiohttp
    from rasa.utils.endpoints import ClientResponseError

    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (aiohttp.ClientConnectionError, asyncio.TimeoutError)):
            return True
        if isinstance(current, ClientResponseError) and current.status >= 500:
            return True
        current = current.__cause__ or current.__context__
    return False


def _remote_run(original: Any) -> Any:
    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        """``RemoteAction.run``, noting a failure of the action server for ``_run_action``."""
        try:
            return await original(self, *args, **kwargs)
        except Exception as err:
            if action_server_failed(err):
                _action_server_failure.set(err)
            raise

    return run


def _run_action_failing(original: Any) -> Any:
    async def _run_action(self: Any, action: Any, *args: Any, **kwargs: Any) -> Any:
        """Rasa's ``_run_action``; then ``ActionServerUnavailable`` if the action server failed
        during it (Rasa itself only logs that and goes on without the action's events)."""
        token = _action_server_failure.set(None)
        try:
            result = await original(self, action, *args, **kwargs)
            failure = _action_server_failure.get()
        finally:
            _action_server_failure.reset(token)
        if failure is not None:
            raise ActionServerUnavailable(action.name()) from failure
        return result

    return _run_action


KEEPALIVE_SECONDS = 2.0  # below the action server's (Sanic: 5 s) and nginx's keep-alive


def fast_json(value: Any) -> str:
    """``json.dumps(value)`` by ujson (same JSON text up to escaping ``/``); anything ujson
    cannot encode (a very large integer, an unknown type) by ``json.dumps``, as before."""
    import json

    import ujson

    try:
        return ujson.dumps(value)
    except (TypeError, OverflowError, ValueError):
        return json.dumps(value)


class _KeptSession:
    """``async with`` that hands out a kept session and does not close it."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *_: object) -> None:
        return None


def _kept_session(original: Any) -> Any:
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT

    def session(self: Any) -> Any:
        """``EndpointConfig.session``: one session per endpoint and event loop, kept open."""
        loop = asyncio.get_running_loop()
        kept = self.__dict__.setdefault("_koege_sessions", weakref.WeakKeyDictionary())
        current = kept.get(loop)
        if current is None or current.closed:
            auth = self.basic_auth
            current = aiohttp.ClientSession(  # as Rasa's: headers, authentication, time-out
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                json_serialize=fast_json)
            kept[loop] = current
            _KEPT_SESSIONS.add(current)
        return _KeptSession(current)

    return session


_KEPT_SESSIONS: weakref.WeakSet = weakref.WeakSet()  # the sessions opened by patch 9


async def close_kept_sessions() -> None:
    """Close the sessions of patch 9 that belong to the running loop (at server stop)."""
    loop = asyncio.get_running_loop()
    for session in list(_KEPT_SESSIONS):
        if not session.closed and session._loop is loop:
            await session.close()


def _install_1() -> None:
    from rasa.core.actions.action import RemoteAction

    replace(RemoteAction, "_validate_action_result", _validate_action_result)


def _install_5() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.core.processor import MessageProcessor

    wrap(RemoteAction, "run", _remote_run)
    wrap(MessageProcessor, "_run_action", _run_action_failing)


def _install_9() -> None:
    from rasa.utils.endpoints import EndpointConfig

    wrap(EndpointConfig, "session", _kept_session)


CORRECTIONS = (
    Correction(1, "action server answers validated with a compiled schema", Kind.SPEED, (
        Target("rasa.core.actions.action:RemoteAction._validate_action_result", "f8cdb4be68123961"),
        Target("rasa.core.actions.action:RemoteAction.action_response_format_spec", "091b74aa3738d126"),
    ), _install_1),
    Correction(5, "a message the action server cannot run fails", Kind.BEHAVIOUR, (
        Target("rasa.core.actions.action:RemoteAction.run", "ccabf6f1160d527a"),
        Target("rasa.core.processor:MessageProcessor._run_action", "6d383d0179ef1187"),
    ), _install_5),
    Correction(9, "the action server over kept connections", Kind.SPEED, (
        Target("rasa.utils.endpoints:EndpointConfig.session", "e55aa13d9d4fb4bc"),
        Target("rasa.utils.endpoints:EndpointConfig.request", "ccdb778aed8208e2"),
    ), _install_9),
)
