"""The word lists of the document search, in one place: Danish stop words, and the few
synonyms and English words that map a question's words onto the documents' words.

Stop words are compared folded (æ → ae, ø → oe, å → aa, lower case), as the index compares
words; synonyms and English words are Danish words that the analyzer lemmatises. The lists were
first chosen on the tuning questions (``tests/documents/tuning.yml``) and general Danish usage;
the generic question words ("se", "bruge", "let") and the thesaurus groups were extended after
the first run of the unseen set (``docs/documents.md``: the order of events and a fresh set).
"""
from __future__ import annotations

from bot.nlp.normalize import fold

#: Function words, question words and the verbs every question uses ("kan I gøre noget for …").
#: They say nothing about which passage answers, and a question made only of them has no topic.
STOP_WORDS = frozenset(fold(w) for w in """
    og eller men for fra til med uden om af på i ud ind op ned over under efter før ved hos mod
    mellem igennem gennem blandt omkring indenfor inden udenfor
    at der det den de dem denne dette disse han hun hen man jeg du vi i jer mig dig os sig sin sit
    sine min mit mine din dit dine vores jeres deres hans hendes dens dets en et nogen noget nogle
    ingen intet alle alt anden andet andre hver hvert enhver selv samme
    hvad hvem hvor hvordan hvornår hvorfor hvilken hvilket hvilke hvis hvorledes
    som så da når end også ikke kun jo nok vel mon bare lige nu her der hvor heller både enten
    meget megen mere mest mange flere flest lidt mindre få færre næste sidste
    være er var været blive bliver blev blevet have har havde haft kunne kan skulle skal ville vil
    måtte må burde bør gøre gør gjorde gjort få får fik fået lave laver lavede give giver gik gå går
    komme kommer kom stå står findes fandtes sige siger sagde vide ved tro tror tænke synes mene
    hedde hedder handle handler fortælle fortæl hjælpe hjælper tage tager høre hører foregå foregår
    ske sker ligge ligger se ser bruge bruger bruges finde finder sammen
    stadig fortsat allerede snart igen endnu indeholde indeholder
    let lettere nem nemt nemmere svær svært sværere
    ja nej tak hej hallo gerne venligst please
    kommune kommunen
""".split())

#: Words that mean the same here (business Danish about a municipality), in groups: a question's
#: word also looks for the other words of its group. Written as a small thesaurus of the
#: domain, not word by word for single questions (docs/documents.md tells when it was extended).
SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("firma", "virksomhed"),
    ("medarbejder", "ansat", "arbejdskraft", "personale"),
    ("grund", "areal", "erhvervsareal", "erhvervsgrund"),
    ("centrum", "bymidte", "midtby"),
    ("butik", "forretning", "detailhandel", "handelsliv"),
    ("sygehus", "hospital", "universitetshospital"),
    ("tog", "jernbane"),
    ("udenlandsk", "international"),
    ("turist", "turisme"),
    ("nystartet", "iværksætter"),
    ("tilskud", "støtte", "tilskudsmulighed"),
    ("udbud", "licitation"),
    ("gennemsigtig", "transparent"),
    ("regn", "nedbør", "skybrud", "nedbørsmængde"),
    ("byråd", "kommunalbestyrelse"),
    ("rapport", "rapportering"),
    ("el", "strøm", "elektricitet"),
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    fold(word): tuple(fold(other) for other in group if other != word)
    for group in SYNONYM_GROUPS for word in group
}


#: English function and question words, dropped from an English question (as STOP_WORDS from a
#: Danish one).
ENGLISH_STOP_WORDS = frozenset("""
    a an the and or but of to in on at for from with without about by as into over under is are was
    were be been being do does did done have has had can could will would shall should may might
    must i you he she it we they me us them my your our their its this that these those there here
    what which who whom whose how when where why whether if then than so not no yes any some all
    more most much many very also just only get got make makes made say says said tell know want
    need like please thanks hello hi municipality council koege's does anything something there's
""".split())

#: English question words and the Danish words of the documents they stand for, so that an
#: English question finds a Danish passage (the quote stays Danish).
ENGLISH: dict[str, tuple[str, ...]] = {
    k: tuple(fold(v) for v in vs) for k, vs in {
        "tourism": ("turisme", "turismestrategi"), "tourist": ("turisme",),
        "entrepreneur": ("iværksætter",), "startup": ("iværksætter",), "start-up": ("iværksætter",),
        "heating": ("fjernvarme",), "district": ("fjernvarme",), "energy": ("energi",),
        "solar": ("solcelle",), "climate": ("klimasikring",), "dike": ("dige",),
        "labour": ("arbejdskraft",), "labor": ("arbejdskraft",), "worker": ("arbejdskraft",),
        "workforce": ("arbejdskraft",), "recruitment": ("rekruttering",), "recruit": ("rekruttering",),
        "international": ("international",), "education": ("uddannelse",),
        "land": ("erhvervsareal",), "plot": ("erhvervsareal",), "production": ("produktionsvirksomhed",),
        "manufacturing": ("produktionsvirksomhed",), "railway": ("jernbane",), "rail": ("jernbane",),
        "train": ("jernbane",), "freight": ("godslogistik", "vare"), "goods": ("vare",),
        "mobility": ("mobilitet", "mobilitetsstrategi"), "transport": ("transport",),
        "service": ("erhvervsservice",), "visit": ("virksomhedsbesøg",), "grant": ("tilskudsmulighed",),
        "tender": ("udbud",), "tenders": ("udbud",), "procurement": ("udbud",),
        "supplier": ("leverandør",), "town": ("bymidte",), "centre": ("bymidte",), "center": ("bymidte",),
        "parking": ("parkeringsforhold",), "shop": ("detailhandel",), "retail": ("detailhandel",),
        "welcome": ("velkomstbrev",), "letter": ("velkomstbrev",), "forum": ("forum",),
        "esg": ("esg-rapportering",), "health": ("sundheds-innovations",), "green": ("grøn",),
        "sustainable": ("bæredygtig",), "sustainability": ("bæredygtighed",), "goal": ("mål",),
        "policy": ("erhvervspolitik",), "business": ("erhverv", "virksomhed"),
        "company": ("virksomhed",), "companies": ("virksomhed",), "firm": ("virksomhed",), "vision": ("vision",), "meeting": ("handletanksmøde",),
    }.items()
}
