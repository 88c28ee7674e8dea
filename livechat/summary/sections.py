"""The sections of the data block, each rendered as lines from a table's facts.

The header (name, shape, marks), one line per column (type, nulls, distinct values), its
detail (statistics, top values, examples), the compact name-and-type entry of a column,
sample rows, the whole table as CSV, and the fence around the block. Which sections go
in and how much of each is decided by :mod:`livechat.summary.fitting`; notes and
correlations are in :mod:`livechat.summary.table_notes`.

Every name and value is escaped and capped by :mod:`livechat.summary.escape`. Pure
functions; any thread.
"""

from __future__ import annotations

from collections.abc import Iterable

from livechat.data.loaders.numbers import ColumnConversion
from livechat.summary.escape import (
    CELL_CAP,
    csv_field,
    fence_lines,
    format_percent,
    format_value,
    quote_name,
)
from livechat.summary.facts import ColumnProfile, coarse_kind
from livechat.summary.table_facts import TableFacts

__all__ = [
    "SAMPLE_MAX_COLUMNS",
    "plural",
    "column_span",
    "header_lines",
    "brief_line",
    "detail_lines",
    "compact_entry",
    "sample_lines",
    "table_lines",
    "chunks",
    "fenced",
]

SAMPLE_MAX_COLUMNS = 20


def plural(count: int, word: str) -> str:
    """The count and the word, plural unless the count is 1: "1 row", "2 rows"."""
    return f"{count} {word}" + ("" if count == 1 else "s")


def column_span(first: int, last: int) -> str:
    """Human column range, 1-based inclusive: "column 7" or "columns 41–5000"."""
    return f"column {first}" if first == last else f"columns {first}–{last}"


def header_lines(facts: TableFacts, name: str) -> list[str]:
    """Name and shape, what the marks mean, and a line for a table with no columns or rows."""
    shape = f"{plural(facts.rows, 'row')} × {plural(facts.cols, 'column')}"
    marks = "marks: ~ estimated"
    if facts.sample.sampled:
        marks += f" (statistics from a sample of {facts.sample.size} rows)"
    marks += (
        f"; … value cut at {CELL_CAP} characters; \\n \\t \\u{{…}} escaped control characters"
    )
    lines = [f'dataset "{name}": {shape}', marks]
    if facts.cols == 0:
        lines.append("the table has no columns")
    elif facts.rows == 0:
        lines.append("the table has no rows (column types come from the file's format)")
    return lines


def brief_line(p: ColumnProfile, rows: int, conversion: ColumnConversion | None = None) -> str:
    """One line for a profiled column: number, name, type, nulls, distinct values.

    A column the loader read from text says whether it is a percent or a currency.
    """
    kind = p.kind
    if conversion is not None and conversion.percent:
        kind += " (percent)"
    elif conversion is not None and conversion.currency:
        kind += f" (currency {conversion.currency})"
    parts = [f"{p.position + 1}. {quote_name(p.label)}: {kind}"]
    if rows:
        parts.append(
            f"nulls {p.nulls}" + (f" ({format_percent(p.nulls, p.rows)})" if p.nulls else "")
        )
        if p.distinct is not None:
            distinct = f"distinct {'~' if p.distinct_approx else ''}{p.distinct}"
            if p.unique and p.distinct > 1:
                distinct += " (all different)"
            parts.append(distinct)
    return "; ".join(parts)


def detail_lines(p: ColumnProfile, top_k: int, examples: int) -> list[str]:
    """A profiled column's statistics, its ``top_k`` top values and ``examples`` examples."""
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
    return lines


def compact_entry(facts: TableFacts, i: int) -> str:
    """Column ``i`` (0-based) as name and type only, for the compact list of wide tables."""
    kind = facts.profiles[i].kind if i < facts.n_profiled else coarse_kind(facts.dtypes[i])
    return f"{quote_name(facts.labels[i])} {kind}"


def sample_lines(facts: TableFacts, first: int, spread: int) -> list[str]:
    """The first ``first`` rows, then ``spread`` rows evenly spread to the end, as CSV."""
    rows, cols = facts.rows, facts.cols
    if not rows or not cols or not (first or spread):
        return []
    head = list(range(min(first, rows)))
    start, left = len(head), rows - len(head)
    if spread and left <= spread:
        head += range(start, rows)
    elif spread:
        # Evenly spaced over the remaining rows, ending at the last row; integer
        # arithmetic so the picks never depend on float rounding.
        head += [start - 1 + (left * k) // spread for k in range(1, spread + 1)]
    shown_cols = min(cols, SAMPLE_MAX_COLUMNS)
    title = "sample rows (CSV; # = row number from 1"
    if spread:
        title += f"; first {min(first, rows)} rows, then evenly spread"
    if shown_cols < cols:
        title += f"; first {shown_cols} of {cols} columns"
    lines = [
        title + "):",
        ",".join(["#"] + [csv_field(facts.labels[i]) for i in range(shown_cols)]),
    ]
    block = facts.df.iloc[head, :shown_cols]
    for number, row in zip(head, block.itertuples(index=False, name=None)):
        lines.append(",".join([str(number + 1)] + [csv_field(format_value(v)) for v in row]))
    return lines


def table_lines(facts: TableFacts) -> list[str]:
    """Every row of the table as CSV, under its column labels."""
    lines = [
        f"all {plural(facts.rows, 'row')} (CSV):",
        ",".join(csv_field(label) for label in facts.labels),
    ]
    for row in facts.df.itertuples(index=False, name=None):
        lines.append(",".join(csv_field(format_value(v)) for v in row))
    return lines


def chunks(items: list[str], size: int) -> Iterable[str]:
    """``items`` joined by "; ", ``size`` to a line."""
    for start in range(0, len(items), size):
        yield "; ".join(items[start : start + size])


def fenced(body_lines: list[str]) -> str:
    """The block: the body between fence lines whose nonce is a hash of the body."""
    body = "\n".join(body_lines)
    opening, closing = fence_lines(body)
    return f"{opening}\n{body}\n{closing}"
