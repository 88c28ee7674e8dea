"""Turn untrusted spreadsheet text (names, cells, file names) into safe one-line text.

Everything that comes from an uploaded file is data, never instructions. Before it is
placed in the data block of the system instruction it is:

* made single-line: newlines, tabs, other control characters, invisible format
  characters (zero-width, bidi overrides, Unicode "tag" characters used to smuggle hidden
  text) and lone surrogates become visible escapes such as ``\\n`` or ``\\u{202e}``;
* stripped of fence look-alikes: any run of three or more ``<``, ``>`` or backticks is
  spaced out (``<<<`` becomes ``< < <``), so no value can start or end a fence;
* capped in length (60 characters by default), the cut marked with "…".

The data block itself is fenced by lines that carry a nonce derived from a hash of the
block's body (:func:`fence_lines`): to forge the closing line a value would have to
contain the hash of a body that contains it, and the marker's ``<<<`` can't appear in
values anyway.

Numbers and percentages are formatted here too (:func:`format_number`,
:func:`format_percent`), so every value in the block goes through one module.
Pure functions, safe from any thread.
"""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pandas as pd

__all__ = [
    "CELL_CAP",
    "NAME_CAP",
    "ELLIPSIS",
    "fence_lines",
    "fence_nonce",
    "escape_text",
    "format_number",
    "format_percent",
    "format_value",
    "csv_field",
    "quote_name",
    "sanitize_dataset_name",
]

CELL_CAP = 60
NAME_CAP = 80
ELLIPSIS = "…"
FENCE_OPEN = "<<<DATA "
FENCE_CLOSE = "<<<END DATA "
_NONCE_CHARS = 16

# Characters that must not reach the model raw: C0/C1 controls, soft hyphen, Arabic letter
# mark, Mongolian vowel separator, zero-width and bidi marks, line/paragraph separators,
# bidi embeddings/isolates, word joiners, BOM, interlinear annotation, lone surrogates and
# the invisible "tag" block.
_UNSAFE_CHAR = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]"
)
_FENCE_RUN = re.compile(r"<{3,}|>{3,}|`{3,}")
_UNSAFE = re.compile(_UNSAFE_CHAR.pattern + r"|<<<|>>>|```")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# An escape cut in half by the length cap ("\u{20") is removed rather than left dangling.
_PARTIAL_ESCAPE = re.compile(r"\\(?:u(?:\{[0-9a-f]*)?)?$")
# For file names: quotes of every kind, backslash, angle brackets, backticks, controls.
_NAME_DROP = re.compile(
    _UNSAFE_CHAR.pattern[:-1] + "\"'`\\\\<>\u2018-\u201f\u00ab\u00bb\u2039\u203a]"
)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    return named if named is not None else f"\\u{{{ord(char):x}}}"


def _space_out(match: re.Match[str]) -> str:
    return " ".join(match.group())


def escape_text(text: str, cap: int = CELL_CAP) -> str:
    """Return ``text`` as safe one-line text of at most ``cap`` characters.

    Only the first ``cap + 1`` characters are ever looked at, so a 100 KB cell costs the
    same as a short one.
    """
    if len(text) <= cap and _UNSAFE.search(text) is None:
        return text
    cut = len(text) > cap
    head = text[: cap + 1]
    out = _FENCE_RUN.sub(_space_out, _UNSAFE_CHAR.sub(_escape_char, head))
    if len(out) > cap:
        cut = True
    if cut:
        out = _PARTIAL_ESCAPE.sub("", out[: cap - 1]) + ELLIPSIS
        # Cutting may have left e.g. "<<" followed by "…"; that is harmless, but a cut
        # "< < <" could never re-form a fence run, so nothing else to do.
    return out


def _format_big_int(value: int) -> str:
    # str() of a huge int is slow and raises past 4300 digits; show a rounded mantissa.
    magnitude = abs(value)
    if magnitude < 10**18:
        return str(value)
    exponent = int(math.log10(magnitude))
    mantissa = magnitude / 10**exponent
    if mantissa >= 10:  # log10 rounding at the boundary
        mantissa /= 10
        exponent += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{mantissa:.6g}e+{exponent}"


def format_number(value: float | int) -> str:
    """Format a number compactly: exact integers, 6 significant digits otherwise."""
    if isinstance(value, int):
        return _format_big_int(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.6g}"


def format_percent(part: float, whole: float) -> str:
    """``part`` of ``whole`` as a short percentage ("25%", "33.3%", "<0.1%", ">99.9%")."""
    if whole <= 0:
        return "0%"
    share = 100.0 * part / whole
    if 0 < share < 0.1:
        return "<0.1%"
    if 99.9 < share < 100:
        return ">99.9%"
    return f"{share:.1f}%".replace(".0%", "%")


def format_value(value: object, cap: int = CELL_CAP) -> str:
    """Render any cell value as safe one-line text; missing values render as ``""``.

    Never raises: an object whose ``str()`` fails renders as ``<unprintable TYPE>``.
    """
    try:
        if value is None or value is pd.NaT or value is pd.NA:
            return ""
        if isinstance(value, (bool, np.bool_)):
            return "true" if value else "false"
        # Integers before floats: a huge int must not go through float().
        if isinstance(value, (int, np.integer)):
            return format_number(int(value))
        if isinstance(value, (float, np.floating)):
            number = float(value)
            return "" if math.isnan(number) else format_number(number)
        if isinstance(value, str):
            return escape_text(value, cap)
        if isinstance(value, pd.Timestamp) and value.tzinfo is None and value == value.normalize():
            return _date_text(value)
        text = str(value)
    except Exception:  # noqa: BLE001 - a hostile __str__ must not break the summary
        text = f"<unprintable {type(value).__name__}>"
    return escape_text(text, cap)


def _date_text(value: pd.Timestamp) -> str:
    # A date stored as a timestamp: the "00:00:00" is noise (and costs tokens).
    try:
        return value.strftime("%Y-%m-%d")
    except (ValueError, OverflowError):
        return str(value)


def csv_field(text: str) -> str:
    """Quote an already-escaped value for CSV when it holds a comma, a quote or edge spaces."""
    if not text:
        return text
    if "," in text or '"' in text or text[0] == " " or text[-1] == " ":
        return '"' + text.replace('"', '""') + '"'
    return text


def quote_name(label: str) -> str:
    """Wrap an already-escaped column name in double quotes (inner quotes backslashed)."""
    return '"' + label.replace('"', '\\"') + '"'


def sanitize_dataset_name(name: object, cap: int = NAME_CAP) -> str:
    """Return a dataset (file) name safe to quote in the instruction's first line.

    Drops control/format characters, quotes, backticks, backslashes and angle brackets,
    collapses whitespace, caps at ``cap`` characters ("…" marks the cut). An empty result
    becomes ``"dataset"``.
    """
    text = name if isinstance(name, str) else ("" if name is None else format_value(name, cap * 2))
    text = _NAME_DROP.sub(" ", text)
    text = " ".join(text.split())
    if len(text) > cap:
        text = text[: cap - 1].rstrip() + ELLIPSIS
    return text or "dataset"


def fence_lines(body: str) -> tuple[str, str]:
    """Return the (opening, closing) fence lines for a data block with this ``body``.

    The nonce is the first 16 hex digits of SHA-256 of the body: deterministic, different
    for different data, and impossible for the body to predict.
    """
    nonce = hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()[:_NONCE_CHARS]
    return f"{FENCE_OPEN}{nonce}>>>", f"{FENCE_CLOSE}{nonce}>>>"


_FENCE_OPEN_LINE = re.compile(rf"^<<<DATA ([0-9a-f]{{{_NONCE_CHARS}}})>>>$", re.MULTILINE)


def fence_nonce(text: str) -> str | None:
    """Return the nonce of the first data-block opening line in ``text``, if any."""
    match = _FENCE_OPEN_LINE.search(text)
    return match.group(1) if match else None
