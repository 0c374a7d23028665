"""Place names: the spaCy pipeline's PLACE entities, and names that say nothing about the language.

"Køge", "Sjælland" or "Bækgårdsvej" are written with æ/ø/å in English messages too, so language
detection (``bot.nlp.language``) does not read their letters as a sign of Danish.
"""
from __future__ import annotations

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
