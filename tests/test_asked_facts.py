"""What a question asks for, and whether a text holds it (``bot.nlp.asked_facts``)."""
from __future__ import annotations

from datetime import date

import pytest

from bot import wording
from bot.nlp import asked_facts


@pytest.mark.parametrize(("question", "kind"), [
    ("Hvad er telefonnummeret til Connect Køge?", "phone"),
    ("what is the phone number of the business service", "phone"),
    ("hvad er e-mailadressen til miljøteamet", "email"),
    ("Hvad er adressen på Campus Køge?", "address"),
    ("Hvad er satsen for kørselsgodtgørelse?", "price"),
    ("Hvilke uger ligger erhvervspraktikken?", "date"),
    ("hvornår og hvor blev konferencen holdt?", "date"),
    ("Hvem skriver under på velkomstbrevet?", "person"),
    ("Hvornår og hvor bliver konferencen holdt?", "place"),
    ("Hvor blev handletanksmødet holdt?", "place"),
    ("Hvem fra LE34 holdt oplægget?", "person"),
    ("Hvornår begynder togene at køre på dobbeltsporet?", "when"),
    ("Hvilke konkrete virksomheder er allerede med i forummet?", "names"),
    ("Hvornår har turistinformationen åbent?", "opening_hours"),
    ("åbningstider borgerservice", "opening_hours"),
    ("aabningstider for erhvervsservicen", "opening_hours"),  # typed without Danish letters
    ("Hvilken dato er det næste erhvervstopmøde?", "date"),
    ("innobooster ansøgningsfrist", "deadline"),
    ("Hvornår er fristen for at søge om en stadeplads?", "deadline"),
    ("hvornår skal vi senest søge smv grøn", "deadline"),
    ("when is the next Handletank meeting", "date"),
    ("Hvor lang er sagsbehandlingstiden på en byggetilladelse?", "duration"),
    ("how long does it take to get an environmental approval", "duration"),
    ("Hvad er CVR-nummeret på Køge Kommune?", "number"),
    ("Hvad koster en stadeplads?", "price"),
    ("Hvad er renten på et iværksætterlån?", "price"),
    ("Hvad er dækningsafgiften for erhvervsejendomme?", "price"),
    ("Hvor mange solceller er der i kommunen?", "amount"),
    ("Hvor mange penge kan vi få i tilskud til en ny maskine?", "price"),  # money: a bare number is no answer
    ("Får vi kompensation for en praktikant, og hvor meget?", "price"),
    ("Hvor stor skal en opgave være i kroner, før den skal i udbud?", "price"),
    ("Hvor stort skal beløbet være, før en opgave skal i udbud?", "price"),
    ("Hvilken rente skal man betale på et erhvervslån?", "price"),
    ("Hvad er kvadratmeterprisen på erhvervsgrunde?", "price"),
    ("Hvilke dage bliver affaldet hentet?", "weekday"),
    ("Hvilke ugedage henter I affald?", "weekday"),
    ("Hvor mange procent skal vi betale i lønsumsafgift?", "percent"),
    ("Hvilken procentsats gælder for tilskuddet?", "percent"),
    ("Hvem er direktør for Erhvervshus Sjælland?", "person"),
    ("Hvad hedder lederen af Grøn Omstilling?", "person"),
    ("how many companies are there in Køge", "amount"),
    ("Hvem vandt udbuddet på rengøring af skolerne?", "winner"),
    ("hvilket firma har vundet udbuddet", "winner"),
    ("who won the cleaning tender", "winner"),
    ("Hvornår står dobbeltsporet til Køge Nord færdigt?", "when"),
    ("hvornår går anlægget af vejen i gang", "when"),
    ("when will the dike be finished", "when"),
    ("Hvilket år kan man køre på dobbeltsporet?", "when"),
    ("which year will the new road open", "when"),
    ("Hvornår forventes kombiterminalen at åbne?", "when"),
    ("hvornår åbner sundhedsinnovationsparken i Bellingeparken", "when"),
    ("when will the new terminal open", "when"),
    ("Hvornår bliver turismestrategien vedtaget?", "when"),
    ("Hvornår åbner sundheds-innovationsparken?", "when"),
    ("Hvem er ansat som erhvervsplaymaker?", "person"),
    ("hvem bliver ansat som koordinator for praktik", "person"),
    ("Hvad hedder den person, der koordinerer praktik?", "person"),
    ("Hvad hedder konsulenten, der tager sig af iværksættere?", "person"),
    ("hvad hedder den erhvervsplaymaker kommunen vil ansætte", "person"),
    ("Hvilke virksomheder deltog i handletanksmødet?", "names"),
    ("Hvilke nabokommuner skal Køge samarbejde med om turisme?", "names"),
    ("Hvilke andre firmaer end LE34 var der?", "names"),
    ("which companies took part in the meeting", "names"),
])
def test_a_question_that_asks_for_a_detail(question, kind):
    assert kind in [k.name for k in asked_facts.asked(question)]


@pytest.mark.parametrize("question", [
    "hvornår skal jeg søge byggetilladelse",  # a condition, not a date
    "hvordan får jeg et CVR-nummer",
    "Hvor ligger erhvervsgrundene?",
    "kan I ringe mig op",
    "what does the green transition team do",
    "hvem er ansvarlig for skilte",  # a unit, not a person's name
    "hvordan vinder vi et udbud hos kommunen",  # how to win, not who won
    "hvornår kan vi gå i gang med at bygge",  # a condition, not a date
    "hvornår begynder vi at betale moms",  # a condition of our own, not when a project begins
    "hvem er konsulenten for min branche",  # may ask for a unit
    "hvad hedder den pulje, der giver tilskud til grøn omstilling",  # a scheme's name, not a person's
    "hvornår åbner rådhuset",  # opening hours are asked with "åbningstider"/"har … åbent"; not a project's opening
    "Hvilke virksomheder kan søge SMV:Grøn?",  # who may: a condition, not names
    "hvilke virksomheder skal have en miljøgodkendelse",
])
def test_a_question_that_asks_for_no_detail(question):
    assert asked_facts.asked(question) == ()


@pytest.mark.parametrize(("question", "text"), [
    ("Hvad er telefonnummeret til Erhvervsstyrelsen?", "Kontakt: Erhvervsstyrelsen (Virk), 35 29 10 00"),
    ("hvad er jeres e-mail", "Kontakt: Teknik- og Miljøforvaltningen, tmf@koege.dk"),
    ("Hvad er adressen?", "Kontakt: Køge Kommune, Torvet 1, 4600 Køge"),
    ("Hvornår har I åbent i dag?", "Vi har åbent kl. 10-15."),
    ("smv grøn ansøgningsfrist", "SMV:Grøn 2.0 åbnede 26. april 2023."),
    ("markedsmodningsfonden frist", "Markedsmodningsfonden er lukket."),
    ("Hvor lang er sagsbehandlingstiden?", "Forventet sagsbehandlingstid er cirka 10 uger."),
    ("Innobooster, how long until we get an answer?", "You usually get an answer within about a month."),
    ("hvor lang tid før skal man søge", "Søg mindst 10 arbejdsdage før arbejdet starter."),
    ("hvad koster det at registrere et ApS", "Registrering af ApS koster 670 kr."),
    ("what does a permit cost", "The hourly fee was DKK 1,006 in 2023."),
    ("hvad koster en virksomhedsbesøg", "Besøget er gratis."),
    ("hvor meget kan man få i smv grøn", "Op til 300.000 kr."),
    ("Hvilke dage er der torvedag?", "Der er torvedage på Køge Torv onsdag og lørdag."),
    ("Hvornår er fristen for at søge?", "Ansøgningsfristen er 1. marts."),
    ("Hvem er direktør for Connect Køge?", "…, siger Allan Munch direktør for Connect Køge."),
    ("Hvad var timeprisen i 2023?", "Timeprisen var 1.006 kr. i 2023."),
    ("Hvilke ugedage bliver affaldet hentet?", "Affaldet hentes på hverdage."),
    ("Hvor mange procent dækker tilskuddet?", "Støtten dækkede 25 % af investeringer."),
    ("Hvem vandt erhvervsprisen i 2023?", "Erhvervsprisen 2023 blev vundet af Firma A/S."),
    ("Hvornår er diget færdigt?", "Diget skal stå færdigt i 2030."),
    ("Hvor mange virksomheder deltog i mødet?", "Over 40 virksomheder deltog."),
    ("Hvor mange ansatte må vi have?", "Virksomheder med 2-249 fuldtidsansatte kan søge."),
    ("Hvad hedder konsulenten for iværksættere?", "Spørg Anne Hansen, konsulent i Erhvervshuset."),
    ("Hvilket år står diget færdigt?", "Diget skal stå færdigt i 2030."),
    ("Hvornår blev erhvervspolitikken vedtaget?", "Byrådet vedtog politikken i juni 2024."),
    ("Hvilke firmaer holdt oplæg?", "Der var oplæg fra virksomhederne LE34 og Ingemann Components A/S."),
    ("Hvilke kommuner samarbejder om turismen?", "Køge samarbejder med Solrød, Stevns og Greve."),
    # a detail of a name: stated in the line that names it; a percentage in a text that names it
    ("Hvad er adressen på Connect Køge?", "Connect Køge er en erhvervsfond.\nKontakt: Connect Køge, Vestergade 3C, Køge"),
    ("Hvor mange procent dækker SMV:Grøn?", "SMV:Grøn 2.0 åbnede i 2023. Støtten dækkede 25 % af investeringer."),
    ("Hvilke uger ligger erhvervspraktikken?", "Erhvervspraktikken ligger i uge 12 og uge 40."),
    ("Hvor mange var med til mødet?", "Over 40 deltagere var med."),
    ("Hvor mange nye virksomheder får brevet?", "Omkring 300 nye virksomheder får brevet hvert år."),
    ("Hvor blev handletanksmødet holdt?", "Et Handletanksmøde hos Gartneri Toftegaard bød på oplæg."),
    # "i år" is the current year
    ("Hvad er fristen for SMV:Grøn i år?", f"Ansøgningsfristen er 1. marts {date.today().year}."),
    # a term in capitals ("CVR-nummer") names nothing an address belongs to
    ("Vi har fået CVR-nummer. Hvad er adressen?", "Kontakt: Køge Kommune, Torvet 1, 4600 Køge"),
])
def test_a_text_that_holds_the_detail(question, text):
    assert asked_facts.missing(question, text) is None


@pytest.mark.parametrize(("question", "text", "kind"), [
    ("Hvad er telefonnummeret til Connect Køge?", "Connect Køge er en erhvervsfond. Kontakt: Vestergade 3C, Køge", "phone"),
    ("Hvad er CVR-nummeret på Køge Kommune?", "Kontakt: Erhvervsstyrelsen, 35 29 10 00", "number"),
    ("Hvilken dato er næste møde?", "Den blev sat i gang på baggrund af budgetaftalen for 2021-24.", "date"),
    ("hvor lang tid tager en miljøgodkendelse", "Listevirksomheder (bilag 1 og 2) skal have miljøgodkendelse.", "duration"),
    ("hvad koster en erhvervsgrund", "Arealerne udbydes fra 2024 til 2028.", "price"),
    ("Hvornår har turistinformationen åbent?", "Der skal laves en turismestrategi.", "opening_hours"),
    ("Hvad hedder lederen af Grøn Omstilling?", "Kontakt: Grøn Omstilling, Køge Kommune, Vestergade 3C, Køge", "person"),
    # a year asked for: the figures of another round are no answer
    ("Hvornår er ansøgningsfristen for SMV:Grøn i 2026?", "SMV:Grøn 2.0 åbnede 26. april 2023.", "deadline"),
    # the days something happens are no deadline
    ("Hvornår er fristen for at søge om en stadeplads?", "Der er torvedage på Køge Torv onsdag og lørdag.",
     "deadline"),
    ("Hvor meget kan man få i 2026?", "I 2023 var tilskuddet op til 300.000 kr.", "amount"),
    # the days something happens on: a date in a month is no answer
    ("Hvilke ugedage henter kommunen affald i Ølby?", "Et jordregulativ gælder fra 1. august 2021.", "weekday"),
    # a rate: a sum of money is no answer
    ("Hvor mange procent skal vi betale i lønsumsafgift?", "Over 50.000 kr. i omsætning skal registreres.",
     "percent"),
    # an amount of money asked: the number of partner schools or a phone number is no answer
    ("Hvor mange penge kan vi få i tilskud?", "Campus Køge er et partnerskab med 12 uddannelsesinstitutioner.", "price"),
    # who won: how tenders work names no winner
    ("Hvem vandt kommunens seneste udbud på vinduespudsning?",
     "Kommende større bygge- og renoveringsopgaver skal fremgå af Bygge- & Anlægsportalen.", "winner"),
    # when a project is done: that it should be done soon is no answer
    ("Hvornår er Køge Dige færdigbygget?", "Køge Dige skal etableres hurtigst muligt.", "when"),
    # a count of something: another figure ("2021-24", a budget's years) is no answer
    ("Hvor mange virksomheder deltog i handletanksmødet?",
     "Den blev sat i gang på baggrund af budgetaftalen for 2021-24.", "amount"),
    # which year: that it is worked for is no answer
    ("Hvilket år kan man køre på dobbeltsporet?", "Kommunen arbejder for dobbeltspor mellem Køge og Køge Nord.", "when"),
    # when a strategy is adopted: that one is to be made is no answer
    ("Hvornår bliver turismestrategien vedtaget?", "Der skal laves en turismestrategi i dialog med virksomhederne.",
     "when"),
    # names asked for: the municipality and its partners, schemes, or the names the question gives are none
    ("Hvilke virksomheder sidder i forummet?", "Connect Køge og Køge Kommunes Grøn Omstilling samler virksomheder.",
     "names"),
    ("Hvilke virksomheder har fået tilskud?", "Se SMV:Digital og SMV:Grøn hos Erhvervshus Sjælland og Erhvervsstyrelsen.",
     "names"),
    ("Hvilke andre virksomheder end LE34 og Ingemann deltog?", "Oplæg fra LE34 og Ingemann Components A/S.", "names"),
    # an address or phone number of a name: another place's contact line is no answer
    ("Hvad er adressen på Gartneri Toftegaard, hvor mødet blev holdt?",
     "Et Handletanksmøde hos Gartneri Toftegaard bød på oplæg.\nKontakt: Connect Køge, Vestergade 3C, Køge", "address"),
    ("Hvad er telefonnummeret til Gartneri Toftegaard?", "Kontakt: Parkeringskontoret, 56 67 25 50", "phone"),
    # a percentage of a name: a text that does not name it gives someone else's
    ("Hvor mange procent har LE34 skåret af sin CO2-udledning?",
     "Målet er, at virksomhederne reducerer CO2 med mindst 70 % i 2030.", "percent"),
    # "i år": an earlier round's date is no answer
    ("Hvad er ansøgningsfristen for SMV:Grøn i år?", "SMV:Grøn 2.0 åbnede 26. april 2023.", "deadline"),
    # a count of participants or of new companies: a budget's years or a postcode is no answer
    ("hvor mange var med til workshoppen?", "Den blev sat i gang på baggrund af budgetaftalen for 2021-24.", "amount"),
    ("Hvor mange nye virksomheder har fået brevet?", "Alle nye virksomheder får et brev.\nKontakt: Torvet 1, 4600 Køge",
     "amount"),
    # which neighbours to work with: that the municipality will work with its neighbours names none
    ("Hvilke nabokommuner skal Køge lave turisme sammen med?", "Strategien skal vurdere samarbejde med nabokommuner.",
     "names"),
    # the weeks something lies in, who signs: a text without them
    ("Hvilke uger ligger erhvervspraktikken?", "Kommunen vil sprede erhvervspraktikken over året.", "date"),
    ("Hvem skriver under på velkomstbrevet?", "Alle nye virksomheder får et velkomstbrev med kommunens tilbud.",
     "person"),
    # where an event is held: that it will be in the autumn is no place
    ("Hvornår og hvor bliver konferencen holdt?", "Ideerne skal munde ud i en konference til efteråret.", "place"),
    # who from a company gave the talk: that the company did names no one
    ("Hvem fra LE34 holdt oplægget?", "Der var oplæg fra virksomhederne LE34 og Ingemann Components A/S.", "person"),
    # when trains begin to run: that the municipality works for the double track is no answer
    ("Hvornår begynder togene at køre på dobbeltsporet?",
     "Køge Kommune arbejder for dobbeltspor mellem Køge Station og Køge Nord.", "when"),
    # a rate of money: a plan is no answer
    ("Hvad er satsen for kørselsgodtgørelse?", "Kommunen vil lave en mobilitetsstrategi.", "price"),
])
def test_a_text_without_the_detail(question, text, kind):
    missing = asked_facts.missing(question, text)
    assert missing is not None and missing.name == kind


@pytest.mark.parametrize("lang", ["da", "en"])
def test_every_kind_has_its_words_in_both_languages(lang):
    """The reply names the detail it does not know (``utter_unknown_fact_<kind>``)."""
    for kind in asked_facts.KINDS:
        words = wording.text(f"utter_unknown_fact_{kind.name}", lang)
        sentence = wording.text("utter_unknown_fact", lang, fact=words)
        assert words in sentence and "{" not in sentence
    assert wording.text("utter_unknown_fact_phone", "en") != wording.text("utter_unknown_fact_phone", "da")
