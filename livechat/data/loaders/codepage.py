"""Which legacy code page a non-UTF-8 text file is in, named by charset-normalizer.

Excel's plain "CSV" on a Windows machine writes the system's ANSI code page:
Windows-1252 in Western Europe and the Americas, 1250 in Central Europe, 1251 for
Cyrillic, Shift-JIS (cp932) in Japan, GB18030/GBK (cp936) in China, Big5 (cp950) in
Taiwan and Hong Kong, EUC-KR (cp949) in Korea. `detect_codepage` asks charset-normalizer
about those (plus a few neighbours) only, on a bounded sample, so detection costs the
same for a 1 MB and a 200 MB file.

Pure functions; call from any thread.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import charset_normalizer

__all__ = ["CHOICES", "CodepageGuess", "detect_codepage", "label", "sample"]

# The code pages a spreadsheet tool writes, in the order the Data page offers them.
# Each is the Windows superset of the standard it extends (cp932 ⊃ Shift-JIS,
# cp949 ⊃ EUC-KR, cp950 ⊃ Big5, GB18030 ⊃ GBK ⊃ GB2312), so reading with it never
# loses a character the narrower standard has.
CHOICES: tuple[str, ...] = (
    "utf-8",
    "cp1252",
    "cp1250",
    "cp1251",
    "cp932",
    "gb18030",
    "cp950",
    "cp949",
    "cp1253",
    "cp1254",
    "cp1257",
    "koi8-r",
    "latin-1",
    "utf-16-le",
    "utf-16-be",
)
_LABELS = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Western European)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp932": "Shift-JIS (Japanese)",
    "gb18030": "GB18030 (Simplified Chinese)",
    "cp950": "Big5 (Traditional Chinese)",
    "cp949": "EUC-KR (Korean)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1257": "Windows-1257 (Baltic)",
    "koi8-r": "KOI8-R (Cyrillic)",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "utf-16-le": "UTF-16 little-endian",
    "utf-16-be": "UTF-16 big-endian",
}
# What charset-normalizer may answer (its names) -> the codec we read with.
_SUPERSETS = {
    "shift_jis": "cp932",
    "shift_jis_2004": "cp932",
    "shift_jisx0213": "cp932",
    "euc_kr": "cp949",
    "big5": "cp950",
    "big5hkscs": "cp950",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "koi8_r": "koi8-r",
    "latin_1": "latin-1",
}
# Asked of charset-normalizer: only the legacy code pages above (its own spelling).
# Without this list it answers mac_roman or cp1006 for short Western or Cyrillic files.
_ISOLATION = [
    "cp1252",
    "cp1250",
    "cp1251",
    "cp1253",
    "cp1254",
    "cp1257",
    "cp932",
    "gb18030",
    "big5",
    "cp949",
    "koi8_r",
]
# When several answers read the sample identically, name the most common one.
_PREFERENCE = ("cp1252", "cp1250", "cp1251", "cp932", "gb18030", "cp950", "cp949")

SAMPLE_HEAD = 64 * 1024
SAMPLE_WINDOWS = 6
SAMPLE_WINDOW = 8 * 1024
# A language-coherence score (0..1) at or above this makes the answer certain.
_COHERENT = 0.1
# Answers this close in "mess" to the best one are as plausible.
_CHAOS_MARGIN = 0.02
_COHERENCE_MARGIN = 0.05
_NON_ASCII = re.compile(rb"[\x80-\xff]")
# Latin-1 supplement to spacing modifiers: where single-byte mojibake symbols live
# ("³", "¯", "£", "¿"); CJK punctuation ("、") is not suspicious.
_LATIN_SYMBOLS = re.compile(r"[\u0080-\u02ff]")


@dataclass(frozen=True)
class CodepageGuess:
    """The detector's answer: `codec` (None when nothing fits), whether it is certain,
    and the plausible codecs best first (for the Data page's picker)."""

    codec: str | None
    certain: bool
    candidates: tuple[str, ...]


def label(codec: str) -> str:
    """What the analyst sees for a codec name; unknown names are shown as given."""
    try:
        canonical = codecs.lookup(codec).name
    except LookupError:
        return codec
    for name, text in _LABELS.items():
        if codecs.lookup(name).name == canonical:
            return text
    return codec


def sample(data: bytes) -> bytes:
    """At most SAMPLE_HEAD + SAMPLE_WINDOWS × SAMPLE_WINDOW bytes of whole lines:
    the head of the file and windows spread over the rest, so a file whose first rows
    are plain ASCII is still judged by its non-ASCII text. Lines are cut at b"\\n",
    which is never part of a multi-byte character in these code pages."""
    if len(data) <= SAMPLE_HEAD + SAMPLE_WINDOWS * SAMPLE_WINDOW:
        return data
    pieces = [_whole_lines(data, 0, SAMPLE_HEAD)]
    # Evenly spread, the last one ending at the end of the file.
    step = (len(data) - SAMPLE_HEAD - SAMPLE_WINDOW) // (SAMPLE_WINDOWS - 1)
    for k in range(SAMPLE_WINDOWS):
        pieces.append(_whole_lines(data, SAMPLE_HEAD + k * step, SAMPLE_WINDOW))
    joined = b"\n".join(p for p in pieces if p)
    if not _NON_ASCII.search(joined):
        # Non-ASCII bytes only somewhere between the windows: look at the first of them.
        # (A C-speed scan; the one step whose time grows with the file, and only then.)
        found = _NON_ASCII.search(data)
        if found is not None:
            start = max(0, found.start() - SAMPLE_WINDOW // 2)
            joined += b"\n" + _whole_lines(data, start, SAMPLE_WINDOW)
    return joined


def detect_codepage(data: bytes) -> CodepageGuess:
    """Name the legacy code page of `data` (text that is not valid UTF-8)."""
    matches = list(charset_normalizer.from_bytes(sample(data), cp_isolation=_ISOLATION))
    if not matches:
        return CodepageGuess(None, False, _with_choices(()))
    least = min(m.chaos for m in matches)
    close = [_Reading(m) for m in matches if m.chaos <= least + _CHAOS_MARGIN]
    # On small samples charset-normalizer often finds several code pages equally clean
    # (Polish text reads "cleanly" as Windows-1252 too: "ma³opolskie"). Symbols inside
    # words are the mojibake it misses; then language coherence; then the commoner page.
    close.sort(key=lambda r: (r.mojibake, r.chaos, -r.coherence, r.rank))
    chosen = close[0]
    rivals = [r for r in close[1:] if r.text != chosen.text]
    certain = all(
        r.mojibake > chosen.mojibake
        or (chosen.coherence >= _COHERENT and r.coherence < chosen.coherence - _COHERENCE_MARGIN)
        for r in rivals
    )
    ordered = [r.codec for r in close] + [_preferred(m.could_be_from_charset) for m in matches]
    return CodepageGuess(chosen.codec, certain, _with_choices(tuple(ordered)))


class _Reading:
    """One plausible decoding of the sample and what ranks it."""

    def __init__(self, match: charset_normalizer.CharsetMatch) -> None:
        self.codec = _preferred(match.could_be_from_charset)
        self.text = str(match)
        self.coherence = float(match.coherence)
        self.chaos = float(match.chaos)
        self.mojibake = _symbols_in_words(self.text)
        self.rank = _PREFERENCE.index(self.codec) if self.codec in _PREFERENCE else len(_PREFERENCE)


def _symbols_in_words(text: str) -> int:
    """Latin-range non-letters between two letters ("ma³opolskie"): mojibake."""
    count = 0
    for found in _LATIN_SYMBOLS.finditer(text):
        i = found.start()
        if (
            not text[i].isalpha()
            and 0 < i < len(text) - 1
            and text[i - 1].isalpha()
            and text[i + 1].isalpha()
        ):
            count += 1
    return count


def _whole_lines(data: bytes, start: int, size: int) -> bytes:
    piece = data[start : start + size]
    if start > 0:
        first = piece.find(b"\n")
        piece = piece[first + 1 :] if first >= 0 else b""
    if start + size < len(data):
        last = piece.rfind(b"\n")
        piece = piece[: last + 1] if last >= 0 else b""
    return piece


def _preferred(names: list[str]) -> str:
    """One codec for a set of answers that all decode the sample the same way."""
    codecs_ = [_SUPERSETS.get(n, n) for n in names]
    for name in _PREFERENCE:
        if name in codecs_:
            return name
    return codecs_[0]


def _with_choices(detected: tuple[str, ...]) -> tuple[str, ...]:
    """The detector's codecs first, then the short list, each once."""
    seen: dict[str, None] = {}
    for name in (*detected, *CHOICES):
        seen.setdefault(name, None)
    return tuple(seen)
