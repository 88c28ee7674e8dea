"""Numbers in words, with their place in the text, read by ``text2num``.

``text2num`` (maintained, Rust core) finds spelled numbers in a stream of tokens for
English, French, Spanish, German, Italian, Portuguese, Dutch and Danish. This module
tokenizes a reply keeping character offsets, asks it for the occurrences, and fixes up
what a claim needs: a decimal followed by a scale word is one number ("one point two"
+ "million"), "pour cent"/"por ciento" make a percentage (not a hundred), ordinals and
spoken years ("twenty twenty-three") are not claims, nor is a small number said alone
("one of them", "un", "tercer": up to 3, text2num's own threshold) unless it is a
percentage ("two percent").

Pure functions; any thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import find_numbers

from livechat.conversation.figures.lexicon import LANGUAGES, PERCENT_WORDS, POINT_WORDS, SCALES

__all__ = ["WordNumber", "word_numbers"]

_ISOLATED_MAX = 3  # text2num's default threshold for isolated numbers, applied here knowing the percent
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+(?:[.,]\d+)*|[^\w\s]")
_PERCENT_AFTER = re.compile(r"\s*(" + "|".join(re.escape(p) for p in PERCENT_WORDS) + r")\b", re.IGNORECASE)
_HUNDRED_AFTER_PER = frozenset({("pour", "cent"), ("por", "ciento"), ("per", "cento"), ("por", "cento"),
                                ("per", "cent")})


class _Token:
    """A text2num token: its text and where it starts in the reply."""

    __slots__ = ("_text", "start", "digits")

    def __init__(self, text: str, start: int) -> None:
        self._text = text
        self.start = start
        self.digits = text[0].isdigit()

    def text(self) -> str:
        return self._text

    def nt_separated(self, previous: object) -> bool:
        return False

    def not_a_number_part(self) -> bool:
        return self.digits  # digits are read by spoken.py's regex, never merged with words

    @property
    def end(self) -> int:
        return self.start + len(self._text)


@dataclass(frozen=True)
class WordNumber:
    """A number said in words: value (scale applied), precision, and where it is."""

    text: str
    start: int
    end: int
    value: float
    unit: float
    percent: bool
    scale: float


def _decimals(value: float) -> int:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return len(text.partition(".")[2])


def _unit(value: float) -> float:
    """Precision of a spelled number: its decimals, or whole groups of trailing zeros
    ("seven thousand" to the thousand; "three hundred" to the unit, like "300")."""
    decimals = _decimals(value)
    if decimals:
        return 10.0 ** -decimals
    digits = str(int(abs(value)))
    zeros = len(digits) - len(digits.rstrip("0")) if value else 0
    return 1000.0 ** (zeros // 3)


def word_numbers(text: str, language: str, *, skip_years: bool = True) -> list[WordNumber]:
    """The spelled numbers in ``text`` (``language`` one of text2num's), in order."""
    if language not in LANGUAGES:
        return []
    tokens = [_Token(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    if not tokens:
        return []
    # threshold 0: every number is reported; the isolated-small-number rule is applied below,
    # where a following percent word is known ("two percent" is a figure, "two of them" is not).
    occurrences = list(find_numbers(tokens, language, 0.0))
    out: list[WordNumber] = []
    index = 0
    while index < len(occurrences):
        occ = occurrences[index]
        index += 1
        if occ.is_ordinal:
            continue
        first, last = tokens[occ.start], tokens[occ.end - 1]
        value, scale, end_token = float(occ.value), 1.0, occ.end
        last_word = last.text().lower()
        if last_word in SCALES and value < SCALES[last_word]:
            scale = SCALES[last_word]  # "un virgule deux million": text2num kept 1.2
            value *= scale
        following = occurrences[index] if index < len(occurrences) else None
        if following is not None and following.start == occ.end:
            words = " ".join(t.text().lower() for t in tokens[following.start:following.end])
            if words in SCALES and not following.is_ordinal:
                scale = SCALES[words]  # "one point two" + "million"
                value *= scale
                end_token = following.end
                index += 1
            elif skip_years and 19 <= value <= 20 and 0 <= following.value <= 99 and not following.is_ordinal:
                index += 1  # "twenty twenty-three", "nineteen ninety": a year
                continue
        if skip_years and value == int(value) and 1900 <= value <= 2099 and last_word not in SCALES:
            continue  # "two thousand and five": a year
        end = tokens[end_token - 1].end
        percent = False
        following = occurrences[index] if index < len(occurrences) else None
        # "pour cent" / "por ciento": text2num reads "cent"/"ciento" as a hundred.
        if end_token < len(tokens) - 1:
            pair = (tokens[end_token].text().lower(), tokens[end_token + 1].text().lower())
            if pair in _HUNDRED_AFTER_PER:
                percent, end = True, tokens[end_token + 1].end
                if following is not None and following.start == end_token + 1:
                    index += 1
        if not percent:
            match = _PERCENT_AFTER.match(text, end)
            if match:
                percent = match.group(1).lower() not in POINT_WORDS
                end = match.end()
        if end_token - occ.start == 1 and value <= _ISOLATED_MAX and not percent:
            continue  # "un", "unos", "tercer": an article or a rank more often than a figure ("two percent" stays)
        out.append(WordNumber(text=text[first.start:end], start=first.start, end=end, value=value,
                              unit=_unit(value / scale) * scale, percent=percent, scale=scale))
    return out
