"""One fenced, budgeted data block for a set of tables (every sheet, several uploads).

:func:`summarize_tables` builds on :func:`livechat.summary.builder.summarize`: the block
opens with what must never be lost (each table's SQL name, shape and source, then the
likely join keys from :mod:`livechat.summary.join_keys`), then gives each table the
detail ``summarize`` makes for it, within what is left of the one token budget. Under a
tight budget whole-table detail goes first (a table then keeps a one-line column list,
then not even that), the join keys next, the table names last; the block says what it
left out (``DataSummary.omitted``).

Budget: small tables are summarized first, each with an equal share of what is left,
so what a small table does not use goes to the bigger ones; every table is summarized
once (the benchmark's 5-table set with a 1M-row table stays under half of pandas'
``describe``). Deterministic; every name and value escaped and fenced as in ``summarize``.
Pure function; any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from livechat.summary.builder import (
    DEFAULT_BUDGET_TOKENS,
    MIN_BUDGET_TOKENS,
    DataSummary,
    SummaryBudgetError,
    SummaryError,
    summarize,
)
from livechat.summary.escape import fence_lines, quote_name, sanitize_dataset_name
from livechat.summary.facts import coarse_kind, column_label
from livechat.summary.join_keys import find_join_keys
from livechat.summary.token_estimate import estimate_tokens

__all__ = ["SetTable", "TableSetSummary", "summarize_tables"]

DATA_ALIAS = "data"
# Fence lines and the "omitted" line: reserved before anything else is placed.
_FENCE_RESERVE = 2 * 26 + 2
_OMITTED_RESERVE = 40


@dataclass(frozen=True)
class SetTable:
    """One table of the set: its SQL name, its rows, and where it came from (untrusted)."""

    sql_name: str
    df: pd.DataFrame
    source: str


@dataclass(frozen=True)
class TableSetSummary(DataSummary):
    """The data block of a table set; ``tables`` are the SQL names, in order."""

    tables: tuple[str, ...] = ()
    join_keys: tuple[str, ...] = ()


def summarize_tables(tables: Sequence[SetTable], *,
                     budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> TableSetSummary:
    """Summarize ``tables`` as one fenced block of at most ``budget_tokens`` estimated tokens.

    Raises :class:`SummaryBudgetError` for budgets under :data:`MIN_BUDGET_TOKENS` and
    :class:`SummaryError` for an empty set, a non-DataFrame, or repeated SQL names.
    """
    if isinstance(budget_tokens, bool) or not isinstance(budget_tokens, int):
        raise SummaryBudgetError(f"budget_tokens must be an integer, got {budget_tokens!r}")
    if budget_tokens < MIN_BUDGET_TOKENS:
        raise SummaryBudgetError(f"budget_tokens must be at least {MIN_BUDGET_TOKENS}, got {budget_tokens}")
    if not tables:
        raise SummaryError("a table set needs at least one table")
    names = [t.sql_name for t in tables]
    if len(set(names)) != len(names):
        raise SummaryError(f"table names must be unique, got {names!r}")
    for table in tables:
        if not isinstance(table.df, pd.DataFrame):
            raise SummaryError(f"table {table.sql_name} is not a DataFrame but {type(table.df).__name__}")
    return _SetBuilder(list(tables), budget_tokens).build()


def _few(names: list[str], shown: int = 3) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more tables"


def _cost(lines: Sequence[str]) -> int:
    return sum(estimate_tokens(line) + 1 for line in lines)


class _SetBuilder:
    def __init__(self, tables: list[SetTable], budget: int) -> None:
        self.tables = tables
        self.budget = budget
        self.names = [t.sql_name for t in tables]
        self.keys = [k.text() for k in find_join_keys([(t.sql_name, t.df) for t in tables])]
        self.table_lines = [self._table_line(t) for t in tables]
        self.details: dict[tuple[int, int], list[str]] = {}
        self.inner_omitted: dict[int, list[str]] = {}

    def _table_line(self, table: SetTable) -> str:
        rows, cols = table.df.shape
        alias = f" (also named {DATA_ALIAS})" if table is self.tables[0] else ""
        source = sanitize_dataset_name(table.source)
        return (f"- {table.sql_name}{alias}: {rows:,} rows × {cols:,} columns, "
                f"from {quote_name(source)}")

    def _compact(self, table: SetTable, room: int) -> list[str]:
        """``- name: "a" integer; "b" text; …`` within ``room`` tokens (or nothing)."""
        head = f"- {table.sql_name}: "
        parts: list[str] = []
        used = estimate_tokens(head) + 1
        for position in range(table.df.shape[1]):
            entry = f"{quote_name(column_label(table.df.columns[position]))} {coarse_kind(table.df.dtypes.iloc[position])}"
            cost = estimate_tokens(entry) + 2
            if used + cost + 8 > room:
                parts.append(f"… ({table.df.shape[1] - position} more)")
                break
            parts.append(entry)
            used += cost
        if not parts or parts[0].startswith("…"):
            return []
        return [head + "; ".join(parts)]

    def build(self) -> TableSetSummary:
        keys, listed = len(self.keys), len(self.tables)
        # 1. What must stay: names and shapes, then keys; trimmed only if even they overflow.
        while not self._core_fits(listed, keys) and (keys or listed > 1):
            keys, listed = (keys - 1, listed) if keys else (keys, listed - 1)
        while True:
            summary = self._attempt(listed, keys)
            if summary.estimated_tokens <= self.budget or not (keys or listed > 1):
                return summary
            keys, listed = (keys - 1, listed) if keys else (keys, listed - 1)

    def _core_fits(self, listed: int, keys: int) -> bool:
        core = self._core(listed, self.keys[:keys])
        return _cost(core) + _FENCE_RESERVE + _OMITTED_RESERVE <= self.budget

    def _attempt(self, listed: int, n_keys: int) -> TableSetSummary:
        keys = self.keys[:n_keys]
        core = self._core(listed, keys)
        omitted: list[str] = []
        if len(keys) < len(self.keys):
            omitted.append("join keys" if not keys else f"join keys beyond {len(keys)}")
        if listed < len(self.tables):
            omitted.append(f"tables {listed + 1}–{len(self.tables)} (see run_sql)")
        # 2. Detail per table, small tables first, each an equal share of what is left.
        room = self.budget - _cost(core) - _FENCE_RESERVE - _OMITTED_RESERVE - 6 * len(self.tables)
        detail: dict[int, list[str]] = {}
        compact: dict[int, list[str]] = {}
        order = sorted(range(listed), key=lambda i: (self.tables[i].df.size, i))
        for done, i in enumerate(order):
            share = room // (len(order) - done)
            lines = self._detail(i, share) if share >= MIN_BUDGET_TOKENS else []
            if lines:
                detail[i] = lines
            else:
                lines = self._compact(self.tables[i], share)
                if lines:
                    compact[i] = lines
            room -= _cost(lines)
        # 3. Render; the estimate is not quite additive, so shed detail until it fits.
        while True:
            text = self._render(core, detail, compact, self._omitted(omitted, listed, detail, compact))
            tokens = estimate_tokens(text)
            if tokens <= self.budget or not (detail or compact):
                break
            if detail:
                del detail[max(detail, key=lambda i: (_cost(detail[i]), i))]
            else:
                del compact[max(compact)]
        # What each table's own detail left out is said inside its detail; list it here too.
        final_omitted = self._omitted(omitted, listed, detail, compact) + [
            f"{self.names[i]}: {item}" for i in sorted(detail) for item in self.inner_omitted.get(id(detail[i]), [])]
        return TableSetSummary(
            text=text,
            estimated_tokens=tokens,
            truncated=bool(final_omitted),
            omitted=final_omitted,
            name=sanitize_dataset_name(", ".join(self.names)),
            rows=sum(int(t.df.shape[0]) for t in self.tables),
            columns=sum(int(t.df.shape[1]) for t in self.tables),
            budget_tokens=self.budget,
            tables=tuple(self.names),
            join_keys=tuple(keys),
        )

    def _core(self, listed: int, keys: list[str]) -> list[str]:
        count = f"{len(self.tables)} table" + ("" if len(self.tables) == 1 else "s")
        lines = [f"{count} (SQL names; query them with run_sql; "
                 f"{self.names[0]} is also named {DATA_ALIAS}):"]
        lines += self.table_lines[:listed]
        if self.keys:
            lines.append("likely join keys (→ reads: values of the left column are found in the right one;"
                         " ~ = from a sample):")
            lines += [f"- {key}" for key in keys]
        else:
            lines.append("likely join keys: none found (no shared names or values)")
        return lines

    def _detail(self, i: int, share: int) -> list[str]:
        table = self.tables[i]
        cached = self.details.get((i, share))
        if cached is None:
            summary = summarize(table.df, name=table.sql_name, budget_tokens=share)
            body = summary.text.split("\n")[1:-1]  # without its own fence lines
            cached = [f"table {table.sql_name}:"] + body
            self.details[(i, share)] = cached
            self.inner_omitted[id(cached)] = list(summary.omitted)  # cached lists live on
        return cached

    def _omitted(self, base: list[str], listed: int, detail: dict[int, list[str]],
                 compact: dict[int, list[str]]) -> list[str]:
        without = [self.names[i] for i in range(listed) if i not in detail]
        without_columns = [self.names[i] for i in range(listed) if i not in detail and i not in compact]
        omitted = list(base)
        if without:
            omitted.append("detail of " + _few(without))
        if without_columns:
            omitted.append("column lists of " + _few(without_columns))
        return omitted

    def _render(self, core: list[str], detail: dict[int, list[str]],
                compact: dict[int, list[str]], omitted: list[str]) -> str:
        body = list(core)
        if compact:
            body.append("columns of the tables without detail below:")
            for i in sorted(compact):
                body += compact[i]
        for i in sorted(detail):
            body += detail[i]
        if omitted:
            body.append("omitted to fit the budget: " + "; ".join(omitted))
        opening, closing = fence_lines("\n".join(body))
        return f"{opening}\n" + "\n".join(body) + f"\n{closing}"
