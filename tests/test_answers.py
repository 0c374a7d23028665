"""An answer's structure and its one message (bot/answers.py), and how the channels that render
it themselves lay it out: Telegram's HTML (escaping, length) and the output channels' one message."""
from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot import answers
from bot.channels.rest import AnswerCollector
from bot.channels.socketio import SocketIOOutput
from bot.telegram.render import MESSAGE_LIMIT, ButtonMap, render, utf16_len

DAY = dt.date(2026, 11, 22)
SOURCE = answers.Source("https://www.danskindustri.dk/støtte/smv-grøn", DAY)
BUTTONS = [{"title": "SMV:Digital", "payload": "/ask_grant_smv_digital"}]


def smv(lang: str = "da", body: str = "SMV:Grøn gav op til 300.000 kr.", source: answers.Source = SOURCE,
        **kwargs) -> answers.Answer:
    contact = answers.Contact("Erhvervshus Sjælland", address="Sorø (hos VKST, Fulbyvej)")
    return answers.Answer(body=body, source=source, language=lang, contacts=(contact,), **kwargs)


def test_the_footer_has_the_contacts_and_the_source_with_its_date_in_danish_and_english():
    assert answers.footer(smv("da")) == [
        "Kontakt: Erhvervshus Sjælland, Sorø (hos VKST, Fulbyvej)",
        "Kilde: [danskindustri.dk](https://www.danskindustri.dk/støtte/smv-grøn) (kontrolleret 22. november 2026)",
    ]
    assert answers.footer(smv("en")) == [
        "Contact: Erhvervshus Sjælland, Sorø (hos VKST, Fulbyvej)",
        "Source: [danskindustri.dk](https://www.danskindustri.dk/støtte/smv-grøn) (checked 22 November 2026)",
    ]
    assert answers.text(smv("da")) == "SMV:Grøn gav op til 300.000 kr.\n\n" + "\n".join(answers.footer(smv("da")))


def test_an_answer_backed_by_several_sources_names_them_all_in_one_line():
    more = answers.Source(SOURCE.url, DAY, more=("https://udbudsmedia.dk/a", "https://www.horten.dk/b"))
    assert answers.footer(smv("da", source=more))[-1] == (
        "Kilder: [danskindustri.dk](https://www.danskindustri.dk/støtte/smv-grøn), "
        "[udbudsmedia.dk](https://udbudsmedia.dk/a) og [horten.dk](https://www.horten.dk/b) (kontrolleret 22. november 2026)")
    assert answers.footer(smv("en", source=more))[-1].startswith("Sources: [danskindustri.dk](")
    same_site = answers.Source(SOURCE.url, DAY, more=("https://www.danskindustri.dk/b", "https://www.danskindustri.dk/c"))
    assert [title for _, title in same_site.links()] == ["danskindustri.dk", "danskindustri.dk (2)", "danskindustri.dk (3)"]
    assert answers.parts(smv("da", source=more))["source"]["more"] == [
        {"url": "https://udbudsmedia.dk/a", "title": "udbudsmedia.dk"},
        {"url": "https://www.horten.dk/b", "title": "horten.dk"}]


def test_a_contact_is_reached_by_email_and_phone_else_its_address():
    both = answers.Contact("Parkeringskontoret", email="parkering@koege.dk", phone="56 67 25 50", address="Torvet 1")
    assert answers.contact_line(both, "da") == "Kontakt: Parkeringskontoret, parkering@koege.dk, 56 67 25 50"
    assert answers.contact_line(answers.Contact("Byggesagsteamet"), "en") == "Contact: Byggesagsteamet"


def test_a_quote_names_its_document_and_section_above_the_contacts():
    quoted = smv("da", quote=answers.Quote("Erhvervspolitik 2023-2026", "4. Grøn omstilling"))
    assert answers.footer(quoted)[0] == "Uddrag af Erhvervspolitik 2023-2026, 4. Grøn omstilling"
    english = smv("en", quote=answers.Quote("Business policy"))
    assert answers.footer(english)[0] == "From Business policy"
    assert answers.parts(quoted)["quote"] == {"document": "Erhvervspolitik 2023-2026", "section": "4. Grøn omstilling"}


def test_the_message_holds_the_whole_text_and_the_parts():
    message = answers.message(smv("da"), BUTTONS)
    assert set(message) == {"text", "buttons", "custom", "kind"}
    assert message["kind"] == "answer" and message["buttons"] == BUTTONS
    parts = message["custom"]["answer"]
    assert parts == {
        "language": "da", "body": "SMV:Grøn gav op til 300.000 kr.",
        "contacts": [{"name": "Erhvervshus Sjælland", "email": None, "phone": None, "phone_hours": None,
                      "address": "Sorø (hos VKST, Fulbyvej)", "url": None}],
        "source": {"url": SOURCE.url, "title": "danskindustri.dk", "verified": "2026-11-22",
                   "verified_text": "22. november 2026", "more": []},
        "quote": None, "footer": answers.footer(smv("da")),
    }
    assert answers.of(message) == parts


@pytest.mark.parametrize("custom", [None, {}, {"answer": "x"}, {"answer": {"body": "", "footer": []}},
                                    {"answer": {"body": "x", "footer": "Kilde"}}, {"answer": {"body": "x"}},
                                    {"answer": {"body": "x", "footer": [5]}}, {"other": {"body": "x", "footer": []}}])
def test_anything_but_well_formed_parts_is_no_answer(custom):
    assert answers.of({"text": "x", "custom": custom}) is None


def test_an_answer_needs_a_body_and_a_known_language():
    with pytest.raises(ValueError):
        answers.Answer(body=" ", source=SOURCE)
    with pytest.raises(ValueError):
        answers.Answer(body="x", source=SOURCE, language="de")


# --- Telegram: one message, an HTML footer ---------------------------------------------------

def test_telegram_shows_an_answer_as_one_message_with_an_escaped_html_footer():
    answer = answers.Answer(body='Støtte til <b>grøn</b> omstilling & "cirkulær" økonomi.',
                            source=answers.Source("https://x.dk/a?b=1&c=<2>", DAY, "T & <T>"),
                            contacts=(answers.Contact("Ud & <Ind>", email="a@b.dk"),))
    [out] = render(1, [answers.message(answer, BUTTONS)], ButtonMap())
    assert out.html == (
        'Støtte til &lt;b&gt;grøn&lt;/b&gt; omstilling &amp; "cirkulær" økonomi.\n\n'
        "<i>Kontakt: Ud &amp; &lt;Ind&gt;, a@b.dk</i>\n"
        '<i>Kilde: <a href="https://x.dk/a?b=1&amp;c=%3C2%3E">T &amp; &lt;T&gt;</a> (kontrolleret 22. november 2026)</i>')
    assert [b.text for row in out.keyboard.inline_keyboard for b in row] == ["SMV:Digital"]


def test_telegram_splits_only_a_body_too_long_for_one_message_and_keeps_the_footer_whole():
    body = " ".join(["Et langt svar om tilskud til virksomheder i Køge."] * 150)  # about 7,500 characters
    out = render(1, [answers.message(smv("da", body=body), BUTTONS)], ButtonMap())
    assert len(out) == 2 and out[0].keyboard is None and out[1].keyboard is not None
    assert all(utf16_len(o.html) <= MESSAGE_LIMIT for o in out)
    assert out[1].html.endswith("(kontrolleret 22. november 2026)</i>") and "<i>Kontakt: " in out[1].html
    assert "<i>" not in out[0].html
    fits = render(1, [answers.message(smv("da", body="x" * 3800), [])], ButtonMap())
    assert len(fits) == 1 and fits[0].html.startswith("x" * 3800 + "\n\n<i>Kontakt: ")
    over = render(1, [answers.message(smv("da", body="x" * 4000), [])], ButtonMap())
    assert len(over) == 2, "4,000 characters and the footer are more than one message holds"
    assert all(utf16_len(o.html) <= MESSAGE_LIMIT for o in over) and over[1].html.count("<i>") == 2


# --- the output channels: one message ---------------------------------------------------------

def sent_by_rasa(message: dict) -> dict:
    """The message as Rasa hands it to an output channel (BotUttered.message())."""
    return {"text": message["text"], "buttons": message["buttons"], "custom": message["custom"],
            "elements": None, "quick_replies": None, "image": None, "attachment": None,
            "kind": message["kind"], "timestamp": 1.0}


def test_the_socketio_output_sends_an_answer_as_one_event():
    class Server:
        emitted: list = []

        async def emit(self, event, data, room=None, **_):
            self.emitted.append((event, data, room))

    server = Server()
    message = answers.message(smv("da"), BUTTONS)
    asyncio.run(SocketIOOutput(server, "bot_uttered").send_response("room-1", sent_by_rasa(message)))
    assert server.emitted == [("bot_uttered", {
        "text": message["text"], "kind": "answer", "response": None, "custom": message["custom"],
        "quick_replies": [{"content_type": "text", "title": "SMV:Digital", "payload": "/ask_grant_smv_digital"}],
    }, "room-1")]


def test_the_rest_output_collects_an_answer_as_one_message():
    collector = AnswerCollector()
    message = answers.message(smv("en"), BUTTONS)
    asyncio.run(collector.send_response("rest-1", sent_by_rasa(message)))
    asyncio.run(collector.send_response("rest-1", {"text": "First.\n\nSecond."}))  # other messages: as Rasa
    assert collector.messages == [
        {"recipient_id": "rest-1", "text": message["text"], "buttons": BUTTONS, "custom": message["custom"]},
        {"recipient_id": "rest-1", "text": "First."}, {"recipient_id": "rest-1", "text": "Second."},
    ]
