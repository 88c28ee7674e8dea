"""Find the figures in a reply: numbers in digits or in words, with what they claim.

A ``Spoken`` number is a claim about the data: its value (scale words applied), the
precision it was said at (``unit``: "1.2 million" is said to the nearest 100,000), whether
it is a percentage, and any hedge ("about", "more than", "nearly"). Digits ("1,234,567",
"-3.5%", "$1.2m", "3k", "1,2 Mio.") are read by the regex here; numbers in words
("twelve percent", "zwölf Prozent", "un virgule deux million") by ``text2num`` through
``words.py``.

Not claims, so skipped: years ("in 2023", "twenty twenty-three"), dates and times ("5
March", "2024-03-01", "10:30"), ordinals ("3rd", "third", "3ème"), list numbering at the
start of a line ("1. ", "2) ") and numbers the analyst's own question contained.

Pure functions of the text; any thread.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from livechat.conversation.figures import words
from livechat.conversation.figures.lexicon import MONTHS, PERCENT_WORDS, POINT_WORDS, SCALES, guess_language, hedge_before

__all__ = ["Spoken", "find_figures", "numbers_in"]

# Languages writing "1.234,5" (the rest of text2num's, English aside, write "1,234.5").
_COMMA_DECIMAL = frozenset({"fr", "es", "de", "it", "pt", "nl", "da"})
_SCALE_ALTS = "|".join(re.escape(s) for s in sorted(SCALES, key=len, reverse=True))
_PERCENT_ALTS = "|".join(re.escape(p) for p in PERCENT_WORDS)
_DIGITS = re.compile(
    r"(?P<cur>[$€£¥]\s?)?"
    r"(?P<sign>[-+−](?=\d))?"
    r"(?P<num>\d{1,3}(?:(?:,|\.|\u00a0|\u202f|'|\s(?=\d{3}\b))\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?:(?P<ord>st|nd|rd|th|e|er|ère|ème|eme|º|ª|\.º)(?!\w))?(?!\d)"
    r"(?:\s?(?P<scale>" + _SCALE_ALTS + r")(?![\w]))?"
    r"(?:\s?(?P<pct>%|(?:" + _PERCENT_ALTS + r")\b))?",
    re.IGNORECASE)
_DATE = re.compile(
    r"\b\d{4}-\d{1,2}(?:-\d{1,2})?\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b[Qq][1-4]\b|\bH[12]\b")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]\s*)?\(?\d{1,2}[.)](?=\s)")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\.?\s*$")
_WORD_AFTER = re.compile(r"^\.?\s*([^\W\d_]+)")
_YEAR_CONTEXT = frozenset({"in", "since", "from", "to", "until", "till", "by", "during", "of", "year", "between",
                           "and", "before", "after", "early", "late", "mid", "fiscal", "fy", "im", "seit", "bis",
                           "jahr", "en", "depuis", "année", "desde", "hasta", "año", "nel", "dal", "anno",
                           "em", "ano", "sinds", "jaar", "i", "år", "siden"})


@dataclass(frozen=True)
class Spoken:
    """One number said in a reply, as a claim: value, precision, unit and hedge.

    ``unit``: the precision it was said at, in the value's own units ("1.2 million":
    100,000; "12.5%": 0.1; "about 300": 100). ``scale``: the scale word's multiplier
    (1 when none), so "1.2 million" can also match a column kept in millions.
    ``percent``: said as a percentage ("12%", "twelve percent"); ``hedge``: ``about``,
    ``over``, ``under`` or None.
    """

    text: str
    start: int
    end: int
    value: float
    unit: float
    percent: bool = False
    scale: float = 1.0
    hedge: str | None = None


def _decimal_comma(language: str) -> bool:
    return language in _COMMA_DECIMAL


def _parse_digits(raw: str, language: str) -> tuple[float, int, str] | None:
    """(value, decimals, integer digits) of a digit string with any separators."""
    text = raw.replace("\u00a0", "").replace("\u202f", "").replace("'", "").replace(" ", "")
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif commas + dots == 0:
        decimal = None
    else:
        sep = "," if commas else "."
        count = commas or dots
        tail = len(text) - text.rfind(sep) - 1
        if count > 1:
            decimal = None  # "1,234,567": every separator groups thousands
        elif tail != 3:
            decimal = sep  # "1.5", "12,75"
        else:  # "1,234" / "1.234": the language decides
            decimal = sep if (sep == ",") == _decimal_comma(language) else None
    if decimal is None:
        integer, fraction = text.replace(",", "").replace(".", ""), ""
    else:
        thousands = "." if decimal == "," else ","
        integer, _, fraction = text.replace(thousands, "").partition(decimal)
    if not integer.isdigit() or (fraction and not fraction.isdigit()):
        return None
    value = float(f"{integer}.{fraction}" if fraction else integer)
    return value, len(fraction), integer


def _unit(integer: str, decimals: int, hedged: bool) -> float:
    """The precision a number was said at (before any scale word).

    Decimals count as said ("1.50" to the hundredth). An integer's trailing zeros: with a
    hedge none count ("about 300" to the hundred); without one, whole groups of three do
    not ("7,000" is "seven thousand", to the thousand) and the rest do ("120" to the unit).
    """
    if decimals:
        return 10.0 ** -decimals
    stripped = integer.lstrip("0") or "0"
    zeros = len(stripped) - len(stripped.rstrip("0")) if stripped != "0" else 0
    if hedged:
        return 10.0 ** zeros
    return 1000.0 ** (zeros // 3)


def _is_year(match_text: str, value: float, before: str, after: str) -> bool:
    if not (1900 <= value <= 2099) or not match_text.isdigit() or len(match_text) != 4:
        return False
    word = _WORD_BEFORE.search(before[-20:])
    following = _WORD_AFTER.match(after[:20])
    if word and (word.group(1).lower() in _YEAR_CONTEXT or word.group(1).lower() in MONTHS):
        return True
    # Otherwise a bare 1900-2099 is a year unless a word follows it ("2000 ships").
    return following is None


def _next_to_month(before: str, after: str) -> bool:
    word = _WORD_BEFORE.search(before[-20:])
    following = _WORD_AFTER.match(after[:20])
    return bool((word and word.group(1).lower() in MONTHS) or (following and following.group(1).lower() in MONTHS))


def _skipped_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _DATE.finditer(text)]
    spans += [m.span() for m in _LIST_ITEM.finditer(text)]
    return spans


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _digit_figures(text: str, language: str, skipped: list[tuple[int, int]]) -> list[Spoken]:
    found: list[Spoken] = []
    for match in _DIGITS.finditer(text):
        start, end = match.span()
        before, after = text[:start], text[end:]
        if start and (text[start - 1].isalnum() or text[start - 1] in "_-/.#") and not match.group("cur"):
            continue  # part of an identifier, a range's second half or a path: "SKH-2023", "3/4"
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue
        if _inside(skipped, start, end) or match.group("ord"):
            continue
        parsed = _parse_digits(match.group("num"), language)
        if parsed is None:
            continue
        value, decimals, integer = parsed
        scale_word = (match.group("scale") or "").lower()
        percent_word = (match.group("pct") or "").lower()
        if len(scale_word) == 1 and match.start("scale") != match.end("num"):
            scale_word = ""  # "5 m" is metres: a one-letter scale only right after digits ("1.2m", "3k")
        if _next_to_month(before, after) and not (scale_word or percent_word or match.group("cur")):
            continue
        if not (scale_word or percent_word or match.group("cur") or match.group("sign")) and _is_year(
                match.group("num"), value, before, after):
            continue
        hedge = hedge_before(before)
        scale = SCALES.get(scale_word, 1.0)
        sign = -1.0 if match.group("sign") in ("-", "−") else 1.0
        span_end = match.end("pct") if percent_word else (match.end("scale") if scale_word else match.end("num"))
        is_percent = bool(percent_word) and percent_word not in POINT_WORDS
        found.append(Spoken(
            text=text[start:span_end].strip(), start=start, end=span_end,
            value=sign * value * scale, unit=_unit(integer, decimals, hedge is not None) * scale,
            percent=is_percent, scale=scale, hedge=hedge))
    return found


def numbers_in(text: str, language: str | None = None) -> list[float]:
    """Every number value in ``text`` (digits and words), for what a question contained."""
    language = language or guess_language(text)
    values = [s.value for s in _digit_figures(text, language, [])]
    values += [w.value for w in words.word_numbers(text, language, skip_years=False)]
    return values


def find_figures(text: str, *, question: str | None = None, language: str | None = None) -> list[Spoken]:
    """The figures ``text`` claims, in order; ``question``'s own numbers are left out."""
    language = language or guess_language(text)
    skipped = _skipped_spans(text)
    figures = _digit_figures(text, language, skipped)
    taken = [(f.start, f.end) for f in figures] + skipped
    for number in words.word_numbers(text, language):
        if _inside(taken, number.start, number.end):
            continue
        before = text[:number.start]
        if _next_to_month(before, text[number.end:]) and not number.percent:
            continue
        hedge = hedge_before(before)
        unit = number.unit if hedge is None else max(number.unit, _hedged_word_unit(number.value / number.scale) * number.scale)
        figures.append(Spoken(text=number.text, start=number.start, end=number.end, value=number.value,
                              unit=unit, percent=number.percent, scale=number.scale, hedge=hedge))
    figures.sort(key=lambda f: f.start)
    if question:
        asked = numbers_in(question, language)
        figures = [f for f in figures if not any(math.isclose(f.value, q, rel_tol=1e-9, abs_tol=1e-12) for q in asked)]
    return figures


def _hedged_word_unit(value: float) -> float:
    """The place of the last non-zero digit of a whole number (the last decimal's for fractions)."""
    if value != int(value):
        return 10.0 ** -len(f"{value:.6f}".rstrip("0").partition(".")[2])
    if value == 0:
        return 1.0
    digits = str(int(abs(value)))
    return 10.0 ** (len(digits) - len(digits.rstrip("0")))
