"""Sentences and brief quotes (bot.documents.text): whole sentences, never a cut word."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.documents.text import ELLIPSIS, QUOTE_MAX_CHARS, cut_at_word, quote, sentences

ITEM_8 = ("Med udgangspunkt i regeringens folkeskoleudspil udarbejder Køge Kommune et oplæg, der skal "
          "skabe et mere forpligtende samarbejde mellem den enkelte folkeskole og virksomhed, bl.a. med "
          "henblik på at fastholde erhvervspraktik, juniormesterlære i udskolingén én til to dage om ugen, "
          "repræsentation i skolebestyrelserne fra det lokale erhvervsliv, styrkelse af de praktiske fag "
          "i udskolingén m.v.")


def test_danish_abbreviations_do_not_end_a_sentence():
    text = ("Køge Kommune vil understøtte Campus Køge i samarbejde med eks. RUC/SDU/DTU. DBD indeholder "
            "bl.a. et udbudsmodul. Det gælder f.eks. grøn omstilling. – Det var inspirerende, siger hun.")
    assert sentences(text) == [
        "Køge Kommune vil understøtte Campus Køge i samarbejde med eks. RUC/SDU/DTU.",
        "DBD indeholder bl.a. et udbudsmodul.",
        "Det gælder f.eks. grøn omstilling.",
        "– Det var inspirerende, siger hun.",
    ]


def test_a_line_break_ends_a_sentence():
    assert sentences("Marie Stærke\nBorgmester") == ["Marie Stærke", "Borgmester"]


def test_a_short_passage_is_quoted_whole():
    text = "Køge Dige skal etableres hurtigst muligt for at sikre både virksomheder og borgere."
    assert quote(text) == text


def test_a_long_passage_is_quoted_by_its_most_relevant_whole_sentences():
    text = " ".join(f"Sætning {i} handler om {'fjernvarme' if i == 5 else 'noget andet'} i Køge." for i in range(1, 9))
    quoted = quote(text, lambda s: 1.0 if "fjernvarme" in s else 0.0, max_sentences=2)
    assert "Sætning 5 handler om fjernvarme i Køge." in quoted
    assert quoted in text and quoted.endswith(".") and quoted.count(".") <= 2


def test_one_sentence_longer_than_the_limit_is_cut_after_a_whole_word():
    quoted = quote(ITEM_8, max_chars=200)
    assert len(quoted) <= 200 and quoted.endswith(ELLIPSIS)
    head = quoted.removesuffix(ELLIPSIS)
    assert ITEM_8.startswith(head) and ITEM_8[len(head)] in " ,"  # the next character ends a word


def test_the_longest_policy_item_fits_the_default_limit():
    assert len(ITEM_8) <= QUOTE_MAX_CHARS and quote(ITEM_8) == ITEM_8


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå", min_size=1, max_size=14)
sentence = st.lists(words, min_size=1, max_size=30).map(lambda w: " ".join(w).capitalize() + ".")


@settings(max_examples=200, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=8), st.integers(min_value=20, max_value=500))
def test_a_quote_is_never_longer_than_the_limit_nor_cut_inside_a_word(parts, limit):
    text = " ".join(parts)
    quoted = quote(text, lambda s: len(s) % 3, max_chars=limit)
    assert 0 < len(quoted) <= limit
    body = quoted.removesuffix(ELLIPSIS)
    starts = [i for i in range(len(text)) if text.startswith(body, i)]
    assert any((i == 0 or text[i - 1] == " ")  # begins at a word's start
               and (i + len(body) == len(text) or text[i + len(body)] in " .")  # ends at a word's end
               for i in starts), (body, text)


def test_cut_at_word_keeps_short_text():
    assert cut_at_word("kort tekst", 50) == "kort tekst"
