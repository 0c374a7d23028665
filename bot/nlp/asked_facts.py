"""What kind of fact a question asks for, and whether a text holds one.

"Hvad er telefonnummeret til Connect Køge?" is about Connect Køge, but an answer about Connect
Køge without a phone number does not answer it: the user asked for a detail, and a confident
answer on the topic that skips it reads as if there were none. The same for an amount, a price,
a rate, a date, a deadline, the days something happens on, opening hours, an address, where an
event is held, an e-mail address, a processing time, when a project is done or begins (or which
year), an identifying number (CVR, EAN), a person's name and who won (a tender, a prize), which
organisations took part, and how many. Each ``Kind`` has the words
that ask for its fact and the shape of the fact in a text; ``missing`` gives the kind a question
asks for that a text does not hold. A written answer or a passage without it is not given as the
answer (``actions/routing.py``, ``bot/documents/answer.py``); the assistant says it does not know
that detail and offers the topic and a person.

A question typed without Danish letters ("aabningstider") asks as the same question with them.
Only explicit requests count ("hvad er adressen", "hvornår har … åbent", "hvor lang tid"): a
"hvornår skal jeg søge?" asks for a condition, not a date, and is left to the answer. The words
are Danish and English; the fact shapes are checked on the answer's body and contact lines,
never on its source line (whose date would look like an answer to any date question). A date,
price, amount or duration asked for a year ("fristen i 2026") needs that year in the text: the
figures of an earlier round are no answer; "i år" ("fristen i år") names the current year. An
address, phone number or e-mail address asked for a thing the question names ("adressen på
Gartneri Toftegaard") must stand in a line or sentence that names it too: the contact line of
Connect Køge holds an address, but not the nursery's. A percentage asked of a name ("hvor mange
procent har LE34 skåret?") needs a text that names it: the area's target of 70 % is not LE34's.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

_I = re.IGNORECASE
#: Where a fact asked of a name must stand (``Kind.of_name``).
LINE, TEXT = "line", "text"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: "fristen i år", "this year's deadline": the current year, as if named.
_THIS_YEAR = re.compile(r"\bi år\b|\bi indeværende år\b|\bthis year\b", _I)


def _years(question: str) -> set[str]:
    """The years ``question`` names, "i år" read as the current year."""
    return set(_YEAR.findall(question)) | ({str(date.today().year)} if _THIS_YEAR.search(question) else set())


@dataclass(frozen=True)
class Kind:
    """A kind of fact: ``name`` (``utter_unknown_fact_<name>`` says it is not known), the words of
    a question that asks for it, and its shape in a text."""

    name: str
    asks: re.Pattern[str]
    holds: re.Pattern[str]
    #: What the text must also meet for this question (``amount``: a number beside what is counted).
    beside: Callable[[str, str], bool] | None = None
    #: Whether the fact belongs to a year the question may name ("fristen i 2026"): then the text
    #: must name that year too.
    by_year: bool = False
    #: Asked of a name the question gives ("adressen på Gartneri Toftegaard"), where the fact must
    #: stand: ``LINE``, in a line or sentence that names it; ``TEXT``, in a text that names it.
    of_name: str | None = None

    def asked(self, question: str) -> bool:
        return any(self.asks.search(variant) for variant in _spellings(question))

    def held(self, question: str, text: str) -> bool:
        """Whether ``text`` holds what ``question`` asks for of this kind (for a year the question
        names, that year too; of a name it gives, where ``of_name`` asks; and what ``beside``
        asks)."""
        if not self.holds.search(text) or (self.beside is not None and not self.beside(question, text)):
            return False
        if self.of_name is not None and not _of_name(question, text, self.holds, self.of_name):
            return False
        return not self.by_year or _years(question) <= set(_YEAR.findall(text))


#: "Hvor mange virksomheder …", "how many companies …": the thing counted.
_COUNTED = re.compile(r"\bhvor mange (?:(?:nye|små|store|andre|flere|lokale|danske|udenlandske) )?(\w{4,})|"
                      r"\bhow many (?:(?:new|small|large|other|local|foreign) )?(\w{4,})", re.IGNORECASE)
#: "Hvor mange var med / deltog?" counts the people or companies that took part.
_COUNTED_PARTICIPANTS = re.compile(r"\bhvor mange (?:var|er|blev|deltog|deltager|kom|mødte)\b|"
                                   r"\bhow many (?:were|are|took part|attended|came)\b", re.IGNORECASE)
_PARTICIPANTS = r"(?:deltag|perso|virks|menne|folk|gæst|firma|participant|people|persons|compan|guest)"
#: The first letters of the thing counted that its other forms share ("virksomheder", "virksomhed").
_STEM = 5


def _counted(question: str, text: str) -> bool:
    """Whether ``text`` gives a number of what ``question`` counts ("hvor mange virksomheder
    deltog?", "hvor mange nye virksomheder …": "40 virksomheder", not the "2021-24" of a budget;
    "hvor mange var med?": a number of participants, people or companies); True when it counts
    nothing named, or money (a ``price``)."""
    found = _COUNTED.search(question)
    noun = next((g for g in found.groups() if g), "") if found else ""
    if _COUNTED_PARTICIPANTS.search(question):
        stem = _PARTICIPANTS
    elif not noun or re.fullmatch(_MONEY, noun, re.IGNORECASE) or noun.lower() in _NOT_COUNTED:
        return True
    else:
        stem = re.escape(noun[:_STEM])
    return re.search(rf"\d[\d.,]*\s*(?:[-–]\s*\d[\d.,]*\s*)?(?:\w+\s+)?\w*{stem}", text, re.IGNORECASE) is not None


_WITHOUT_DANISH_LETTERS = (("aa", "å"), ("ae", "æ"), ("oe", "ø"))


def _spellings(question: str) -> tuple[str, ...]:
    """The question as written, and with "aa", "ae", "oe" read as "å", "æ", "ø" (typed without
    Danish letters: "aabningstider")."""
    danish = question
    for plain, letter in _WITHOUT_DANISH_LETTERS:
        danish = danish.replace(plain, letter).replace(plain.capitalize(), letter.upper())
    return (question,) if danish == question else (question, danish)


_MONTHS = ("januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december|"
           "january|february|march|may|june|july|october")
_DAYS = "mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_SEASONS = "foråret|sommeren|efteråret|vinteren|spring|summer|autumn|winter"
_UNITS = (r"(?:arbejds)?(?:uge|uger|dag|dage|døgn|måned|måneder|år|timer)|"
          r"(?:working )?(?:weeks?|days?|months?|years?|hours?)")
_UNITS = f"(?:{_UNITS})"
#: A person's role ("hvem er direktør for …"; not "hvem er ansvarlig for …", which asks for a unit).
_ROLES = "(?:direktør|leder|chef|formand|borgmester|kontaktperson|person)(?:en)?"
#: A job whose holder's name "hvad hedder …" asks for ("hvad hedder den erhvervsplaymaker, som …");
#: "hvem er konsulenten" may ask for a unit, so these count after "hvad hedder" only.
_NAMED_JOBS = r"(?:konsulent|medarbejder|rådgiver|koordinator|sagsbehandler|\w*playmaker)(?:en)?"
_ANY_ROLE = f"(?:{_ROLES}|{_NAMED_JOBS})"
_NAME = "[A-ZÆØÅ][a-zæøå]+ [A-ZÆØÅ][a-zæøå]+"
#: That something costs nothing: an answer to a price or an amount.
_FREE = r"\bgratis\b|\bfree\b|\buden (?:beregning|betaling)\b|\bkoster ikke\b"
_DATE_IN_FIGURES = r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b"
#: That there is no date to give: an answer to a date or a deadline.
_NO_DEADLINE = r"\bløbende\b|\bingen (?:ansøgnings)?frist\b|\blukket\b|\brolling\b|\bno deadline\b|\bclosed\b"
#: "Hvor meget" or "hvor mange" about money ("hvor mange penge kan vi få i tilskud", "får vi
#: kompensation, og hvor meget?") asks for an amount of money, which a bare number is not.
_MONEY = r"(?:penge|kroner|tilskud\w*|støtte\w*|kompensation\w*|godtgørelse\w*|lån)"
_HOW_MUCH_MONEY = (rf"\bhvor (?:mange|meget)\b[^.?!]*\b{_MONEY}\b|\b{_MONEY}\b[^.?!]*\bhvor (?:mange|meget)\b")
#: Words after "hvor mange" that are not the thing counted ("hvor mange procent": a ``percent``).
_NOT_COUNTED = frozenset({"procent", "penge", "kroner", "gange", "percent", "times"})
#: What "hvilke …" names when it asks for names ("hvilke virksomheder deltog?").
_ORGANISATIONS = (r"(?:virksomheder|firmaer|kommuner|nabokommuner|partnere|samarbejdspartnere|deltagere|"
                  r"medlemmer|aktører|organisationer|selskaber|leverandører)")
#: What the organisations asked for did ("hvilke virksomheder deltog / sidder med / fik tilskud").
_TAKING_PART = (r"(?:deltog|deltager|deltaget|(?:var|er) (?:\w+ )?med|sidder|sad|fortalte|holdt|har fået|fik|"
                r"samarbejde\w*|sammen med|medlem\w*|står bag|stod bag|inviteret|repræsenteret)")
#: A name in a list of names; the municipality, its partners and the public bodies an answer
#: refers to are not the names asked for ("Connect Køge og Køge Kommunes Grøn Omstilling",
#: "Erhvervshus Sjælland og Erhvervsstyrelsen" name no participants).
_ORGANISATION = (r"(?<![\w&.:/-])(?!(?:Køge\w*|Connect|Grøn|Kommune\w*|Erhvervs\w*|Sjælland|Region\w*|Danmark|"
                 r"Byg|Miljø\w*|Teknik\w*|\w+teamet|The|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
                 r"Sunday)\b)[A-ZÆØÅ][\w&]*(?:[.-][\w&]+)*(?: [A-ZÆØÅ][\w&]*(?:[.-][\w&]+)*)*")
_NAME_LIST = re.compile(rf"{_ORGANISATION}(?:, {_ORGANISATION})*,? (?:og|and) {_ORGANISATION}")


def _new_names(question: str, text: str) -> bool:
    """Whether ``text`` lists a name that ``question`` does not name itself ("hvilke andre
    virksomheder end LE34 og Ingemann deltog?" is not answered by "LE34 og Ingemann")."""
    asked = question.lower()
    return any(name.split()[0].lower() not in asked
               for found in _NAME_LIST.finditer(text)
               for name in re.findall(_ORGANISATION, found.group()))


_PHONE = r"(?<!\d)(?:\+45\s?)?\d{2}\s?\d{2}\s?\d{2}\s?\d{2}(?!\d)"
#: A word written with a capital, or with a figure in it ("LE34"), inside a sentence: a name.
_NAMED = re.compile(r"(?<=[\w,:;)\"'] )(?:[A-ZÆØÅ][\w:&-]*|[A-Za-zÆØÅæøå]+\d[\w-]*)")
#: Capitalised words that name no particular thing a detail belongs to: the municipality (every
#: answer is Køge's), "I" (Danish "you"), English's "I", calendar words and CO2; so do acronyms
#: ("CVR-nummer", "ESG": terms, not places with an address).
_NOT_NAMES = frozenset({"i", "køge", "køges", "kommune", "kommunen", "kommunens", "kommunes", "danmark",
                        "danish", "english", "dansk", "engelsk", "co2", *_MONTHS.split("|"), *_DAYS.split("|")})
_ACRONYM = re.compile(r"[A-ZÆØÅ]{2,5}")
#: How many first letters of a name its other forms share ("Toftegaards", "Erhvervshuset").
_NAME_STEM = 6
_CHUNKS = re.compile(r"(?<=[.!?])\s+|\n")


def _names(question: str) -> list[str]:
    """The names ``question`` uses ("Gartneri", "Toftegaard", "LE34"), as stems."""
    found = []
    for word in _NAMED.findall(question):
        base = word.split("-")[0].rstrip(":")
        if base.lower() not in _NOT_NAMES and not base.isdigit() and not _ACRONYM.fullmatch(base):
            found.append(word.lower()[:_NAME_STEM])
    return found


def _names_in(names: list[str], text: str) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(name)}", text, _I) for name in names)


def _of_name(question: str, text: str, holds: re.Pattern[str], where: str) -> bool:
    """Whether ``text`` states its fact (``holds``) for what ``question`` names: in a line or
    sentence that names it (``LINE``) or in a text that names it (``TEXT``); True when the
    question names nothing."""
    names = _names(question)
    if not names:
        return True
    if where == TEXT:
        return _names_in(names, text)
    return any(holds.search(chunk) and _names_in(names, chunk) for chunk in _CHUNKS.split(text))


_ADDRESS = (r"\b[A-ZÆØÅ][\wæøå]*(?:vej|gade|torv|torvet|plads|allé|alle|vænge|stræde|parken)\s+\d+"
            r"|\b(?:Torvet|Vej|Gade)\s+\d+|\b[1-9]\d{3}\s+[A-ZÆØÅ]")

KINDS: tuple[Kind, ...] = (
    Kind("phone",
         re.compile(r"\btelefon\w*|\btlf\b|\bphone\b", _I),
         re.compile(_PHONE),
         of_name=LINE),
    Kind("email",
         re.compile(r"e-?mail-?adresse|\bmailadresse|\be-?mail address|"
                    r"\b(?:hvad|hvilken) er (?:\w+ )?e-?mail(?:en)?\b|\bwhat is (?:the|their|its|your) e-?mail\b", _I),
         re.compile(r"@"),
         of_name=LINE),
    Kind("address",
         re.compile(r"\badresse(?:n|r|rne)?\b|\baddress\b", _I),
         # a street and number ("Torvet 1", "Ivar Huitfeldts Vej 5") or a postcode and town ("4600 Køge")
         re.compile(_ADDRESS),
         of_name=LINE),
    Kind("place",
         # where an event is held ("hvornår og hvor bliver konferencen holdt"): an address, or a
         # named place it is held at ("hos Gartneri Toftegaard")
         re.compile(r"\bhvor (?:bliver|blev|skal|holdes|afholdes)\b[^.?!]*\b(?:holdt|afholdt|holdes|afholdes)\b|"
                    r"\bhvornår og hvor\b|\bwhere (?:is|was|will)\b[^.?!]*\bheld\b", _I),
         re.compile(_ADDRESS + r"|\b(?:hos|på) [A-ZÆØÅ]\w+|\bat [A-Z]\w+")),
    Kind("opening_hours",
         re.compile(r"åbningstid\w*|\b(?:har|holder) (?:\w+ ){1,3}åbent\b|\båbent (?:i dag|i morgen|på|om)\b|"
                    r"\bopening hours\b|\bwhen (?:are|is) (?:\w+ ){1,3}open\b", _I),
         re.compile(r"\bkl\.?\s?\d|\d{1,2}[.:]\d{2}|\b\d{1,2}\s?[-–]\s?\d{1,2}\b", _I)),
    Kind("deadline",
         re.compile(r"\bansøgningsfrist\w*|\bfrist(?:en)?\b|\bdeadline\b|\bsenest\b", _I),
         # a month, a season, a date in figures, or that there is none; a weekday ("torvedage
         # onsdag og lørdag") is when something happens, not by when to apply
         re.compile(rf"\b(?:{_MONTHS}|{_SEASONS})\b|{_DATE_IN_FIGURES}|{_NO_DEADLINE}", _I),
         by_year=True),
    Kind("weekday",
         # on which days something happens: a date in a month ("fra 1. august 2021") is no answer
         re.compile(r"\bhvilke (?:uge)?dage\b|\bhvilken (?:uge)?dag\b|\bwhich (?:week)?days?\b|"
                    r"\bwhat days?\b", _I),
         re.compile(rf"\b(?:{_DAYS})\b|\bhverdage\b|\bhver dag\b|\bdagligt\b|\balle dage\b|\bweekend\w*|"
                    r"\bevery day\b|\bdaily\b|\bweekdays\b|" + _NO_DEADLINE, _I)),
    Kind("date",
         # also the weeks something lies in ("hvilke uger ligger erhvervspraktikken"), and when an
         # event was held ("hvornår blev konferencen holdt")
         re.compile(r"\b(?:hvilken|hvad er) (?:\w+ )?dato(?:en)?\b|\bdatoen\b|"
                    r"\bhvornår (?:er|bliver|holdes|afholdes|starter|åbner) (?:der )?(?:det |den |de )?næste\b|"
                    r"\bhvilke(?:n)? uge(?:r|nummer|numre)?\b|"
                    r"\bhvornår\b(?: og hvor)? (?:blev|var|bliver|skal)\b[^.?!]*\b(?:holdt|afholdt|holdes|afholdes)\b|"
                    r"\bwhat date\b|\bwhen is the next\b|\bwhich weeks?\b|\bwhen was\b[^.?!]*\bheld\b", _I),
         # a month, a weekday, a season, a week's number, a date in figures; or that there is none
         re.compile(rf"\b(?:{_MONTHS}|{_DAYS}|{_SEASONS})\b|\b(?:uge|week) \d{{1,2}}\b|{_DATE_IN_FIGURES}|{_NO_DEADLINE}",
                    _I),
         by_year=True),
    Kind("when",
         # when a project is done or begins ("hvornår står dobbeltsporet færdigt", "hvornår går
         # anlægget i gang"; not "hvornår kan vi gå i gang", a condition), or which year something
         # happens: a year, a month, a season or a date; that it is wanted is no answer
         # or when a new place opens ("hvornår forventes kombiterminalen at åbne", "hvornår åbner
         # sundhedsinnovationsparken"; not "hvornår åbner rådhuset", which asks for opening hours),
         # or when a strategy is adopted ("hvornår bliver turismestrategien vedtaget"), or when
         # something begins to run ("hvornår begynder togene at køre på dobbeltsporet"; not "hvornår
         # kan vi begynde", a condition)
         re.compile(r"\bhvornår\b(?! (?:kan|må|skal|får) (?:jeg|vi|man|i)\b)[^.?!]*\b(?:færdig\w*|i gang|klar|indvie\w*)(?=\W|$)|"
                    r"\bhvornår (?:forventes|skal|vil|kommer)\b[^.?!]*\båbne\b|\bhvornår åbner (?:den|det|de) nye\b|"
                    r"\bhvornår\b[^.?!]*\bvedtag(?:es|et|e)\b|\bwhen\b[^.?!]*\badopted\b|"
                    r"\bhvornår (?:begynder|starter) (?!(?:jeg|vi|man|i|du)\b)\w+(?: \w+)? at \w+|"
                    r"\bhvornår åbner [\w-]+(?:parken|terminalen|centret|centeret|stationen|banen|vejen|sporet|hallen)\b|"
                    r"\bhvilket år\b|\bwhen (?:will|is|does)\b[^.?!]*\b(?:finished|completed|ready|built|start|begin|open)\b|"
                    r"\b(?:what|which) year\b", _I),
         re.compile(rf"{_YEAR.pattern}|\b(?:{_MONTHS}|{_SEASONS})\b|{_DATE_IN_FIGURES}", _I),
         by_year=True),
    Kind("duration",
         re.compile(r"\bhvor lang(?:t|e)? (?:tid|er)\b|\w*behandlingstid\w*|\bhow long\b|\bprocessing time\b", _I),
         re.compile(rf"(?:\d+|\b(?:en|et|to|tre|fire|fem|seks|otte|ti|nogle|få|a|an|one|two|three|four|five|six|a few))"
                    rf"\s*(?:[-–]\s*\d+\s*)?{_UNITS}\b|\bsamme dag\b|\bthe same day\b", _I),
         by_year=True),
    Kind("number",
         # an identifying number (CVR, EAN, P-nummer); a phone number is ``phone``'s
         re.compile(r"\b(?:hvad|hvilket) er (?:\w+ )?(?!telefon|tlf)[\w-]*nummer(?:et)?\b|"
                    r"\bwhat is (?:the|their|its) (?!phone)[\w-]+ number\b", _I),
         re.compile(r"(?<![\d.,])\d{8,}(?![\d.,])")),
    Kind("percent",
         # a rate asked for ("hvor mange procent …", "hvilken procentsats"): a sum of money is no answer
         re.compile(r"\bhvor (?:mange|meget) procent\b|\bhvilken (?:\w+ )?(?:procentsats|sats)\b|"
                    r"\bhvor (?:stor|høj) (?:en )?(?:procentdel|procentsats|sats)\b|"
                    r"\bhow (?:many|much) per ?cent\b|\bwhat (?:percentage|rate)\b", _I),
         re.compile(r"\d[\d.,]*\s*(?:%|procent|per ?cent)", _I),
         of_name=TEXT,
         by_year=True),
    Kind("price",
         # "-prisen" of an award ("erhvervsprisen", "innovationsprisen") is no price
         re.compile(rf"{_HOW_MUCH_MONEY}|\bi kroner\b|\bhow much (?:money|funding|support|compensation)\b|"
                    r"\bhvor stort?\b[^.?!]*\bbeløb\w*|\bkost(?:er|e|ede)\b|\b\w*(?<!erhvervs)(?<!hæders)(?<!innovations)pris(?:en|er|erne)?\b|"
                    r"\bpris\w*|\bprice\b|\bcosts?\b|"
                    r"\bhvilke[nt]? (?:\w+ )?(?:rente|løn|afgift|gebyr|takst|husleje)\b|\bsatsen (?:for|på)\b|"
                    r"\b(?:hvad|hvor høj|hvor stor) (?:er|bliver|var) (?:\w+ )?[\w-]*"
                    r"(?:afgiften|gebyret|taksten|renten|lønnen|huslejen|lejen|beløbet)\b|"
                    r"\bwhat is the [\w-]*\s?(?:fee|interest rate|salary|wage|rent|tax)\b", _I),
         re.compile(r"\d[\d.,]*\s*(?:kr\b|kroner|dkk|mio|millioner|mia|%|procent|euro|€)|(?:\bdkk|\bkr\.|\beur|€)\s?\d|"
                    + _FREE, _I),
         by_year=True),
    Kind("person",
         re.compile(rf"\bhvem er (?:\w+ )?{_ROLES}\b|\bhvad hedder (?:\w+ )?{_ANY_ROLE}\b|"
                    r"\bhvem (?:er|bliver|blev|er blevet) (?:ansat|valgt|udpeget) som\b|"
                    r"\bhvem (?:skriver|skrev|har skrevet) under\b|\bhvem underskriver\b|\bwho signs?\b|"
                    r"\bhvem fra \S+ (?:holdt|gav|talte|fortalte|præsenterede)\b|"
                    r"\bwho from \S+ (?:gave|spoke|presented)\b|"
                    r"\b(?:who is|what is the name of) (?:the )?(?:director|head|manager|chair|mayor|contact person|person)\b", _I),
         # a name beside its role: "Allan Munch, direktør for …", "direktør for Connect Køge, Allan Munch"
         re.compile(rf"{_NAME},? (?:der er )?{_ANY_ROLE}|{_ANY_ROLE}(?: (?:for|af|i))?(?: \w+){{0,3}}, {_NAME}")),
    Kind("winner",
         # who won a tender or a prize: an answer about how tenders work does not name one
         re.compile(r"\bhvem (?:har |der )?(?:vandt|vundet|vinder|fik (?:opgaven|kontrakten|ordren|prisen))\b|"
                    r"\bhvilke[nt]? (?:\w+ )?(?:firma|virksomhed|leverandør)\w* (?:har |der )?(?:vandt|vundet)\b|"
                    r"\bwho (?:has )?won\b|\bwhich (?:company|firm|supplier) (?:has )?won\b", _I),
         re.compile(r"\bvandt\b|\bvundet\b|\bvinder(?:en|ne)?\b|\bwon\b|\bwinners?\b", _I)),
    Kind("names",
         # which organisations took part, sit in, got or work with something ("hvilke
         # virksomheder deltog", "hvilke nabokommuner skal Køge samarbejde med"): an answer that
         # names none does not answer it; "hvilke virksomheder kan søge / skal have …?" asks
         # for a condition and is left to the answer
         re.compile(rf"\bhvilke (?:andre )?(?:\w+ )?{_ORGANISATIONS}\b(?=[^.?!]*\b{_TAKING_PART}\b)|"
                    rf"\bhvilke andre {_ORGANISATIONS}\b|"
                    r"\bwhich (?:other )?(?:\w+ )?(?:companies|firms|municipalities|partners|members|participants|"
                    r"organi[sz]ations)\b(?=[^.?!]*\b(?:took part|take part|participated|attended|spoke|sit|are members|"
                    r"received|got|won|work with|cooperate)\b)", _I),
         # two names or more, listed: "LE34 og Ingemann", "Solrød, Stevns og Greve"
         _NAME_LIST,
         beside=_new_names),
    Kind("amount",
         re.compile(r"\bhvor (?:mange|meget)\b|\bhow (?:many|much)\b", _I),
         re.compile(r"\d|" + _FREE, _I),
         beside=_counted,
         by_year=True),
)


def asked(question: str) -> tuple[Kind, ...]:
    """The kinds of fact ``question`` asks for (most often none)."""
    return tuple(kind for kind in KINDS if kind.asked(question))


def missing(question: str, text: str) -> Kind | None:
    """The first kind of fact ``question`` asks for that ``text`` does not hold; None when the
    question asks for no such detail or the text holds every one it asks for."""
    return next((kind for kind in asked(question) if not kind.held(question, text)), None)
