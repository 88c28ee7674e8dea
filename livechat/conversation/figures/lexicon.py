"""Words that change what a spoken number means, per language text2num reads.

Plain tables, one job: scale words ("million", "Mio.", "mille"), percent words
("percent", "Prozent", "pour cent"), hedges ("about" widens the precision, "more than"
and "nearly" point one way), month names (a number beside one is a day, not data) and a
few function words per language to guess which language a reply is in.

Languages are text2num's: English, French, Spanish, German, Italian, Portuguese, Dutch
and Danish (ISO 639-1 codes).
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGES", "SCALES", "PERCENT_WORDS", "HEDGES", "MONTHS", "guess_language", "hedge_before"]

LANGUAGES = ("en", "fr", "es", "de", "it", "pt", "nl", "da")

# Scale words after a number, lower-cased, to their multiplier. "m"/"k"/"bn" only right
# after digits ("1.2m", "3k"); the regex in spoken.py keeps them from matching words.
SCALES: dict[str, float] = {
    "k": 1e3, "thousand": 1e3, "thousands": 1e3, "tausend": 1e3, "mille": 1e3, "mil": 1e3, "mila": 1e3,
    "duizend": 1e3, "tusind": 1e3,
    "m": 1e6, "mn": 1e6, "mio": 1e6, "mio.": 1e6, "million": 1e6, "millions": 1e6, "millionen": 1e6,
    "millón": 1e6, "millones": 1e6, "milione": 1e6, "milioni": 1e6, "milhão": 1e6, "milhões": 1e6,
    "miljoen": 1e6, "millioner": 1e6,
    "bn": 1e9, "b": 1e9, "billion": 1e9, "billions": 1e9, "mrd": 1e9, "mrd.": 1e9, "milliarde": 1e9,
    "milliarden": 1e9, "milliard": 1e9, "milliards": 1e9, "mil millones": 1e9, "miliardo": 1e9,
    "miliardi": 1e9, "bilhão": 1e9, "bilhões": 1e9, "miljard": 1e9, "milliarder": 1e9,
    "trillion": 1e12,
}

# Percent words after a number (regex alternatives, lower-case; the longest first).
PERCENT_WORDS = (
    "percentage points", "percentage point", "per cent", "percent", "pct", "prozentpunkte", "prozent",
    "points de pourcentage", "pour cent", "pourcent", "por ciento", "porciento", "per cento", "percento",
    "por cento", "procentpoint", "procent",
)
# "percentage point(s)" is a difference of two percentages: a plain number, not a share.
POINT_WORDS = frozenset({"percentage points", "percentage point", "prozentpunkte", "points de pourcentage",
                         "procentpoint"})

# Hedges in the few words before a number: "about" (either side), "over" (the data is
# higher), "under" (the data is lower). Lower-case, matched at the end of the text before.
HEDGES: dict[str, str] = {
    "~": "about", "about": "about", "around": "about", "roughly": "about", "approximately": "about",
    "approx.": "about", "approx": "about", "some": "about", "circa": "about", "ca.": "about",
    "or so": "about", "etwa": "about", "ungefähr": "about", "rund": "about", "zirka": "about",
    "environ": "about", "autour de": "about", "à peu près": "about", "aproximadamente": "about",
    "alrededor de": "about", "unos": "about", "unas": "about", "intorno a": "about", "quasi": "under",
    "ongeveer": "about", "omkring": "about", "cirka": "about",
    "over": "over", "more than": "over", "above": "over", "upwards of": "over", "just over": "over",
    "mehr als": "over", "über": "over", "plus de": "over", "más de": "over", "più di": "over",
    "mais de": "over", "meer dan": "over", "mere end": "over",
    "under": "under", "less than": "under", "below": "under", "nearly": "under", "almost": "under",
    "just under": "under", "fast": "under", "knapp": "under", "weniger als": "under", "unter": "under",
    "presque": "under", "près de": "under", "moins de": "under", "casi": "under", "menos de": "under",
    "cerca de": "about", "meno di": "under", "quase": "under", "bijna": "under", "minder dan": "under",
    "næsten": "under",
}
_HEDGE_END = re.compile(
    r"(?:^|[\s(])(" + "|".join(re.escape(h) for h in sorted(HEDGES, key=len, reverse=True)) + r")\s*$",
    re.IGNORECASE)

MONTHS = frozenset("""
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
januar februar märz mai juni juli oktober dezember
janvier février mars avril juin juillet août septembre octobre novembre décembre
enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
janeiro fevereiro março maio junho julho setembro outubro novembro dezembro
januari februari maart mei juni juli augustus oktober
marts
""".split())

_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to is was were there are in about with for from this that".split()),
    "de": frozenset("der die das und ist nicht mit von es sind wurden im auf den dem ein eine".split()),
    "fr": frozenset("le la les et est des une du sont dans pour sur ont il elle au aux".split()),
    "es": frozenset("el los las y es que una del son en por con se hay al".split()),
    "it": frozenset("il lo gli e è di che una sono nel della per con ci".split()),
    "pt": frozenset("o os as e é que um uma são do da em por com não".split()),
    "nl": frozenset("de het een en van is zijn er in met op voor niet".split()),
    "da": frozenset("og det er en af til der den som med på ikke var".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, default: str = "en") -> str:
    """The text2num language whose function words ``text`` uses most (``default`` on a tie of none)."""
    words = [w.lower() for w in _WORD.findall(text)]
    best, best_score = default, 0
    for language, vocabulary in _FUNCTION_WORDS.items():
        score = sum(1 for w in words if w in vocabulary)
        if score > best_score:
            best, best_score = language, score
    return best


def hedge_before(text: str) -> str | None:
    """``about``/``over``/``under`` when ``text`` (what precedes a number) ends in a hedge."""
    match = _HEDGE_END.search(text[-40:])
    return HEDGES[match.group(1).lower()] if match else None
