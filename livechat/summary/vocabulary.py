"""Words the model's speech recognition should expect: the dataset's column names and values.

Gemini 3.8 Live takes an input-transcription ``custom_vocabulary`` that biases recognition
toward domain words (LIVE_PROTOCOL.md §8.1). An analyst says "storm nights at Gull Point",
not ``storm_night == "Gull Point"``: so the vocabulary holds

1. every column name, split into words where it is snake_case, kebab-case or camelCase
   (``storm_night`` -> ``storm night``, ``keeperName`` -> ``keeper Name``), in column order;
2. then the most frequent values of category-like text columns, taken round-robin (each
   column's most frequent value first, then each one's second, ...), so every category
   column is represented before any gets a fifth value.

Bounded (``MAX_ENTRIES``), deterministic (ties broken by the value's text), no duplicates
(case-insensitive), and every entry escaped like the summary (``escape_text``: one line,
no control or invisible characters, no fence look-alikes, capped), because cell values
are untrusted data. Pure functions; any thread.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pandas as pd

from livechat.summary.escape import escape_text

__all__ = ["MAX_ENTRIES", "custom_vocabulary", "split_identifier", "with_terms"]

MAX_ENTRIES = 200
VALUES_PER_COLUMN = 5
ENTRY_CAP = 40  # longer values are sentences, not vocabulary
# A text column with more distinct values than this in the sample is free text or an id.
MAX_CATEGORY_DISTINCT = 100
SAMPLE_ROWS = 100_000  # value counts come from the first rows: bounded cost on big tables

_SEPARATORS = re.compile(r"[_\-.\s]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_A_WORD = re.compile(r"^[\d\W_]+$")  # numbers, dates, punctuation: nothing to recognise


def split_identifier(name: str) -> str:
    """``storm_night`` -> ``storm night``; ``keeperName`` -> ``keeper Name``; ``HTTPCode`` -> ``HTTP Code``."""
    spaced = _CAMEL.sub(" ", _SEPARATORS.sub(" ", name))
    return " ".join(spaced.split())


def custom_vocabulary(df: pd.DataFrame | Mapping[str, pd.DataFrame], *, max_entries: int = MAX_ENTRIES,
                      values_per_column: int = VALUES_PER_COLUMN) -> tuple[str, ...]:
    """The vocabulary for ``df`` (see the module docstring); at most ``max_entries`` entries.

    With several tables (name -> DataFrame, in order), the table names come first, then every
    table's column names, then the category values of all of them, round-robin.
    """
    frames = list(df.values()) if isinstance(df, Mapping) else [df]
    names = [str(name) for name in df] if isinstance(df, Mapping) else []
    if max_entries <= 0 or values_per_column < 0:
        raise ValueError(f"max_entries must be positive and values_per_column 0 or more, got "
                         f"{max_entries} and {values_per_column}")
    entries: list[str] = []
    seen: set[str] = set()

    def add(text: str) -> bool:
        entry = escape_text(text.strip(), cap=ENTRY_CAP)
        key = entry.casefold()
        if not entry or key in seen or len(entries) >= max_entries:
            return False
        seen.add(key)
        entries.append(entry)
        return True

    for name in names:
        add(split_identifier(name))
    for frame in frames:
        for label in frame.columns:
            add(split_identifier(str(label)))
    room = max_entries - len(entries)
    if room <= 0 or values_per_column == 0:
        return tuple(entries)
    # Each category column contributes at least one entry, so more than `room` columns
    # can never all be used: look at no more than that (bounded work on wide tables).
    columns: list[list[str]] = []
    for frame in frames:
        for position in _category_positions(frame, room - len(columns)):
            values = _top_values(frame.iloc[:, position], values_per_column)
            if values:
                columns.append(values)
    for rank in range(values_per_column):
        for values in columns:
            if rank < len(values):
                add(values[rank])
    return tuple(entries)


def with_terms(vocabulary: Sequence[str], words: Sequence[str], *,
               max_entries: int = MAX_ENTRIES) -> tuple[str, ...]:
    """The analyst's words (defined terms and their aliases) first, then ``vocabulary``.

    The analyst's own words are what they will say: they go before the column names and
    values, escaped the same way, without duplicates (case-insensitive), at most
    ``max_entries`` in all.
    """
    entries: list[str] = []
    seen: set[str] = set()
    for text in (*(escape_text(w.strip(), cap=ENTRY_CAP) for w in words), *vocabulary):
        key = text.casefold()
        if text and key not in seen and len(entries) < max_entries:
            seen.add(key)
            entries.append(text)
    return tuple(entries)


def _category_positions(df: pd.DataFrame, limit: int) -> list[int]:
    positions: list[int] = []
    for position in range(df.shape[1]):
        dtype = df.dtypes.iloc[position]
        if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(dtype) \
                or pd.api.types.is_string_dtype(dtype):
            positions.append(position)
            if len(positions) >= limit:
                break
    return positions


def _top_values(series: pd.Series, count: int) -> list[str]:
    """The ``count`` most frequent word-like values of a category-like column, ties by text."""
    sample = series.iloc[:SAMPLE_ROWS].dropna()
    if sample.empty:
        return []
    texts = sample.map(lambda value: value if isinstance(value, str) else str(value)).str.strip()
    counts = texts[texts != ""].value_counts()
    if len(counts) > MAX_CATEGORY_DISTINCT or len(counts) == len(texts):
        return []  # free text or an identifier: nothing worth biasing toward
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [text for text, _ in ranked
            if len(text) <= ENTRY_CAP and not _NOT_A_WORD.match(text)][:count]
