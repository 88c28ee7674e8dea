"""Numbers written the local way, read as numbers: "1.234,56", "1 234,56", "$1,200.00", "12.5%".

A text column is converted when every non-empty value reads as a number under one
convention (one decimal mark, one currency, percent or not):

- decimal comma, with ".", space, no-break space, narrow no-break space or "'" between
  thousands ("1.234,56", "1 234,56" as Excel writes them in Germany and France);
- decimal point, with ",", space or "'" between thousands ("1,234.56", "1'234.50");
- a leading or trailing currency symbol or ISO code ("$", "€ ", " CHF"), kept as the
  column's currency;
- a trailing "%": the number is the percentage (12.5 for "12.5%"), the column is percent.

A value such as "1.234" or "1,234" reads both ways (1.234 or 1234). Such a column is
decided by its other values, then by the file's convention (the decimal mark of the
file's other columns), else left as text with a warning naming it. A column where most
values are numbers but a few are not stays text, with a warning naming it and a value.

The column scan is vectorised (pyarrow compute: one regular-expression match per
plausible convention, then one clean-up and a cast), so a 1,000,000-row column converts
in well under a second; a column that is plainly text is rejected from its first values.

Pure functions of the DataFrame; call from any thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DECIMAL_COMMA",
    "DECIMAL_POINT",
    "ColumnConversion",
    "NumberConversions",
    "convert_number_columns",
    "file_decimal_mark",
]

logger = logging.getLogger(__name__)

DECIMAL_COMMA = ","
DECIMAL_POINT = "."
_CONVENTION_NAMES = {DECIMAL_COMMA: "decimal comma", DECIMAL_POINT: "decimal point"}

# Symbols and ISO codes seen next to amounts. Codes with a dot ("Fr.", "kr.") are left
# out: the dot would read as a decimal mark.
_CURRENCIES = (
    "US$", "CA$", "AU$", "NZ$", "HK$", "R$", "C$", "A$", "$", "€", "£", "¥", "₹", "₽", "₩",
    "₺", "₪", "₫", "₴", "₦", "₱", "฿", "zł", "Kč", "CHF", "USD", "EUR", "GBP", "JPY",
    "CNY", "RMB", "INR", "RUB", "KRW", "PLN", "CZK", "HUF", "SEK", "NOK", "DKK", "CAD",
    "AUD", "NZD", "BRL", "MXN", "ZAR", "TRY", "ILS", "SGD", "HKD", "TWD", "THB",
)
_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space (French)
_SPACE = f"[\\s{_SPACES}]*"
_SIGN = "[-+\u2212]?"  # \u2212 is the minus sign some exporters write
# Thousands separators each convention allows (the other mark is the decimal one).
_THOUSANDS = {DECIMAL_COMMA: f".'{_SPACES}", DECIMAL_POINT: f",'{_SPACES}"}

# How many values decide whether a column is worth a full scan, and how many of them
# must look like numbers (a text column is rejected here, at no cost).
_PROBE_VALUES = 500
_PROBE_MIN_SHARE = 0.5
# A column where this share of values are numbers, but not all, gets a warning.
_STRAY_MIN_SHARE = 0.8
_EXAMPLES = 3


@dataclass(frozen=True)
class ColumnConversion:
    """One text column read as numbers (or dates) by a convention: what it looked like
    and what it became. `kind` is "number" or "date"."""

    column: str
    example: str  # a value as written in the file
    value: str  # that value as read
    convention: str  # "decimal comma", "decimal point" or, for dates, "day first"
    kind: str = "number"
    currency: str | None = None
    percent: bool = False
    # True when the column alone could not tell: the file's other columns decided it.
    by_file_convention: bool = False

    @property
    def decimal_mark(self) -> str | None:
        """DECIMAL_COMMA or DECIMAL_POINT for numbers, None for dates."""
        return {v: k for k, v in _CONVENTION_NAMES.items()}.get(self.convention)

    def describe(self) -> str:
        """"Umsatz: read '1.234,56' as 1234.56, decimal comma" (for the Data page)."""
        parts = [f"{self.column}: read '{self.example}' as {self.value}, {self.convention}"]
        if self.currency:
            parts.append(f"currency {self.currency}")
        if self.percent:
            parts.append("percent")
        if self.by_file_convention:
            parts.append("as in the file's other columns")
        return ", ".join(parts)

    @property
    def unit(self) -> str:
        """Currency ("€", "USD"), "%" for percent, "" otherwise (profile and summary)."""
        if self.percent:
            return "%"
        return self.currency or ""


@dataclass(frozen=True)
class NumberConversions:
    """What `convert_number_columns` did: the conversions, the warnings, and the
    decimal mark the file's columns show (DECIMAL_COMMA, DECIMAL_POINT or None)."""

    conversions: tuple[ColumnConversion, ...]
    warnings: tuple[str, ...]
    decimal_mark: str | None


@dataclass(frozen=True)
class _Shape:
    """What the first values of a column say: which marks fit, currency, percent."""

    marks: tuple[str, ...]  # conventions under which every probed value reads
    currencies: tuple[str, ...]  # currency symbols or codes seen (more than one: not converted)
    percent: bool
    sample: tuple[str, ...]  # the probed values

    @property
    def currency(self) -> str | None:
        return self.currencies[0] if len(self.currencies) == 1 else None


def file_decimal_mark(reader_mark: str | None, conversions: Sequence[ColumnConversion]) -> str | None:
    """The file's decimal mark from the reader's sniffed cells and the columns converted
    without help; None when there is no evidence or it conflicts."""
    marks = {c.decimal_mark for c in conversions if not c.by_file_convention and c.decimal_mark}
    if reader_mark is not None:
        marks.add(reader_mark)
    return next(iter(marks)) if len(marks) == 1 else None


def convert_number_columns(
    df: pd.DataFrame, *, reader_mark: str | None = None
) -> tuple[pd.DataFrame, NumberConversions]:
    """Convert the text columns of `df` that hold numbers written under one convention.

    `reader_mark` is the decimal mark the reader saw in the file's cells (None if no
    evidence). Columns are replaced in place in `df`, which is also returned.
    """
    conversions: list[ColumnConversion] = []
    warnings: dict[int, str] = {}
    undecided: list[tuple[int, _Shape, str]] = []
    for position in range(df.shape[1]):
        col = df.iloc[:, position]
        if not _is_text(col):
            continue
        shape = _probe(col)
        if shape is None:
            continue
        outcome = _scan(df, position, shape, shape.marks, by_file=False)
        if isinstance(outcome, ColumnConversion):
            conversions.append(outcome)
        elif isinstance(outcome, _Undecided):
            undecided.append((position, shape, outcome.example))
        elif outcome:
            warnings[position] = outcome
    # Values such as "1.234" alone: the file's other columns decide, else they stay text.
    mark = file_decimal_mark(reader_mark, conversions)
    for position, shape, example in undecided:
        name = str(df.columns[position])
        if mark is None:
            warnings[position] = (
                f"Column '{name}' has numbers such as '{example}' that read as "
                f"{_format(_as_number(example, DECIMAL_POINT), False)} with a decimal point or "
                f"{_format(_as_number(example, DECIMAL_COMMA), False)} with a decimal comma, and "
                "nothing in the file tells which; it is kept as text."
            )
            continue
        outcome = _scan(df, position, shape, (mark,), by_file=True)
        if isinstance(outcome, ColumnConversion):
            conversions.append(outcome)
        elif isinstance(outcome, str) and outcome:
            warnings[position] = outcome
    order = {str(name): i for i, name in enumerate(df.columns)}
    conversions.sort(key=lambda c: order.get(c.column, 0))
    notes = tuple(warnings[p] for p in sorted(warnings))
    return df, NumberConversions(tuple(conversions), notes, file_decimal_mark(reader_mark, conversions))


@dataclass(frozen=True)
class _Undecided:
    """Every value reads under both marks and some read differently: "1.234"."""

    example: str


def _is_text(col: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(col.dtype) and col.dtype != object


# Stands for "any known currency" in a pattern (the probe); None means no currency.
_ANY = "*"


def _value_pattern(mark: str, currency: str | None, percent: bool) -> str:
    """The regular expression (RE2 and Python alike) one value must match in full."""
    thousands = re.escape(_THOUSANDS[mark])
    integer = f"(?:[1-9][0-9]{{0,2}}(?:[{thousands}][0-9]{{3}})+|0|[1-9][0-9]*)"
    number = f"(?:{integer}(?:{re.escape(mark)}[0-9]+)?|{re.escape(mark)}[0-9]+)"
    tail = f"{_SPACE}%" if percent else ""
    if currency is None:
        return f"^{_SPACE}$|^{_SPACE}{_SIGN}{_SPACE}{number}{tail}{_SPACE}$"
    names = _CURRENCIES if currency == _ANY else (currency,)
    cur = "(?:" + "|".join(re.escape(c) for c in names) + ")"
    return (
        f"^{_SPACE}$|^{_SPACE}{_SIGN}{_SPACE}(?:{cur}{_SPACE})?{_SIGN}{_SPACE}{number}"
        f"(?:{_SPACE}{cur})?{tail}{_SPACE}$"
    )


_ANY_CURRENCY = re.compile(
    "|".join(re.escape(c) for c in sorted(_CURRENCIES, key=len, reverse=True))
)
_PROBE = {
    (mark, percent): re.compile(_value_pattern(mark, _ANY, percent))
    for mark in (DECIMAL_COMMA, DECIMAL_POINT)
    for percent in (False, True)
}


def _probe(col: pd.Series) -> _Shape | None:
    """Decide from the first values whether the column may hold numbers, and how."""
    head = col.iloc[: _PROBE_VALUES * 4].dropna()
    values = [v for v in head.iloc[:_PROBE_VALUES].tolist() if isinstance(v, str) and v.strip()]
    if not values:
        return None
    percent = sum(v.rstrip().endswith("%") for v in values) > len(values) / 2
    fits = {
        mark: [bool(_PROBE[(mark, percent)].match(v)) for v in values]
        for mark in (DECIMAL_COMMA, DECIMAL_POINT)
    }
    either = sum(a or b for a, b in zip(fits[DECIMAL_COMMA], fits[DECIMAL_POINT], strict=True))
    if either == 0 or either < _PROBE_MIN_SHARE * len(values):
        return None
    marks = tuple(m for m in (DECIMAL_COMMA, DECIMAL_POINT) if all(fits[m]))
    if not marks:
        # Neither mark reads every probed value: take the one that reads more; the full
        # scan then reports the values that are not numbers.
        marks = (max(fits, key=lambda m: sum(fits[m])),)
    found = sorted({m.group(0) for v in values if (m := _ANY_CURRENCY.search(v))})
    return _Shape(marks, tuple(found), percent, tuple(values))


def _scan(
    df: pd.DataFrame, position: int, shape: _Shape, marks: tuple[str, ...], *, by_file: bool
) -> ColumnConversion | _Undecided | str | None:
    """Check the whole column under `marks`; convert it in `df` when one mark reads
    every value. Returns the conversion, _Undecided, a warning, or None (not numbers)."""
    name = str(df.columns[position])
    if len(shape.currencies) > 1:
        shown = ", ".join(shape.currencies)
        return f"Column '{name}' has amounts in several currencies ({shown}); it is kept as text."
    arr = pa.array(df.iloc[:, position])
    present = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False)
    n_present = _count(present)
    if n_present == 0:
        return None
    fitting = []
    for mark in marks:
        matched = pc.match_substring_regex(arr, _value_pattern(mark, shape.currency, shape.percent))
        ok = pc.and_(present, pc.fill_null(matched, False))
        fitting.append((mark, ok, _count(ok)))
    complete = [mark for mark, _, count in fitting if count == n_present]
    if len(complete) == 2:
        differs = pc.and_(present, pc.fill_null(pc.match_substring_regex(arr, "[.,]"), False))
        if _count(differs):
            return _Undecided(_first(arr, differs))
        complete = complete[1:]  # "1 234", "$5": both marks read the same number
    if not complete:
        mark, ok, count = max(fitting, key=lambda f: f[2])
        if count < _STRAY_MIN_SHARE * n_present:
            return None
        bad = pc.and_(present, pc.invert(ok))
        return (
            f"Column '{name}' holds numbers, but {n_present - count:,} value(s) are not "
            f"numbers ({_examples(arr, bad)}); it is kept as text."
        )
    mark = complete[0]
    numbers, is_integer = _to_numbers(arr, mark, shape)
    df.isetitem(position, numbers)
    example = _example(arr, present, mark)
    return ColumnConversion(
        column=name,
        example=example.strip(),
        value=_format(_as_number(example, mark), is_integer),
        convention=_CONVENTION_NAMES[mark],
        currency=shape.currency,
        percent=shape.percent,
        by_file_convention=by_file,
    )


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _to_numbers(arr: pa.Array, mark: str, shape: _Shape) -> tuple[np.ndarray, bool]:
    """Every value of a column that matched `mark`'s pattern, as float64 (or int64).

    Literal replacements only (each several times cheaper than a regular-expression
    replace), first of just the characters the probed values hold; should a later value
    hold another one (the cast then fails), of every character the pattern allows.
    """
    text = arr.cast(pa.string()) if pa.types.is_large_string(arr.type) else arr
    seen = "".join(shape.sample)
    allowed = [*_THOUSANDS[mark], "\t", "\u2212", "%"] + ([shape.currency] if shape.currency else [])
    try:
        return _cast(text, mark, [c for c in allowed if c in seen])
    except pa.ArrowInvalid:
        return _cast(text, mark, allowed)


def _cast(text: pa.Array, mark: str, remove: list[str]) -> tuple[np.ndarray, bool]:
    for chars in remove:
        text = pc.replace_substring(text, chars, "-" if chars == "\u2212" else "")
    has_fraction = bool(pc.any(pc.match_substring(text, mark)).as_py())
    if mark == DECIMAL_COMMA and has_fraction:
        text = pc.replace_substring(text, ",", ".")
    # Whitespace-only cells ("  ") are empty: null, like the reader's empty cells.
    text = pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.scalar(None, text.type), text)
    values = pc.cast(text, pa.float64())
    floats = np.asarray(values.to_numpy(zero_copy_only=False), dtype="float64")
    if not has_fraction and values.null_count == 0 and bool(np.all(np.abs(floats) < 2**53)):
        return floats.astype("int64"), True
    return floats, not has_fraction


def _as_number(text: str, mark: str) -> float:
    negative = "-" in text or "\u2212" in text
    digits = re.sub(f"[^0-9{re.escape(mark)}]", "", text).replace(",", ".")
    value = float(digits) if digits.strip(".") else float("nan")
    return -value if negative else value


def _format(value: float, is_integer: bool) -> str:
    if is_integer and np.isfinite(value):
        return str(int(value))
    return f"{value:.10g}" if abs(value) < 1e15 else f"{value:g}"


def _first(arr: pa.Array, mask: pa.Array) -> str:
    return str(pc.filter(arr, mask)[0].as_py()).strip()


def _example(arr: pa.Array, present: pa.Array, mark: str) -> str:
    """A value that shows the convention: one with the decimal mark if any has it."""
    with_mark = pc.and_(present, pc.fill_null(pc.match_substring(arr, mark), False))
    if bool(pc.any(with_mark).as_py()):
        return str(pc.filter(arr, with_mark)[0].as_py())
    return str(pc.filter(arr, present)[0].as_py())


def _examples(arr: pa.Array, mask: pa.Array) -> str:
    values = pc.filter(arr, mask)[:_EXAMPLES].to_pylist()
    return ", ".join(f"'{v.strip()[:40]}'" for v in values)
