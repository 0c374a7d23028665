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
(Rasa's conversation pause: while paused, user messages are stored but not answered).
"""
from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from bot import settings, wording

log = logging.getLogger(__name__)
TELEGRAM_PREFIX = "telegram:"
TIMEOUT = aiohttp.ClientTimeout(total=15, sock_connect=5)


class DeliveryError(Exception):
    """Rasa or the Telegram bridge did not take the message; the text says which, in Danish."""


#: Characters a conversation id may have to be reached through Rasa's HTTP API: Rasa's routes
#: (Sanic) do not decode percent-escapes, so an id with a space, "?", "#", "%" or a non-ASCII
#: letter cannot be named in the URL (the widget's and Telegram's ids never have them).
URL_SAFE = "/:@!$&'()*+,;=-._~"


def addressable(sender_id: str) -> bool:
    """Whether staff's messages can reach this conversation through Rasa's HTTP API."""
    return bool(sender_id) and quote(sender_id, safe=URL_SAFE) == sender_id


def channel_of(sender_id: str, input_channel: str | None) -> str:
    """socketio | telegram | rest: where the user is."""
    if sender_id.startswith(TELEGRAM_PREFIX):
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


async def _post(url: str, what: str, refused: dict[int, str], **options: Any) -> None:
    """POST to one of the assistant's own services; DeliveryError (Danish) unless it answers 200.
    ``what`` names the service in the log and the message; ``refused`` words special statuses."""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.post(url, **options) as answer:
            if answer.status != 200:
                log.warning("%s refused a handover message (HTTP %s)", what, answer.status)
                raise DeliveryError(refused.get(answer.status, f"{what} tog ikke imod beskeden."))
    except (aiohttp.ClientError, TimeoutError) as err:
        log.warning("%s could not be reached for a handover (%s)", what, type(err).__name__)
        raise DeliveryError(f"{what} kan ikke nås lige nu. Prøv igen om lidt.") from None


async def _rasa(sender_id: str, events: list[dict[str, Any]], emit: bool) -> None:
    if not addressable(sender_id):
        raise DeliveryError("Samtalens id kan ikke bruges i Rasas API (mellemrum eller særlige tegn).")
    url = settings.get("RASA_INTERNAL_URL").rstrip("/") + f"/conversations/{sender_id}/tracker/events"
    params = {"token": settings.secret_file("RASA_API_TOKEN", "api-token")}
    if emit:
        params.update(execute_side_effects="true", output_channel="socketio")
    await _post(url, "Assistenten", {}, params=params, json=events)


async def _telegram(sender_id: str, event: dict[str, Any], lang: str) -> None:
    url = settings.get("TELEGRAM_PUSH_URL").rstrip("/") + "/push"
    token = settings.secret_file("TELEGRAM_PUSH_TOKEN", "telegram-push-token")
    text = event["text"]
    if event["metadata"].get("staff"):  # Telegram shows every message as the bot's: the text says a person wrote it
        text = wording.text("utter_handover_from_person", lang) + "\n" + text
    body = {"sender_id": sender_id, "text": text,
            "buttons": [b for b in event["data"]["buttons"] if b.get("payload")]}
    blocked = {410: "Brugeren har blokeret assistenten på Telegram; beskeden kom ikke frem."}
    await _post(url, "Telegram-broen", blocked, json=body, headers={"Authorization": f"Bearer {token}"})


async def send(sender_id: str, channel: str, events: list[dict[str, Any]], lang: str = "da") -> None:
    """Append ``events`` to the conversation and deliver its bot lines to the user."""
    await _rasa(sender_id, events, emit=channel == "socketio")
    if channel == "telegram":
        for event in events:
            if event.get("event") == "bot":
                await _telegram(sender_id, event, lang)


PAUSE = {"event": "pause"}
RESUME = {"event": "resume"}
#: After a hand-back the assistant waits for the user's next message, as after any answer.
LISTEN = {"event": "action", "name": "action_listen"}
