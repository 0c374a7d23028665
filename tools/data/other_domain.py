"""A small synthetic intent set of another domain (a restaurant's chat: tables, opening hours,
the menu, allergies, take-away, gift cards, complaints, jobs), written for ``make nlu-cv`` so the
NLU pipeline is also tried on data it was never designed for. Generated from hand-written
Danish frames and fillers, deterministically; about 40 messages per intent.
"""
from __future__ import annotations

import itertools
import random

FRAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "book_table": (
        ("kan jeg bestille et bord {x}", "jeg vil gerne reservere bord {x}", "har I et ledigt bord {x}",
         "bordbestilling {x}", "er der plads til os {x}", "vi vil gerne komme og spise {x}"),
        ("til fire personer på fredag", "i aften kl. 19", "til to på lørdag", "på søndag til frokost",
         "til 8 personer", "i morgen aften", "til en fødselsdag"),
    ),
    "opening_hours": (
        ("hvornår har I åbent {x}", "hvad er jeres åbningstider {x}", "har I åbent {x}",
         "hvornår lukker køkkenet {x}", "åbningstid {x}", "hvor længe har I åbent {x}"),
        ("i dag", "på mandag", "juleaften", "i weekenden", "nytårsaften", "om søndagen", "i påsken"),
    ),
    "menu": (
        ("hvad står der på menuen {x}", "har I {x}", "kan man få {x}", "serverer I {x}",
         "hvad koster {x}", "er der {x} på kortet"),
        ("vegetarretter", "børnemenu", "dagens ret", "en tre retters menu", "vin ud af huset",
         "brunch", "fisk"),
    ),
    "allergy": (
        ("jeg er allergisk over for {x}", "kan I lave mad uden {x}", "indeholder retterne {x}",
         "tager I hensyn til {x}", "min søn tåler ikke {x}", "er der {x} i desserten"),
        ("nødder", "gluten", "laktose", "skaldyr", "æg", "selleri", "sesam"),
    ),
    "takeaway": (
        ("kan man hente mad {x}", "leverer I {x}", "kan jeg bestille take away {x}",
         "hvordan bestiller jeg mad ud af huset {x}", "bringer I mad ud {x}", "kan vi få maden med hjem {x}"),
        ("i aften", "til kontoret", "på fredag", "til 20 personer", "i Køge", "til en reception", "nu"),
    ),
    "gift_card": (
        ("kan man købe {x}", "sælger I {x}", "hvordan bruger jeg {x}", "hvor længe gælder {x}",
         "jeg har fået {x}", "kan jeg give {x} i gave"),
        ("et gavekort", "gavekort online", "et gavekort til to", "et firmagavekort",
         "gavekort til jul", "et gavekort på 500 kr", "et digitalt gavekort"),
    ),
    "complaint": (
        ("jeg vil klage over {x}", "vi var utilfredse med {x}", "det var ikke i orden med {x}",
         "jeg er skuffet over {x}", "hvem kan jeg tale med om {x}", "hvordan klager jeg over {x}"),
        ("maden i går", "ventetiden", "betjeningen", "regningen", "en kold bøf", "støjen", "vores bestilling"),
    ),
    "jobs": (
        ("søger I {x}", "har I brug for {x}", "kan jeg søge job som {x}", "mangler I {x}",
         "hvordan søger jeg som {x}", "er der ledige stillinger som {x}"),
        ("tjenere", "en kok", "opvasker", "køkkenmedhjælp", "en bartender", "studentermedhjælp", "elever"),
    ),
}


def examples(seed: int = 0, per_intent: int = 40) -> list[tuple[str, str]]:
    """(text, intent) pairs: ``per_intent`` distinct combinations of frame and filler per intent."""
    rng = random.Random(seed)
    found: list[tuple[str, str]] = []
    for intent, (frames, fillers) in FRAMES.items():
        combinations = [frame.format(x=filler) for frame, filler in itertools.product(frames, fillers)]
        found += [(text, intent) for text in rng.sample(combinations, min(per_intent, len(combinations)))]
    return found
