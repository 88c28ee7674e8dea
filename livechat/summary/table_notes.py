"""Facts about the table as a whole, as lines of the data block: notes and correlations.

Notes: columns with every or most values missing, constant columns, duplicate rows,
repeated or non-text column names, infinite values, mixed value types. Correlations: the
strongest Pearson pairs among the numeric columns (on the row sample when the table is
sampled). Both read :class:`~livechat.summary.table_facts.TableFacts` only; the budget
fitting decides how many of them go in. Pure functions; any thread.
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
import pandas as pd

from livechat.summary.escape import escape_text, format_percent, format_value, quote_name
from livechat.summary.facts import ColumnProfile, column_label
from livechat.summary.sections import plural
from livechat.summary.table_facts import TableFacts

__all__ = [
    "CORRELATION_MAX_COLUMNS",
    "CORRELATION_MIN_ABS",
    "CORRELATION_MAX_PAIRS",
    "NOTE_MAX_NAMES",
    "DUPLICATE_CHECK_MAX_CELLS",
    "note_lines",
    "duplicate_rows_note",
    "correlation_lines",
]

logger = logging.getLogger(__name__)

CORRELATION_MAX_COLUMNS = 25
CORRELATION_MIN_ABS = 0.3
CORRELATION_MAX_PAIRS = 5
NOTE_MAX_NAMES = 5
NOTE_CAP = 160  # characters of one loader note (a removed total row)
# df.duplicated() over more cells than this costs more than the whole summary.
DUPLICATE_CHECK_MAX_CELLS = 2_000_000


def _names_list(labels: list[str]) -> str:
    shown = ", ".join(quote_name(label) for label in labels[:NOTE_MAX_NAMES])
    extra = len(labels) - NOTE_MAX_NAMES
    return shown + (f" (+{extra} more)" if extra > 0 else "")


def conversion_note(facts: TableFacts) -> str:
    """One note naming the columns read from text, with an example of each."""
    if not facts.conversions:
        return ""
    items = []
    for position, c in sorted(facts.conversions.items())[:NOTE_MAX_NAMES]:
        label = facts.labels[position] if position < len(facts.labels) else column_label(c.column)
        what = f"{quote_name(label)} {quote_name(format_value(c.example))} as {c.value} ({c.convention}"
        if c.currency:
            what += f", currency {c.currency}"
        if c.percent:
            what += f", percent: {c.value} means {c.value}%"
        items.append(what + ")")
    more = len(facts.conversions) - NOTE_MAX_NAMES
    return "- read from text as written in the file: " + "; ".join(items) + (
        f" (+{more} more)" if more > 0 else ""
    )


def note_lines(facts: TableFacts) -> list[str]:
    """The notes, most important first, each a "- …" line (none: an empty list)."""
    rows, cols, labels, nulls = facts.rows, facts.cols, facts.labels, facts.nulls
    # Loader notes hold cell text (a total row's label): escaped like any value.
    notes: list[str] = [
        f"- kept out of the table, not in the data: {escape_text(note, cap=NOTE_CAP)}"
        for note in facts.source_notes
    ]
    converted = conversion_note(facts)
    if converted:
        notes.append(converted)
    if rows:
        empty = [labels[i] for i in range(cols) if nulls[i] == rows]
        if empty:
            notes.append(f"- all values missing: {_names_list(empty)}")
        heavy = [(labels[i], nulls[i]) for i in range(cols) if rows / 2 < nulls[i] < rows]
        if heavy:
            shown = ", ".join(
                f"{quote_name(label)} {format_percent(n, rows)}"
                for label, n in heavy[:NOTE_MAX_NAMES]
            )
            more = len(heavy) - NOTE_MAX_NAMES
            notes.append(
                f"- more than half missing: {shown}" + (f" (+{more} more)" if more > 0 else "")
            )
    constant = [p for p in facts.profiles if p.constant and p.rows > 1]
    if constant:
        shown = ", ".join(
            f"{quote_name(p.label)} = {quote_name(p.constant_value)}"
            for p in constant[:NOTE_MAX_NAMES]
        )
        more = len(constant) - NOTE_MAX_NAMES
        notes.append(
            f"- constant (one value in every non-empty row): {shown}"
            + (f" (+{more} more)" if more > 0 else "")
        )
    duplicate_rows = duplicate_rows_note(facts)
    if duplicate_rows:
        notes.append(duplicate_rows)
    repeated = [(label, n) for label, n in Counter(labels).items() if n > 1]
    if repeated:
        shown = ", ".join(f"{quote_name(label)} ×{n}" for label, n in repeated[:NOTE_MAX_NAMES])
        notes.append(f"- repeated column names: {shown}")
    non_text = sum(1 for c in facts.df.columns if not isinstance(c, str))
    if non_text:
        names = plural(non_text, "column name")
        notes.append(f"- {names} not text in the file (numbers, dates or empty), shown as text")
    infinite = [p for p in facts.profiles if any(p.infinities)]
    if infinite:
        shown = ", ".join(
            f"{quote_name(p.label)} (+inf {p.infinities[0]}, -inf {p.infinities[1]})"
            for p in infinite[:NOTE_MAX_NAMES]
        )
        notes.append(f"- infinite values (left out of mean/std/sum): {shown}")
    mixed = [p for p in facts.profiles if p.mixed]
    if mixed:
        shown = ", ".join(f"{quote_name(p.label)} ({p.mixed})" for p in mixed[:NOTE_MAX_NAMES])
        notes.append(f"- mixed value types: {shown}")
    if notes and facts.n_profiled < cols:
        notes.append(
            f"- constant, infinite and mixed-type checks cover columns 1–{facts.n_profiled} only"
        )
    return notes


def duplicate_rows_note(facts: TableFacts) -> str:
    """The duplicate-rows note ("" for a table with under two rows or no columns)."""
    rows, cols, df = facts.rows, facts.cols, facts.df
    if rows < 2 or cols == 0:
        return ""
    # A column that is exactly unique and never empty rules duplicates out for free.
    if any(p.unique and p.nulls == 0 and not p.distinct_approx for p in facts.profiles):
        return "- no duplicate rows"
    if rows * cols > DUPLICATE_CHECK_MAX_CELLS:
        return f"- duplicate rows: not counted (over {DUPLICATE_CHECK_MAX_CELLS} cells)"
    try:
        duplicates = int(df.duplicated().sum())
        how = ""
    except Exception:  # noqa: BLE001 - unhashable or incomparable values
        try:
            duplicates = int(df.astype(str).duplicated().sum())
            how = " (compared as text)"
        except Exception:  # noqa: BLE001
            return "- duplicate rows: not counted (values cannot be compared)"
    if not duplicates:
        return "- no duplicate rows" + how
    share = format_percent(duplicates, rows)
    return f"- duplicate rows: {duplicates} ({share}) repeat an earlier row{how}"


def correlation_lines(facts: TableFacts) -> tuple[str, list[str]]:
    """The correlations heading and one line per pair, strongest first ("", [] when none apply)."""
    numeric = [p for p in facts.profiles if p.numeric_for_correlation][:CORRELATION_MAX_COLUMNS]
    if len(numeric) < 2 or facts.rows < 3:
        return "", []
    try:
        matrix = _numeric_matrix(facts, numeric)
        with np.errstate(all="ignore"):  # values near the float limit overflow: r is NaN
            corr = np.asarray(pd.DataFrame(matrix).corr(min_periods=3))
    except Exception:  # noqa: BLE001 - correlations are a nicety
        logger.debug("correlations skipped", exc_info=True)
        return "", []
    pairs = []
    for a in range(len(numeric)):
        for b in range(a + 1, len(numeric)):
            r = corr[a, b]
            if np.isfinite(r) and abs(r) >= CORRELATION_MIN_ABS:
                pairs.append((-round(abs(float(r)), 6), a, b, float(r)))
    pairs.sort()
    where = f", sample of {facts.sample.size} rows" if facts.sample.sampled else ""
    if not pairs:
        return f"correlations: none with |r| >= {CORRELATION_MIN_ABS} (Pearson{where})", []
    heading = f"strongest correlations (Pearson r{where}):"
    lines = [
        f"- {quote_name(numeric[a].label)} & {quote_name(numeric[b].label)}: {r:+.2f}"
        for _, a, b, r in pairs[:CORRELATION_MAX_PAIRS]
    ]
    return heading, lines


def _numeric_matrix(facts: TableFacts, profiles: list[ColumnProfile]) -> np.ndarray:
    """The (sampled) values of ``profiles``' columns as float64, non-finite values as NaN."""
    positions = facts.sample.positions
    columns = []
    for p in profiles:
        series = facts.df.iloc[:, p.position]
        if positions is not None:
            series = series.iloc[positions]
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        columns.append(np.where(np.isfinite(values), values, np.nan))
    return np.column_stack(columns)
