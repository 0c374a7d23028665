"""Messages to a conversation during a handover, on the channel the user chose.

Each message is first appended to the conversation in Rasa (``POST
/conversations/{id}/tracker/events``, Rasa's HTTP API with its token), so the transcript holds
it as a bot line with ``metadata.staff`` (who wrote it) and ``metadata.kind = "person"``:

- **web widget** (socket.io): the same call with ``execute_side_effects=true&output_channel=
  socketio`` makes Rasa emit it to the browser's session room (and, with Redis, from whichever
  worker holds the WebSocket);
- **Telegram**: the bridge's ``/push`` delivers it to the chat;
- **REST**: stored only (a REST client fetches nothing it did not ask for).

Pausing and resuming the assistant are the ``pause`` / ``resume`` events of the same API
(Rasa's conversation pause: while paused, user messages are stored but not answered);
``paused`` asks Rasa whether a conversation is paused, so that a pause is appended only once.

**One outcome.** What Rasa stored is what happened: the conversation's state (paused or not)
and its transcript live there. ``send`` raises ``DeliveryError`` only when Rasa did not take
the events, and then nothing happened; once Rasa has them, a Telegram push that fails does
not undo anything (the caller keeps its state and tells staff, ``Sent.problem``). A bridge
that answers 410 (the user blocked the bot: they left) counts as delivered.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot import settings, wording
from bot.channels import identity

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=5)
GONE = 410  # the bridge's answer when the user has blocked the bot


class DeliveryError(Exception):
    """Rasa did not take the message (so nothing happened); the text says why, in Danish."""


@dataclass(frozen=True)
class Sent:
    """Rasa stored the events. ``problem``: why the user may not have seen them (Danish, for
    staff), or None; ``left``: the user has blocked the bot on Telegram."""

    problem: str | None = None
    left: bool = False


def addressable(sender_id: str) -> bool:
    """Whether staff's messages can reach this conversation through Rasa's HTTP API: only ids
    of the plain alphabet (``bot.channels.identity``), which cannot change the URL they are
    put into (``x/../telegram:1`` would reach another conversation)."""
    return identity.valid(sender_id)


def channel_of(sender_id: str, input_channel: str | None) -> str:
    """socketio | telegram | rest: where the user is."""
    if identity.namespace(sender_id) == identity.TELEGRAM:
        return "telegram"
    return "socketio" if input_channel == "socketio" else "rest"


def bot_event(text: str, staff: str | None = None, response: str | None = None,
              buttons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A bot line: written by ``staff``, or the handover's own wording (``response``). The
    staff member's sign-in name stays in the transcript (``metadata.staff``); users are shown
    "Medarbejder, Køge Kommune", never a sign-in name."""
    metadata: dict[str, Any] = {"kind": "person" if staff else "notice"}
    if staff:
        metadata["staff"] = staff
    if response:
        metadata["utter_action"] = response
    return {"event": "bot", "text": text, "data": {"buttons": buttons or []}, "metadata": metadata}


def wording_event(response: str, lang: str, **values: Any) -> dict[str, Any]:
    """A bot line of the domain's wording (its text and buttons in the user's language)."""
    message = wording.message(response, lang, **values)
    return bot_event(message["text"], response=response, buttons=message.get("buttons"))


async def _post(url: str, what: str, **options: Any) -> int:
    """POST to one of the assistant's own services: its HTTP status, or DeliveryError (Danish)
    when it cannot be reached. ``what`` names the service in the log and the message."""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.post(url, **options) as answer:
            if answer.status != 200:
                log.warning("%s refused a handover message (HTTP %s)", what, answer.status)
            return answer.status
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("%s could not be reached for a handover (%s)", what, type(err).__name__)
        raise DeliveryError(f"{what} kan ikke nås lige nu. Prøv igen om lidt.") from None


async def _rasa(sender_id: str, events: list[dict[str, Any]], emit: bool) -> None:
    url = _tracker_url(sender_id) + "/events"
    params = _api_token()
    if emit:
        params.update(execute_side_effects="true", output_channel="socketio")
    if await _post(url, "Assistenten", params=params, json=events) != 200:
        raise DeliveryError("Assistenten tog ikke imod beskeden.")


def _tracker_url(sender_id: str) -> str:
    if not addressable(sender_id):
        raise DeliveryError("Samtalens id kan ikke bruges i Rasas API (mellemrum eller særlige tegn).")
    return settings.get("RASA_INTERNAL_URL").rstrip("/") + f"/conversations/{sender_id}/tracker"


def _api_token() -> dict[str, str]:
    return {"token": settings.secret_file("RASA_API_TOKEN", "api-token")}


async def paused(sender_id: str) -> bool:
    """Whether Rasa has the conversation paused (DeliveryError when Rasa cannot say)."""
    params = {**_api_token(), "include_events": "NONE"}
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session, \
                session.get(_tracker_url(sender_id), params=params) as answer:
            if answer.status == 200:
                state = await answer.json(content_type=None)
                if isinstance(state, dict):
                    return state.get("paused") is True
            log.warning("Rasa did not say whether a conversation is paused (HTTP %s)", answer.status)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        log.warning("Rasa could not be asked whether a conversation is paused (%s)", type(err).__name__)
        raise DeliveryError("Assistenten kan ikke nås lige nu. Prøv igen om lidt.") from None
    raise DeliveryError("Assistenten tog ikke imod beskeden.")


async def _telegram(sender_id: str, event: dict[str, Any], lang: str) -> int:
    """Push one bot line to the Telegram chat: the bridge's HTTP status."""
    url = settings.get("TELEGRAM_PUSH_URL").rstrip("/") + "/push"
    token = settings.secret_file("TELEGRAM_PUSH_TOKEN", "telegram-push-token")
    text = event["text"]
    if event["metadata"].get("staff"):  # Telegram shows every message as the bot's: the text says a person wrote it
        text = wording.text("utter_handover_from_person", lang) + "\n" + text
    body = {"sender_id": sender_id, "text": text,
            "buttons": [b for b in event["data"]["buttons"] if b.get("payload")]}
    return await _post(url, "Telegram-broen", json=body, headers={"Authorization": f"Bearer {token}"})


LEFT = "Brugeren har blokeret assistenten på Telegram og modtager ikke flere beskeder."
NOT_PUSHED = ("Beskeden er gemt i samtalen, men Telegram-broen kunne ikke levere den til brugeren "
              "lige nu. Skriv igen om lidt, eller afslut samtalen.")


async def send(sender_id: str, channel: str, events: list[dict[str, Any]], lang: str = "da") -> Sent:
    """Append ``events`` to the conversation and deliver its bot lines to the user.

    DeliveryError: Rasa did not take them, nothing happened. Otherwise they are in the
    conversation, and ``Sent`` says whether the user could not be reached."""
    await _rasa(sender_id, events, emit=channel == "socketio")
    if channel != "telegram":
        return Sent()
    for event in events:
        if event.get("event") != "bot":
            continue
        try:
            status = await _telegram(sender_id, event, lang)
        except DeliveryError:
            return Sent(NOT_PUSHED)
        if status == GONE:
            log.info("a handover message was not pushed: the user has blocked the bot")
            return Sent(LEFT, left=True)
        if status != 200:
            return Sent(NOT_PUSHED)
    return Sent()


PAUSE = {"event": "pause"}
RESUME = {"event": "resume"}
#: After a hand-back the assistant waits for the user's next message, as after any answer.
LISTEN = {"event": "action", "name": "action_listen"}
