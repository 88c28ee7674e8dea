"""Budgeted, fenced, deterministic text summary of a DataFrame for the model's instruction.

:func:`summarize` turns an uploaded table into the data block of the system instruction.
Most important first: dataset name and shape, one line per column (type, nulls, distinct
values), column detail (statistics, top values, examples), notable facts, correlations,
sample rows, and the whole table as CSV when it fits. When the token budget is short the
least useful parts go first and the block says what was dropped (``DataSummary.omitted``).

Guarantees, each covered by tests/unit/test_summary.py:

* ``estimate_tokens(text) == estimated_tokens <= budget_tokens`` for every frame;
* the same frame and options give byte-identical text (fixed sample seed, explicit tie
  order, hash-derived fence nonce);
* every name and value from the file is escaped, length-capped and fenced
  (:mod:`livechat.summary.escape`);
* odd frames (no rows, no columns, all-null, mixed objects, nested JSON, huge ints, inf,
  tz-aware dates, duplicate or non-text column names, nullable dtypes) never raise.

Pure function of its inputs; call it from any thread (the Data page calls it from the
Streamlit script thread). Statistics: :mod:`livechat.summary.facts`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from livechat.summary.escape import (
    CELL_CAP,
    csv_field,
    escape_text,
    fence_lines,
    format_percent,
    format_value,
    quote_name,
    sanitize_dataset_name,
)
from livechat.summary.facts import (
    ColumnProfile,
    RowSample,
    coarse_kind,
    column_label,
    profile_column,
    row_sample,
)
from livechat.summary.token_estimate import estimate_tokens

__all__ = [
    "DataSummary",
    "SummaryError",
    "SummaryBudgetError",
    "DEFAULT_BUDGET_TOKENS",
    "MIN_BUDGET_TOKENS",
    "summarize",
    "estimate_tokens",
]

logger = logging.getLogger(__name__)

DEFAULT_BUDGET_TOKENS = 8000
# Below this the header alone (name capped at NAME_TOKENS_MAX) might not fit.
MIN_BUDGET_TOKENS = 300
NAME_TOKENS_MAX = 100
# Columns that get a full profile at most (wider tables: compact list for the rest).
DETAIL_MAX_COLUMNS = 200
# Columns whose detail comes before the compact list of further column names.
DETAIL_FIRST_COLUMNS = 40
SAMPLE_MAX_COLUMNS = 20
CORRELATION_MAX_COLUMNS = 25
CORRELATION_MIN_ABS = 0.3
CORRELATION_MAX_PAIRS = 5
NOTE_MAX_NAMES = 5
NOTE_CAP = 160  # characters of one loader note (a removed total row)
COMPACT_PER_LINE = 10
# df.duplicated() over more cells than this costs more than the whole summary.
DUPLICATE_CHECK_MAX_CELLS = 2_000_000


class SummaryError(ValueError):
    """The summary cannot be made with these arguments (the message says why)."""


class SummaryBudgetError(SummaryError):
    """``budget_tokens`` is too small to say anything useful."""


@dataclass(frozen=True)
class DataSummary:
    """The fenced data block for the system instruction, and what it left out.

    ``omitted`` names, for people, what the budget dropped ("sample rows",
    "verbatim table", "columns 41–5000 detail"); empty when nothing was dropped.
    """

    text: str
    estimated_tokens: int
    truncated: bool
    omitted: list[str]
    name: str
    rows: int
    columns: int
    budget_tokens: int


@dataclass(frozen=True)
class _Level:
    """One rung of the degradation ladder, richest first."""

    table: bool
    top_k: int
    examples: int
    correlations: int
    sample_first: int
    sample_spread: int
    final: bool = False


_LEVELS = (
    _Level(table=True, top_k=10, examples=3, correlations=5, sample_first=0, sample_spread=0),
    _Level(table=True, top_k=5, examples=2, correlations=0, sample_first=0, sample_spread=0),
    _Level(table=False, top_k=10, examples=3, correlations=5, sample_first=5, sample_spread=5),
    _Level(table=False, top_k=5, examples=2, correlations=5, sample_first=3, sample_spread=3),
    _Level(table=False, top_k=3, examples=1, correlations=3, sample_first=2, sample_spread=1),
    _Level(
        table=False,
        top_k=3,
        examples=1,
        correlations=0,
        sample_first=0,
        sample_spread=0,
        final=True,
    ),
)


def summarize(
    df: pd.DataFrame,
    *,
    name: str,
    budget_tokens: int = DEFAULT_BUDGET_TOKENS,
    source_notes: Sequence[str] = (),
) -> DataSummary:
    """Summarize ``df`` as a fenced data block of at most ``budget_tokens`` estimated tokens.

    ``name`` is the untrusted file name; it is sanitized (``DataSummary.name``).
    ``source_notes`` are rows the loader kept out of the table (e.g. a removed total
    row, ``LoadedTable.layout.totals``); they are listed first among the notes so the
    model never adds a total to the data again. Raises
    :class:`SummaryBudgetError` for budgets under :data:`MIN_BUDGET_TOKENS` and
    :class:`SummaryError` when ``df`` is not a DataFrame; never for odd data.
    """
    if not isinstance(df, pd.DataFrame):
        raise SummaryError(f"summarize needs a pandas DataFrame, got {type(df).__name__}")
    if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, (int, np.integer)):
        raise SummaryBudgetError(f"budget_tokens must be an integer, got {budget_tokens!r}")
    budget = int(budget_tokens)
    if budget < MIN_BUDGET_TOKENS:
        raise SummaryBudgetError(
            f"budget_tokens must be at least {MIN_BUDGET_TOKENS}, got {budget}"
        )
    clean_name = _fit_name(sanitize_dataset_name(name))
    return _Builder(df, clean_name, budget, tuple(source_notes)).build()


def _fit_name(name: str) -> str:
    # An 80-character name of emoji would cost 320 tokens: keep the header cheap.
    if estimate_tokens(name) <= NAME_TOKENS_MAX:
        return name
    body = name.rstrip("…")
    while len(body) > 1 and estimate_tokens(body + "…") > NAME_TOKENS_MAX:
        body = body[:-1]
    return body.rstrip() + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _span(first: int, last: int) -> str:
    """Human column range, 1-based inclusive: "column 7" or "columns 41–5000"."""
    return f"column {first}" if first == last else f"columns {first}–{last}"


def _names_list(labels: list[str]) -> str:
    shown = ", ".join(quote_name(label) for label in labels[:NOTE_MAX_NAMES])
    extra = len(labels) - NOTE_MAX_NAMES
    return shown + (f" (+{extra} more)" if extra > 0 else "")


class _Builder:
    """Computes the pieces once, then picks the richest plan that fits the budget."""

    def __init__(
        self, df: pd.DataFrame, name: str, budget: int, source_notes: tuple[str, ...] = ()
    ) -> None:
        self.df = df
        self.source_notes = source_notes
        self.name = name
        self.budget = budget
        self.rows, self.cols = (int(x) for x in df.shape)
        self.sample: RowSample = row_sample(self.rows)
        self.n_profiled = min(self.cols, DETAIL_MAX_COLUMNS, max(1, budget // 10))
        self.profiles: list[ColumnProfile] = [
            profile_column(df.iloc[:, i], i, self.sample, df.columns[i])
            for i in range(self.n_profiled)
        ]
        self.labels = [p.label for p in self.profiles] + [
            column_label(df.columns[i]) for i in range(self.n_profiled, self.cols)
        ]
        self.dtypes = list(df.dtypes)
        self.nulls = self._null_counts()
        self.header = self._header_lines()
        self.notes = self._note_lines()
        self.correlation_heading, self.correlations = self._correlation_lines()
        self._detail_cache: dict[tuple[int, int, int], list[str]] = {}
        self.brief_cost = [estimate_tokens(self._brief(p)) + 1 for p in self.profiles]
        self.compact_cost = [estimate_tokens(self._compact(i)) + 1 for i in range(self.cols)]

    # --- facts -------------------------------------------------------------------------

    def _null_counts(self) -> list[int]:
        counts = [p.nulls for p in self.profiles]
        if self.cols > self.n_profiled:
            rest = self.df.iloc[:, self.n_profiled :]
            try:
                counts += [int(n) for n in rest.isna().sum().to_numpy()]
            except Exception:  # noqa: BLE001 - odd objects: fall back column by column
                counts += [_null_count(rest.iloc[:, i]) for i in range(rest.shape[1])]
        return counts

    def _header_lines(self) -> list[str]:
        shape = f"{_plural(self.rows, 'row')} × {_plural(self.cols, 'column')}"
        marks = "marks: ~ estimated"
        if self.sample.sampled:
            marks += f" (statistics from a sample of {self.sample.size} rows)"
        marks += (
            f"; … value cut at {CELL_CAP} characters; \\n \\t \\u{{…}} escaped control characters"
        )
        lines = [f'dataset "{self.name}": {shape}', marks]
        if self.cols == 0:
            lines.append("the table has no columns")
        elif self.rows == 0:
            lines.append("the table has no rows (column types come from the file's format)")
        return lines

    def _note_lines(self) -> list[str]:
        # Loader notes hold cell text (a total row's label): escaped like any value.
        notes: list[str] = [
            f"- kept out of the table, not in the data: {escape_text(note, cap=NOTE_CAP)}"
            for note in self.source_notes
        ]
        if self.rows:
            empty = [self.labels[i] for i in range(self.cols) if self.nulls[i] == self.rows]
            if empty:
                notes.append(f"- all values missing: {_names_list(empty)}")
            heavy = [
                (self.labels[i], self.nulls[i])
                for i in range(self.cols)
                if self.rows / 2 < self.nulls[i] < self.rows
            ]
            if heavy:
                shown = ", ".join(
                    f"{quote_name(label)} {format_percent(n, self.rows)}"
                    for label, n in heavy[:NOTE_MAX_NAMES]
                )
                more = len(heavy) - NOTE_MAX_NAMES
                notes.append(
                    f"- more than half missing: {shown}" + (f" (+{more} more)" if more > 0 else "")
                )
        constant = [p for p in self.profiles if p.constant and p.rows > 1]
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
        duplicate_rows = self._duplicate_rows_note()
        if duplicate_rows:
            notes.append(duplicate_rows)
        repeated = [(label, n) for label, n in Counter(self.labels).items() if n > 1]
        if repeated:
            shown = ", ".join(f"{quote_name(label)} ×{n}" for label, n in repeated[:NOTE_MAX_NAMES])
            notes.append(f"- repeated column names: {shown}")
        non_text = sum(1 for c in self.df.columns if not isinstance(c, str))
        if non_text:
            names = _plural(non_text, "column name")
            notes.append(f"- {names} not text in the file (numbers, dates or empty), shown as text")
        infinite = [p for p in self.profiles if any(p.infinities)]
        if infinite:
            shown = ", ".join(
                f"{quote_name(p.label)} (+inf {p.infinities[0]}, -inf {p.infinities[1]})"
                for p in infinite[:NOTE_MAX_NAMES]
            )
            notes.append(f"- infinite values (left out of mean/std/sum): {shown}")
        mixed = [p for p in self.profiles if p.mixed]
        if mixed:
            shown = ", ".join(f"{quote_name(p.label)} ({p.mixed})" for p in mixed[:NOTE_MAX_NAMES])
            notes.append(f"- mixed value types: {shown}")
        if notes and self.n_profiled < self.cols:
            notes.append(
                f"- constant, infinite and mixed-type checks cover columns 1–{self.n_profiled} only"
            )
        return notes

    def _duplicate_rows_note(self) -> str:
        if self.rows < 2 or self.cols == 0:
            return ""
        # A column that is exactly unique and never empty rules duplicates out for free.
        if any(p.unique and p.nulls == 0 and not p.distinct_approx for p in self.profiles):
            return "- no duplicate rows"
        if self.rows * self.cols > DUPLICATE_CHECK_MAX_CELLS:
            return f"- duplicate rows: not counted (over {DUPLICATE_CHECK_MAX_CELLS} cells)"
        try:
            duplicates = int(self.df.duplicated().sum())
            how = ""
        except Exception:  # noqa: BLE001 - unhashable or incomparable values
            try:
                duplicates = int(self.df.astype(str).duplicated().sum())
                how = " (compared as text)"
            except Exception:  # noqa: BLE001
                return "- duplicate rows: not counted (values cannot be compared)"
        if not duplicates:
            return "- no duplicate rows" + how
        share = format_percent(duplicates, self.rows)
        return f"- duplicate rows: {duplicates} ({share}) repeat an earlier row{how}"

    def _correlation_lines(self) -> tuple[str, list[str]]:
        numeric = [p for p in self.profiles if p.numeric_for_correlation][:CORRELATION_MAX_COLUMNS]
        if len(numeric) < 2 or self.rows < 3:
            return "", []
        try:
            matrix = self._numeric_matrix(numeric)
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
        where = f", sample of {self.sample.size} rows" if self.sample.sampled else ""
        if not pairs:
            return f"correlations: none with |r| >= {CORRELATION_MIN_ABS} (Pearson{where})", []
        heading = f"strongest correlations (Pearson r{where}):"
        lines = [
            f"- {quote_name(numeric[a].label)} & {quote_name(numeric[b].label)}: {r:+.2f}"
            for _, a, b, r in pairs[:CORRELATION_MAX_PAIRS]
        ]
        return heading, lines

    def _numeric_matrix(self, profiles: list[ColumnProfile]) -> np.ndarray:
        positions = self.sample.positions
        columns = []
        for p in profiles:
            series = self.df.iloc[:, p.position]
            if positions is not None:
                series = series.iloc[positions]
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            columns.append(np.where(np.isfinite(values), values, np.nan))
        return np.column_stack(columns)

    # --- rendering ---------------------------------------------------------------------

    def _brief(self, p: ColumnProfile) -> str:
        parts = [f"{p.position + 1}. {quote_name(p.label)}: {p.kind}"]
        if self.rows:
            parts.append(
                f"nulls {p.nulls}" + (f" ({format_percent(p.nulls, p.rows)})" if p.nulls else "")
            )
            if p.distinct is not None:
                distinct = f"distinct {'~' if p.distinct_approx else ''}{p.distinct}"
                if p.unique and p.distinct > 1:
                    distinct += " (all different)"
                parts.append(distinct)
        return "; ".join(parts)

    def _detail(self, p: ColumnProfile, top_k: int, examples: int) -> list[str]:
        key = (p.position, top_k, examples)
        cached = self._detail_cache.get(key)
        if cached is not None:
            return cached
        lines = []
        if p.stats:
            lines.append("   " + "; ".join(f"{k} {v}" for k, v in p.stats))
        if p.top:
            shown = p.top[:top_k]
            if p.top_approx:
                items = [f"{quote_name(t.label)} ~{format_percent(t.share, 1)}" for t in shown]
            else:
                items = [
                    f"{quote_name(t.label)} {t.count} ({format_percent(t.share, 1)})" for t in shown
                ]
            rest = 1.0 - sum(t.share for t in shown)
            if rest > 0.0005:
                items.append(f"others {'~' if p.top_approx else ''}{format_percent(rest, 1)}")
            lines.append("   top: " + ", ".join(items))
        if p.examples and examples:
            lines.append("   e.g. " + ", ".join(quote_name(e) for e in p.examples[:examples]))
        self._detail_cache[key] = lines
        return lines

    def _detail_cost(self, i: int, level: _Level) -> int:
        return sum(
            estimate_tokens(line) + 1
            for line in self._detail(self.profiles[i], level.top_k, level.examples)
        )

    def _compact(self, i: int) -> str:
        kind = self.profiles[i].kind if i < self.n_profiled else coarse_kind(self.dtypes[i])
        return f"{quote_name(self.labels[i])} {kind}"

    def _sample_lines(self, first: int, spread: int) -> list[str]:
        if not self.rows or not self.cols or not (first or spread):
            return []
        head = list(range(min(first, self.rows)))
        start, left = len(head), self.rows - len(head)
        if spread and left <= spread:
            head += range(start, self.rows)
        elif spread:
            # Evenly spaced over the remaining rows, ending at the last row; integer
            # arithmetic so the picks never depend on float rounding.
            head += [start - 1 + (left * k) // spread for k in range(1, spread + 1)]
        shown_cols = min(self.cols, SAMPLE_MAX_COLUMNS)
        title = "sample rows (CSV; # = row number from 1"
        if spread:
            title += f"; first {min(first, self.rows)} rows, then evenly spread"
        if shown_cols < self.cols:
            title += f"; first {shown_cols} of {self.cols} columns"
        lines = [
            title + "):",
            ",".join(["#"] + [csv_field(self.labels[i]) for i in range(shown_cols)]),
        ]
        block = self.df.iloc[head, :shown_cols]
        for number, row in zip(head, block.itertuples(index=False, name=None)):
            lines.append(",".join([str(number + 1)] + [csv_field(format_value(v)) for v in row]))
        return lines

    def _table_lines(self) -> list[str]:
        lines = [
            f"all {_plural(self.rows, 'row')} (CSV):",
            ",".join(csv_field(label) for label in self.labels),
        ]
        for row in self.df.itertuples(index=False, name=None):
            lines.append(",".join(csv_field(format_value(v)) for v in row))
        return lines

    # --- planning ----------------------------------------------------------------------

    def build(self) -> DataSummary:
        table_lines: list[str] | None = None
        # Each table cell costs at least one token (value or comma): skip hopeless tables.
        table_possible = 0 < self.rows * self.cols <= self.budget
        for level in _LEVELS:
            if level.table:
                if not table_possible:
                    continue
                if table_lines is None:
                    table_lines = self._table_lines()
            summary = self._try_level(level, table_lines if level.table else None)
            if summary is not None:
                return summary
        return self._header_only()

    def _try_level(self, level: _Level, table_lines: list[str] | None) -> DataSummary | None:
        correlations = self.correlations[: level.correlations]
        corr_block = (
            [self.correlation_heading] + correlations
            if self.correlation_heading and level.correlations
            else []
        )
        samples = (
            []
            if table_lines is not None
            else self._sample_lines(level.sample_first, level.sample_spread)
        )
        fixed = self.header + corr_block + samples + (table_lines or [])
        fixed_cost = sum(estimate_tokens(line) + 1 for line in fixed) + self._fence_reserve()
        notes = self.notes
        notes_cost = sum(estimate_tokens(line) + 1 for line in notes) + (2 if notes else 0)
        if level.final:
            notes, notes_cost = self._fit_notes(max(0, (self.budget - fixed_cost) // 4))
        reserve = 0
        for _ in range(4):
            room = self.budget - fixed_cost - notes_cost - reserve
            if room < 0:
                return None
            full, brief, listed = self._allocate(room, level)
            if not self._acceptable(level, full, listed, table_lines is not None):
                return None
            omitted = self._omitted(
                level,
                full,
                brief,
                listed,
                table_lines is not None,
                len(samples),
                len(correlations),
                len(notes),
            )
            text = self._render(
                level, full, brief, listed, notes, corr_block, samples, table_lines, omitted
            )
            tokens = estimate_tokens(text)
            if tokens <= self.budget:
                return DataSummary(
                    text=text,
                    estimated_tokens=tokens,
                    truncated=bool(omitted),
                    omitted=omitted,
                    name=self.name,
                    rows=self.rows,
                    columns=self.cols,
                    budget_tokens=self.budget,
                )
            reserve += tokens - self.budget  # the omitted line grew: leave room and retry
        return None

    def _fence_reserve(self) -> int:
        # Two fence lines: "<<<DATA " / "<<<END DATA " + 16 hex digits + ">>>" (<= 24 each).
        return 2 * 26 + 2

    def _fit_notes(self, room: int) -> tuple[list[str], int]:
        kept: list[str] = []
        cost = 2
        for line in self.notes:
            line_cost = estimate_tokens(line) + 1
            if cost + line_cost > room:
                break
            kept.append(line)
            cost += line_cost
        return kept, (cost if kept else 0)

    def _allocate(self, room: int, level: _Level) -> tuple[int, int, int]:
        """Column tiers: full detail [0, full), one line [full, brief), name only [brief, listed).

        Order of preference: one line for the first columns, then their detail, then the
        names of as many further columns as fit, then one line and detail for those.
        """
        headings = 80  # "columns (…):", the name-only heading, the "not listed" line
        left = room - headings
        first = min(self.n_profiled, DETAIL_FIRST_COLUMNS)
        brief = full = 0
        while brief < first and self.brief_cost[brief] <= left:
            left -= self.brief_cost[brief]
            brief += 1
        while full < brief and (cost := self._detail_cost(full, level)) <= left:
            left -= cost
            full += 1
        listed = brief
        while listed < self.cols and self.compact_cost[listed] <= left:
            left -= self.compact_cost[listed]
            listed += 1
        if brief == first and full == brief:
            # Upgrade further profiled columns from name-only to one line, then to detail.
            while (
                brief < min(self.n_profiled, listed)
                and self.brief_cost[brief] - self.compact_cost[brief] <= left
            ):
                left -= self.brief_cost[brief] - self.compact_cost[brief]
                brief += 1
            while full < brief and (cost := self._detail_cost(full, level)) <= left:
                left -= cost
                full += 1
        return full, brief, listed

    def _acceptable(self, level: _Level, full: int, listed: int, with_table: bool) -> bool:
        """Whether a plan is rich enough for its level (else the next level is tried)."""
        if level.final:
            return True
        if with_table:  # the whole table, so every profiled column in detail too
            return full == self.n_profiled and listed == self.cols
        return full >= min(self.n_profiled, DETAIL_FIRST_COLUMNS)

    def _omitted(
        self,
        level: _Level,
        full: int,
        brief: int,
        listed: int,
        with_table: bool,
        sample_lines: int,
        corr_lines: int,
        note_lines: int,
    ) -> list[str]:
        omitted: list[str] = []
        has_cells = self.rows > 0 and self.cols > 0
        if has_cells and not with_table:
            omitted.append("verbatim table")
            shown_rows = max(0, sample_lines - 2)
            if shown_rows == 0:
                omitted.append("sample rows")
            elif shown_rows < min(self.rows, 10):
                omitted.append(f"sample rows beyond {shown_rows}")
        if corr_lines < len(self.correlations):
            omitted.append(
                "correlations" if corr_lines == 0 else f"correlations beyond {corr_lines}"
            )
        if any(len(p.top) > level.top_k for p in self.profiles[:full]):
            omitted.append(f"top values beyond {level.top_k}")
        if any(len(p.examples) > level.examples for p in self.profiles[:full]):
            omitted.append(f"text examples beyond {level.examples}")
        if full < self.cols:
            omitted.append(f"{_span(full + 1, self.cols)} detail")
        if brief < self.cols:
            omitted.append(f"{_span(brief + 1, self.cols)} null and distinct counts")
        if listed < self.cols:
            omitted.append(f"{_span(listed + 1, self.cols)} names")
        if note_lines < len(self.notes):
            omitted.append("notes")
        return omitted

    def _render(
        self,
        level: _Level,
        full: int,
        brief: int,
        listed: int,
        notes: list[str],
        corr_block: list[str],
        samples: list[str],
        table_lines: list[str] | None,
        omitted: list[str],
    ) -> str:
        body: list[str] = list(self.header)
        if self.cols:
            if brief:
                body.append('columns (number. "name": type; nulls; distinct values):')
            for i in range(brief):
                body.append(self._brief(self.profiles[i]))
                if i < full:
                    body.extend(self._detail(self.profiles[i], level.top_k, level.examples))
            if listed > brief:
                body.append(f"{_span(brief + 1, listed)} (name and type only):")
                body.extend(
                    _chunks([self._compact(i) for i in range(brief, listed)], COMPACT_PER_LINE)
                )
            if listed < self.cols:
                body.append(f"{_span(listed + 1, self.cols)}: not listed here")
        if notes:
            body.append("notes:")
            body.extend(notes)
        body.extend(corr_block)
        body.extend(samples)
        if table_lines:
            body.extend(table_lines)
        if omitted:
            body.append("omitted to fit the budget: " + "; ".join(omitted))
        return _fenced(body)

    def _header_only(self) -> DataSummary:
        omitted = ["everything but the name and shape"]
        text = _fenced(self.header[:1] + ["omitted to fit the budget: " + omitted[0]])
        return DataSummary(
            text=text,
            estimated_tokens=estimate_tokens(text),
            truncated=True,
            omitted=omitted,
            name=self.name,
            rows=self.rows,
            columns=self.cols,
            budget_tokens=self.budget,
        )


def _null_count(series: pd.Series) -> int:
    try:
        return int(series.isna().sum())
    except Exception:  # noqa: BLE001 - count unknown: report none rather than fail
        return 0


def _chunks(items: list[str], size: int) -> Iterable[str]:
    for start in range(0, len(items), size):
        yield "; ".join(items[start : start + size])


def _fenced(body_lines: list[str]) -> str:
    body = "\n".join(body_lines)
    opening, closing = fence_lines(body)
    return f"{opening}\n{body}\n{closing}"
