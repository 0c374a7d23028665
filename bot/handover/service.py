"""What staff do with a handover, and the time-outs: the queue's state (``queue``), the
messages to the user (``delivery``) and the audit log, together.

The user can end it too (``end_by_user``: the widget's "Afslut samtalen med medarbejderen").
Every claim, reply, hand-back, close, time-out and user's end is a line in the audit log (the
member of staff or ``bruger``, the action, the conversation; never the message's text). The
queue's state follows what Rasa stored (``delivery``'s one outcome): a change is undone only
when Rasa did not take its events; a Telegram push that failed afterwards is reported to staff
(``Done.problem``) and changes nothing. Two time-outs run in the console (``watch``): a waiting conversation
nobody takes (``HANDOVER_CLAIM_MINUTES``: a callback is offered) and a taken one whose member
of staff stopped answering (``HANDOVER_IDLE_MINUTES``: handed back to the assistant). An
admin can end a conversation a colleague left open.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.handover import delivery, queue
from bot.handover.queue import HandoverError
from bot.store import audit
from bot.store.models import CLAIMED, OPEN_HANDOVER, WAITING, Handover

log = logging.getLogger(__name__)
WATCH_SECONDS = 10
MAX_REPLY = 4000


class HandoverProblem(Exception):
    """Why staff's action did not happen, in Danish (the console shows it)."""


@dataclass(frozen=True)
class Done:
    """Staff's action happened. ``problem``: why the user may not have seen its message (Danish)."""

    handover: Handover
    problem: str | None = None


def _record(actor: str, action: str, handover: Handover, detail: str | None = None, url: str | None = None) -> None:
    audit.record(actor, action, None, detail or f"overtagelse {handover.id}", url=url, conversation=handover.sender_id)


async def claim(handover_id: int, staff: str, url: str | None = None) -> Done:
    """Take the conversation: the user is told that ``staff`` joined. The assistant has been
    paused since the user asked (``action_handover``), so the pause is appended only when Rasa
    says the conversation is not paused (the user restarted it meanwhile): one pause, one line
    in the transcript."""
    try:
        row = await asyncio.to_thread(queue.claim, handover_id, staff, url)
    except HandoverError:
        raise HandoverProblem("Samtalen er allerede taget af en anden, eller den er afsluttet.") from None
    joined = delivery.wording_event("utter_handover_joined", row.language)
    try:
        pause = not await delivery.paused(row.sender_id)
        events = [delivery.PAUSE, joined] if pause else [joined]
        sent = await delivery.send(row.sender_id, row.channel, events, row.language)
    except delivery.DeliveryError as err:
        await asyncio.to_thread(queue.unclaim, handover_id, staff, url)
        raise HandoverProblem(str(err)) from None
    await asyncio.to_thread(_record, staff, "handover_claim", row, None, url)
    if pause:
        await _resume_if_ended(row, url)
    return await _unless_left(row, staff, sent, url)


async def _resume_if_ended(row: Handover, url: str | None) -> None:
    """The user ended the handover while the claim was on its way, after their end had resumed
    the assistant: the claim's pause must not outlive the handover."""
    current = await asyncio.to_thread(queue.get, row.id, url)
    if current is None or current.status in OPEN_HANDOVER:
        return
    try:
        await delivery.send(row.sender_id, row.channel, [delivery.RESUME, delivery.LISTEN], row.language)
    except delivery.DeliveryError:
        log.warning("a claim's pause could not be undone after the user left (handover %s)", row.id)


async def _unless_left(row: Handover, staff: str, sent: delivery.Sent, url: str | None) -> Done:
    """``Done``; but a user who blocked the bot on Telegram has left: the handover is closed
    (the assistant resumes, should they come back) instead of waiting for an answer that
    cannot come."""
    if not sent.left:
        return Done(row, sent.problem)
    try:
        ended = await asyncio.to_thread(queue.end, row.id, staff, True, url, True)
    except HandoverError:  # ended meanwhile
        return Done(row, sent.problem)
    try:
        await delivery.send(ended.sender_id, ended.channel, [delivery.RESUME, delivery.LISTEN], ended.language)
    except delivery.DeliveryError:
        log.warning("a handover whose user left could not be resumed in Rasa (handover %s)", ended.id)
    await asyncio.to_thread(_record, staff, "handover_close", ended, f"overtagelse {ended.id}: brugeren gik", url)
    return Done(ended, f"{delivery.LEFT} Samtalen er derfor afsluttet.")


def _own(handover_id: int, staff: str, url: str | None) -> Handover:
    row = queue.get(handover_id, url)
    if row is None or row.status != CLAIMED or row.claimed_by != staff:
        raise HandoverProblem("Du har ikke denne samtale (tag den først, eller den er afsluttet).")
    return row


async def reply(handover_id: int, staff: str, text: str, url: str | None = None) -> Done:
    """Staff's message to the user, stored in the transcript as written by ``staff``."""
    text = text.strip()
    if not text:
        raise HandoverProblem("Skriv en besked først.")
    if len(text) > MAX_REPLY:
        raise HandoverProblem(f"Beskeden er for lang (højst {MAX_REPLY} tegn).")
    row = await asyncio.to_thread(_own, handover_id, staff, url)
    try:
        sent = await delivery.send(row.sender_id, row.channel, [delivery.bot_event(text, staff=staff)], row.language)
    except delivery.DeliveryError as err:
        raise HandoverProblem(str(err)) from None
    await asyncio.to_thread(queue.touch, handover_id, staff, url)
    await asyncio.to_thread(_record, staff, "handover_reply", row, None, url)
    return await _unless_left(row, staff, sent, url)


async def end(handover_id: int, staff: str, close: bool, url: str | None = None, admin: bool = False) -> Done:
    """Hand back to the assistant, or close: the user is told, the assistant answers again.
    The database decides first (a second click finds it ended), the message follows; if Rasa
    does not take it the handover is open again, so nothing is left half done. ``admin``: may
    end a conversation another member of staff has taken (the audit line says whose)."""
    try:
        ended = await asyncio.to_thread(queue.end, handover_id, staff, close, url, admin)
    except HandoverError:
        raise HandoverProblem("Du har ikke denne samtale, eller den er afsluttet.") from None
    response = "utter_handover_closed_by_staff" if close else "utter_handover_handed_back"
    events = [delivery.RESUME, delivery.wording_event(response, ended.language), delivery.LISTEN]
    try:
        sent = await delivery.send(ended.sender_id, ended.channel, events, ended.language)
    except delivery.DeliveryError as err:
        await asyncio.to_thread(queue.reopen, handover_id, url)
        raise HandoverProblem(str(err)) from None
    detail = f"overtagelse {ended.id}, taget af {ended.claimed_by}" if ended.claimed_by not in (None, staff) else None
    await asyncio.to_thread(_record, staff, "handover_close" if close else "handover_hand_back", ended, detail, url)
    return Done(ended, sent.problem)


#: What the user is told after ending the handover: while waiting, and while a person talked.
LEFT_QUEUE, LEFT_PERSON = "utter_handover_left_queue", "utter_handover_left"
#: The actor of the audit line when the user ends a handover.
USER = "bruger"


async def end_by_user(sender_id: str, url: str | None = None) -> bool:
    """The user ends their handover, waiting or with a person (the widget's button): the
    assistant answers again and the user is told so; staff's page shows it ended. False when
    there was nothing to end. A conversation paused with no open handover (a resume that never
    reached Rasa) is resumed too: the user's way out is never blocked. HandoverProblem (Danish)
    when Rasa did not take the events: then the handover is open again."""
    row = await asyncio.to_thread(queue.latest_for, sender_id, url)
    if row is None:
        return False  # never handed over: its pause (if any) is not the handover's to lift
    if row.status not in OPEN_HANDOVER:
        try:
            if not await delivery.paused(sender_id):
                return False
            events = [delivery.RESUME, delivery.wording_event(LEFT_QUEUE, row.language), delivery.LISTEN]
            await delivery.send(sender_id, row.channel, events, row.language)
        except delivery.DeliveryError as err:
            raise HandoverProblem(str(err)) from None
        return True
    try:
        ended = await asyncio.to_thread(queue.leave, row.id, url)
    except HandoverError:
        return False  # ended meanwhile (staff, a time-out): the user has been told
    response = LEFT_QUEUE if row.status == WAITING else LEFT_PERSON
    events = [delivery.RESUME, delivery.wording_event(response, ended.language), delivery.LISTEN]
    try:
        await delivery.send(ended.sender_id, ended.channel, events, ended.language)
    except delivery.DeliveryError as err:
        await asyncio.to_thread(queue.reopen, ended.id, url)
        raise HandoverProblem(str(err)) from None
    detail = f"overtagelse {ended.id}" + (f", taget af {ended.claimed_by}" if ended.claimed_by else ", i kø")
    await asyncio.to_thread(_record, USER, "handover_user_end", ended, detail, url)
    return True


async def _resume(rows: list[Handover], response: str, action: str, url: str | None) -> int:
    """Tell each user of ``rows`` (ended by a time-out) with ``response``; the assistant answers again."""
    for row in rows:
        events = [delivery.RESUME, delivery.wording_event(response, row.language), delivery.LISTEN]
        try:
            await delivery.send(row.sender_id, row.channel, events, row.language)
        except delivery.DeliveryError:
            log.warning("a timed-out handover's user could not be told (handover %s)", row.id)
        await asyncio.to_thread(_record, "system", action, row, None, url)
    return len(rows)


async def expire_once(url: str | None = None) -> int:
    """Offer a callback to users nobody claimed in time, and hand back conversations whose
    member of staff stopped answering; returns how many ended."""
    expired = await asyncio.to_thread(queue.expire, None, url)
    released = await asyncio.to_thread(queue.release_idle, None, url)
    return (await _resume(expired, "utter_handover_no_one", "handover_timeout", url)
            + await _resume(released, "utter_handover_handed_back", "handover_idle", url))


async def watch(url: str | None = None, seconds: float = WATCH_SECONDS) -> None:
    """Run ``expire_once`` every ``seconds`` (the console starts it)."""
    while True:
        try:
            await expire_once(url)
        except Exception as err:  # noqa: BLE001 - keep watching; the next round retries
            log.error("handover time-out check failed (%s)", type(err).__name__)
        await asyncio.sleep(seconds)
