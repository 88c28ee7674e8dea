"""Clean-up applied to every loaded table, whatever the format.

Three steps, each returning the warnings the analyst should see:
- column names become unique, non-empty strings;
- object columns (Excel, JSON, mixed content) get one real dtype, text if nothing else;
- text columns that hold dates in one unambiguous format become datetimes.

Date detection looks at a sample first and converts a whole column only when the sample
parses completely; a column that would lose values keeps its text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from livechat.data.loaders.common import NULL_MARKERS
from livechat.data.loaders.numbers import ColumnConversion

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
_NULL_SET = frozenset(NULL_MARKERS)
_EXAMPLES = 5
_SAMPLE = 2000

_ISO = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?"
)
_TZ_SUFFIX = re.compile(r".*(?:Z|[+-]\d{2}:?\d{2})$")
_DAY_MONTH = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?P<time>[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_YEAR_FIRST = re.compile(r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?P<time>[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_NAMED_MONTH = re.compile(
    rf"(?i)(?=.*\b(?:{_MONTHS})[a-z]*\b)(?=.*\d{{4}})[A-Za-z0-9 ,.:/\-]{{6,40}}"
)


def clean_column_names(names: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Make names unique, non-empty, stripped strings. Returns (names, warnings).

    Blank names become "column_N" (N = 1-based position); a repeated name gets "_2",
    "_3", ... in order of appearance, never colliding with another column.
    """
    texts = [_name_text(n) for n in names]
    blanks: list[str] = []
    truncated = 0
    for i, text in enumerate(texts):
        if not text:
            texts[i] = f"column_{i + 1}"
            blanks.append(texts[i])
        elif len(text) > MAX_NAME_LENGTH:
            texts[i] = text[: MAX_NAME_LENGTH - 1] + "…"
            truncated += 1
    taken = set(texts)
    seen: set[str] = set()
    renamed: list[tuple[str, str]] = []
    result: list[str] = []
    for text in texts:
        if text in seen:
            k = 2
            while f"{text}_{k}" in taken:
                k += 1
            new = f"{text}_{k}"
            taken.add(new)
            renamed.append((text, new))
            text = new
        seen.add(text)
        result.append(text)
    notes: list[str] = []
    if blanks:
        notes.append(
            f"{len(blanks)} column(s) had no name and were named "
            f"{_examples(blanks)}."
        )
    if renamed:
        pairs = [f"'{old}' → '{new}'" for old, new in renamed]
        notes.append(f"{len(renamed)} duplicate column name(s) were renamed: {_examples(pairs)}.")
    if truncated:
        notes.append(
            f"{truncated} column name(s) longer than {MAX_NAME_LENGTH} characters were shortened."
        )
    return result, notes


def normalise_object_columns(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Give every object-dtype column a single dtype. Returns (df, warnings)."""
    notes: list[str] = []
    for position, name in enumerate(df.columns):
        col = df.iloc[:, position]
        if col.dtype != object:
            continue
        converted, note = _normalise_object(col)
        df.isetitem(position, converted)
        if note:
            notes.append(f"Column '{name}' {note}")
    return df, notes


def parse_text_dates(
    df: pd.DataFrame,
    *,
    day_first: bool | None = None,
    decided: list[ColumnConversion] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Convert text columns holding unambiguous dates. Returns (df, warnings).

    `day_first=True` (the file's numbers are European) settles "03/04/2024", which
    fits both day-first and month-first, as 3 April; such columns are appended to
    `decided`. Without it those columns stay text with a warning.
    """
    notes: list[str] = []
    for position, name in enumerate(df.columns):
        col = df.iloc[:, position]
        if not pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
            continue
        converted, note, example = _parse_dates(col, day_first=day_first)
        if converted is not None:
            df.isetitem(position, converted)
            if example is not None and decided is not None:
                decided.append(_date_conversion(str(name), example, converted))
        if note:
            notes.append(f"Column '{name}' {note}")
    return df, notes


def _date_conversion(name: str, example: str, converted: pd.Series) -> ColumnConversion:
    first = converted.dropna().iloc[0]
    shown = first.strftime("%Y-%m-%d") if first == first.normalize() else first.isoformat(sep=" ")
    return ColumnConversion(
        column=name,
        example=example,
        value=shown,
        convention="day first",
        kind="date",
        by_file_convention=True,
    )


def _name_text(name: Any) -> str:
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    if isinstance(name, float) and name.is_integer():
        return str(int(name))
    if isinstance(name, dt.datetime):
        return name.date().isoformat() if name.time() == dt.time() else name.isoformat(sep=" ")
    if isinstance(name, dt.date):
        return name.isoformat()
    return " ".join(str(name).split())  # trims, and folds newlines inside header cells


def _examples(items: list[str]) -> str:
    shown = ", ".join(items[:_EXAMPLES])
    return shown + (f" and {len(items) - _EXAMPLES} more" if len(items) > _EXAMPLES else "")


def _normalise_object(col: pd.Series) -> tuple[pd.Series, str | None]:
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind == "string":
        return col.astype("str"), None
    if kind in ("mixed", "mixed-integer"):
        # Spreadsheet habit: values with "n/a" or "" among them are values with gaps.
        blanked = col.map(_blank_to_none)
        blanked_kind = pd.api.types.infer_dtype(blanked, skipna=True)
        if blanked_kind not in ("mixed", "mixed-integer", "string"):
            col, kind = blanked, blanked_kind
    if kind == "empty":
        return col.astype("float64"), None
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        numbers = pd.to_numeric(col, errors="coerce")
        if numbers.dtype != object and int(numbers.isna().sum()) == int(col.isna().sum()):
            return numbers, None
        return _as_text(col), None  # e.g. integers too big for 64 bits
    if kind == "boolean":
        return (col.astype(bool) if col.notna().all() else col.astype("boolean")), None
    if kind in ("datetime", "datetime64", "date"):
        try:
            return pd.to_datetime(col), None
        except (ValueError, TypeError, OverflowError):
            return _as_text(col), "mixes time zones or has out-of-range dates; it is shown as text."
    if kind == "timedelta":
        try:
            return pd.to_timedelta(col), None
        except (ValueError, TypeError, OverflowError):
            return _as_text(col), None
    if kind == "bytes":
        return col.map(lambda v: v.decode("utf-8", "replace") if isinstance(v, bytes) else v).astype(
            "str"
        ), None
    if col.map(lambda v: isinstance(v, (list, dict, tuple, set, np.ndarray))).any():
        return _as_json_text(col), "holds nested lists or objects; they are shown as JSON text."
    if kind in ("time", "period", "interval", "complex"):
        return _as_text(col), None
    return _as_text(col), "mixes numbers, text or dates; it is shown as text."


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or value.strip() in _NULL_SET):
        return None
    return value


def _as_text(col: pd.Series) -> pd.Series:
    return col.map(lambda v: None if _is_missing(v) else str(v)).astype("str")


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # containers: pd.isna answers element-wise
        return False


def _as_json_text(col: pd.Series) -> pd.Series:
    def dump(v: Any) -> Any:
        if isinstance(v, (list, dict, tuple, set, np.ndarray)):
            if isinstance(v, (set, np.ndarray)):
                v = list(v)
            return json.dumps(v, default=str, ensure_ascii=False)
        return v

    return _as_text(col.map(dump))


def _parse_dates(
    col: pd.Series, *, day_first: bool | None = None
) -> tuple[pd.Series | None, str | None, str | None]:
    """(converted column or None, warning or None, example value when the file's
    convention decided between day-first and month-first) for one text column."""
    head = col.iloc[: _SAMPLE * 10]
    sample = head[head.notna()].iloc[:_SAMPLE]
    if sample.empty or not _looks_like_date(str(sample.iloc[0]).strip()):
        return None, None, None  # cheap exit for the common case: plainly not dates
    sample = sample.str.strip()
    formats = _candidate_formats(sample)
    if not formats:
        return None, None, None
    fits = [fmt for fmt in formats if _parses(sample, fmt)]
    if not fits:
        return None, None, None
    full = {}
    missing = int(col.isna().sum())
    for fmt in fits:
        converted = _to_datetime(col.str.strip(), fmt, errors="coerce")
        if converted is not None and int(converted.isna().sum()) == missing:
            full[fmt] = converted
    if len(full) == 1:
        return next(iter(full.values())), None, None
    if len(full) > 1:
        example = sample.iloc[0]
        day_first_format = next((fmt for fmt in full if fmt.startswith("%d")), None)
        if day_first and day_first_format is not None:
            return full[day_first_format], None, str(example)
        return None, (
            f"has dates such as '{example}' that could be day-first or month-first; "
            "it is kept as text."
        ), None
    return None, None, None


def _looks_like_date(value: str) -> bool:
    """Whether one value has any of the date shapes `_candidate_formats` knows."""
    return any(p.fullmatch(value) for p in (_ISO, _DAY_MONTH, _YEAR_FIRST, _NAMED_MONTH))


def _candidate_formats(sample: pd.Series) -> list[str]:
    if sample.str.fullmatch(_ISO).all():
        return ["ISO8601"]
    first = str(sample.iloc[0])
    m = _DAY_MONTH.fullmatch(first)
    if m and sample.str.fullmatch(_DAY_MONTH).all():
        sep, year = m.group(2), "%Y" if len(m.group(4)) == 4 else "%y"
        time = _time_format(m.group("time"))
        return [f"%d{sep}%m{sep}{year}{time}", f"%m{sep}%d{sep}{year}{time}"]
    m = _YEAR_FIRST.fullmatch(first)
    if m and sample.str.fullmatch(_YEAR_FIRST).all():
        sep = m.group(2)
        return [f"%Y{sep}%m{sep}%d{_time_format(m.group('time'))}"]
    if sample.str.fullmatch(_NAMED_MONTH).all():
        return ["mixed"]
    return []


def _time_format(time: str | None) -> str:
    if not time:
        return ""
    sep = time[0]
    return f"{sep}%H:%M:%S" if time.count(":") == 2 else f"{sep}%H:%M"


def _parses(sample: pd.Series, fmt: str) -> bool:
    return _to_datetime(sample, fmt, errors="raise") is not None


def _to_datetime(values: pd.Series, fmt: str, *, errors: str) -> pd.Series | None:
    """pd.to_datetime with one format; None if it raises. Offsets become UTC when
    every value has one (mixed offsets are one instant each, not one zone)."""
    utc = fmt == "ISO8601" and bool(values.dropna().iloc[:_SAMPLE].str.match(_TZ_SUFFIX).all())
    try:
        with np.errstate(all="ignore"):
            return pd.to_datetime(values, format=fmt, errors=errors, utc=utc)  # type: ignore[call-overload]
    except (ValueError, TypeError, OverflowError) as exc:
        logger.debug("format %s does not fit: %s", fmt, exc)
        return None
