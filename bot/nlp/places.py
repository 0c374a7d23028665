"""Place names: the spaCy pipeline's PLACE entities, and names that say nothing about the language.

"Køge", "Sjælland" or "Bækgårdsvej" are written with æ/ø/å in English messages too, so language
detection (``bot.nlp.language``) does not read their letters as a sign of Danish.
"""
from __future__ import annotations

import re

from bot.nlp.normalize import fold

#: Towns, villages and business areas in Køge Kommune (the PLACE entities).
PLACE_NAMES = [
    "Køge", "Køge Nord", "Køge Kyst", "Borup", "Bjæverskov", "Herfølge", "Ejby", "Lellinge",
    "Ølby", "Ølsemagle", "Gørslev", "Vallø", "Hårlev", "Skensved", "Sonnerup", "Regstrup",
    "Egøje", "Asserbo", "Søndre Havn", "Campus Køge", "Skandinavisk Transport Center",
    "Bækgårdsvej", "Køge Torv",
]
#: The region and the towns of Erhvervshus Sjælland's offices, as the answers name them.
REGION_NAMES = ["Sjælland", "Sorø", "Vordingborg"]

#: Every word of those names, lower-cased.
NAME_WORDS = frozenset(word for name in PLACE_NAMES + REGION_NAMES for word in name.lower().split())

#: Denmark's other 97 municipalities (the 98 since the municipal reform of 2007, Køge apart), by
#: the name users write (without "Kommune"; Bornholm for Bornholms Regionskommune). A business
#: there is served by its own municipality, not by Køge's.
OTHER_MUNICIPALITIES = (
    "Albertslund", "Allerød", "Assens", "Ballerup", "Billund", "Bornholm", "Brøndby", "Brønderslev",
    "Dragør", "Egedal", "Esbjerg", "Fanø", "Favrskov", "Faxe", "Fredensborg", "Fredericia",
    "Frederiksberg", "Frederikshavn", "Frederikssund", "Furesø", "Faaborg-Midtfyn", "Gentofte",
    "Gladsaxe", "Glostrup", "Greve", "Gribskov", "Guldborgsund", "Haderslev", "Halsnæs", "Hedensted",
    "Helsingør", "Herlev", "Herning", "Hillerød", "Hjørring", "Holbæk", "Holstebro", "Horsens",
    "Hvidovre", "Høje-Taastrup", "Hørsholm", "Ikast-Brande", "Ishøj", "Jammerbugt", "Kalundborg",
    "Kerteminde", "Kolding", "København", "Langeland", "Lejre", "Lemvig", "Lolland", "Lyngby-Taarbæk",
    "Læsø", "Mariagerfjord", "Middelfart", "Morsø", "Norddjurs", "Nordfyns", "Nyborg", "Næstved",
    "Odder", "Odense", "Odsherred", "Randers", "Rebild", "Ringkøbing-Skjern", "Ringsted", "Roskilde",
    "Rudersdal", "Rødovre", "Samsø", "Silkeborg", "Skanderborg", "Skive", "Slagelse", "Solrød", "Sorø",
    "Stevns", "Struer", "Svendborg", "Syddjurs", "Sønderborg", "Thisted", "Tønder", "Tårnby",
    "Vallensbæk", "Varde", "Vejen", "Vejle", "Vesthimmerlands", "Viborg", "Vordingborg", "Ærø",
    "Aabenraa", "Aalborg", "Aarhus",
)
#: Names that are also common words ("i vejen": in the way) or the towns of Erhvervshus
#: Sjælland's offices ("erhvervshuset i Sorø"): only "<name> Kommune" names the municipality.
_ONLY_AS_KOMMUNE = frozenset(fold(name) for name in ("Vejen", "Skive", "Varde", "Odder", *REGION_NAMES))
_OTHER = {fold(name): name for name in OTHER_MUNICIPALITIES} | {"copenhagen": "København"}
_NAMES = "|".join(re.escape(name) for name in sorted(_OTHER, key=len, reverse=True))
_AS_KOMMUNE = re.compile(rf"\b({_NAMES})s? (?:kommune|municipality)\b|\bmunicipality of ({_NAMES})\b")
_AS_PLACE = re.compile(rf"\b(?:i|in) ({_NAMES})\b")
_KOEGE = re.compile(r"\bkoege\b|\bkoge\b|" + "|".join(rf"\b{re.escape(fold(name))}\b" for name in PLACE_NAMES))


def other_municipality(text: str) -> str | None:
    """The other municipality a message asks about ("udeservering hos Københavns Kommune", "vi
    ligger i Roskilde"), as Danish law names it; None when it names none, or names Køge or a
    place in Køge too ("vi ligger i Roskilde og vil flytte til Køge Nord")."""
    folded = fold(text)
    if _KOEGE.search(folded):
        return None
    found = _AS_KOMMUNE.search(folded)
    if found:
        return _OTHER[found.group(1) or found.group(2)]
    place = next((m.group(1) for m in _AS_PLACE.finditer(folded) if m.group(1) not in _ONLY_AS_KOMMUNE), None)
    return _OTHER[place] if place else None
