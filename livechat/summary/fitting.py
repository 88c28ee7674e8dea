"""Fitting the data block into its token budget: the degradation ladder and the column tiers.

:class:`BudgetFitter` renders the sections of one table (:mod:`livechat.summary.sections`,
:mod:`livechat.summary.table_notes`) once, then tries the rungs of :data:`LEVELS`, richest
first (the whole table as CSV; then sample rows with fewer top values, examples and
correlations; at last the notes cut to fit), and at each rung gives the columns three
tiers: full detail, one line, name only. The first plan whose estimated tokens fit the
budget wins; the block then lists what it left out. Nothing fits: name and shape only.

Pure and deterministic; any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from livechat.summary.sections import (
    brief_line,
    chunks,
    column_span,
    compact_entry,
    detail_lines,
    fenced,
    header_lines,
    sample_lines,
    table_lines,
)
from livechat.summary.table_facts import TableFacts
from livechat.summary.table_notes import correlation_lines, note_lines
from livechat.summary.token_estimate import estimate_tokens

__all__ = [
    "DETAIL_FIRST_COLUMNS",
    "COMPACT_PER_LINE",
    "Level",
    "LEVELS",
    "FittedBlock",
    "BudgetFitter",
]

# Columns whose detail comes before the compact list of further column names.
DETAIL_FIRST_COLUMNS = 40
COMPACT_PER_LINE = 10


@dataclass(frozen=True)
class Level:
    """One rung of the degradation ladder, richest first."""

    table: bool
    top_k: int
    examples: int
    correlations: int
    sample_first: int
    sample_spread: int
    final: bool = False


LEVELS = (
    Level(table=True, top_k=10, examples=3, correlations=5, sample_first=0, sample_spread=0),
    Level(table=True, top_k=5, examples=2, correlations=0, sample_first=0, sample_spread=0),
    Level(table=False, top_k=10, examples=3, correlations=5, sample_first=5, sample_spread=5),
    Level(table=False, top_k=5, examples=2, correlations=5, sample_first=3, sample_spread=3),
    Level(table=False, top_k=3, examples=1, correlations=3, sample_first=2, sample_spread=1),
    Level(
        table=False,
        top_k=3,
        examples=1,
        correlations=0,
        sample_first=0,
        sample_spread=0,
        final=True,
    ),
)


@dataclass(frozen=True)
class FittedBlock:
    """The fenced block, its estimated tokens and what the budget dropped (for people)."""

    text: str
    estimated_tokens: int
    omitted: list[str]


class BudgetFitter:
    """Renders one table's sections once, then picks the richest plan that fits the budget."""

    def __init__(self, facts: TableFacts, name: str, budget: int) -> None:
        self.facts = facts
        self.budget = budget
        self.header = header_lines(facts, name)
        self.notes = note_lines(facts)
        self.correlation_heading, self.correlations = correlation_lines(facts)
        self._detail_cache: dict[tuple[int, int, int], list[str]] = {}
        self.brief_cost = [estimate_tokens(brief_line(p, facts.rows, facts.conversions.get(p.position))) + 1 for p in facts.profiles]
        self.compact_cost = [
            estimate_tokens(compact_entry(facts, i)) + 1 for i in range(facts.cols)
        ]

    def fit(self) -> FittedBlock:
        """The richest block within the budget (name and shape only when nothing else fits)."""
        facts = self.facts
        table: list[str] | None = None
        # Each table cell costs at least one token (value or comma): skip hopeless tables.
        table_possible = 0 < facts.rows * facts.cols <= self.budget
        for level in LEVELS:
            if level.table:
                if not table_possible:
                    continue
                if table is None:
                    table = table_lines(facts)
            block = self._try_level(level, table if level.table else None)
            if block is not None:
                return block
        return self._header_only()

    def _detail(self, i: int, level: Level) -> list[str]:
        # Rendered once per column and rung: the allocation asks for it repeatedly.
        key = (self.facts.profiles[i].position, level.top_k, level.examples)
        cached = self._detail_cache.get(key)
        if cached is None:
            cached = detail_lines(self.facts.profiles[i], level.top_k, level.examples)
            self._detail_cache[key] = cached
        return cached

    def _detail_cost(self, i: int, level: Level) -> int:
        return sum(estimate_tokens(line) + 1 for line in self._detail(i, level))

    def _try_level(self, level: Level, table: list[str] | None) -> FittedBlock | None:
        correlations = self.correlations[: level.correlations]
        corr_block = (
            [self.correlation_heading] + correlations
            if self.correlation_heading and level.correlations
            else []
        )
        samples = (
            []
            if table is not None
            else sample_lines(self.facts, level.sample_first, level.sample_spread)
        )
        fixed = self.header + corr_block + samples + (table or [])
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
            if not self._acceptable(level, full, listed, table is not None):
                return None
            omitted = self._omitted(
                level,
                full,
                brief,
                listed,
                table is not None,
                len(samples),
                len(correlations),
                len(notes),
            )
            text = self._render(
                level, full, brief, listed, notes, corr_block, samples, table, omitted
            )
            tokens = estimate_tokens(text)
            if tokens <= self.budget:
                return FittedBlock(text=text, estimated_tokens=tokens, omitted=omitted)
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

    def _allocate(self, room: int, level: Level) -> tuple[int, int, int]:
        """Column tiers: full detail [0, full), one line [full, brief), name only [brief, listed).

        Order of preference: one line for the first columns, then their detail, then the
        names of as many further columns as fit, then one line and detail for those.
        """
        n_profiled, cols = self.facts.n_profiled, self.facts.cols
        headings = 80  # "columns (…):", the name-only heading, the "not listed" line
        left = room - headings
        first = min(n_profiled, DETAIL_FIRST_COLUMNS)
        brief = full = 0
        while brief < first and self.brief_cost[brief] <= left:
            left -= self.brief_cost[brief]
            brief += 1
        while full < brief and (cost := self._detail_cost(full, level)) <= left:
            left -= cost
            full += 1
        listed = brief
        while listed < cols and self.compact_cost[listed] <= left:
            left -= self.compact_cost[listed]
            listed += 1
        if brief == first and full == brief:
            # Upgrade further profiled columns from name-only to one line, then to detail.
            while (
                brief < min(n_profiled, listed)
                and self.brief_cost[brief] - self.compact_cost[brief] <= left
            ):
                left -= self.brief_cost[brief] - self.compact_cost[brief]
                brief += 1
            while full < brief and (cost := self._detail_cost(full, level)) <= left:
                left -= cost
                full += 1
        return full, brief, listed

    def _acceptable(self, level: Level, full: int, listed: int, with_table: bool) -> bool:
        """Whether a plan is rich enough for its level (else the next level is tried)."""
        if level.final:
            return True
        if with_table:  # the whole table, so every profiled column in detail too
            return full == self.facts.n_profiled and listed == self.facts.cols
        return full >= min(self.facts.n_profiled, DETAIL_FIRST_COLUMNS)

    def _omitted(
        self,
        level: Level,
        full: int,
        brief: int,
        listed: int,
        with_table: bool,
        sample_count: int,
        corr_count: int,
        note_count: int,
    ) -> list[str]:
        rows, cols, profiles = self.facts.rows, self.facts.cols, self.facts.profiles
        omitted: list[str] = []
        has_cells = rows > 0 and cols > 0
        if has_cells and not with_table:
            omitted.append("verbatim table")
            shown_rows = max(0, sample_count - 2)
            if shown_rows == 0:
                omitted.append("sample rows")
            elif shown_rows < min(rows, 10):
                omitted.append(f"sample rows beyond {shown_rows}")
        if corr_count < len(self.correlations):
            omitted.append(
                "correlations" if corr_count == 0 else f"correlations beyond {corr_count}"
            )
        if any(len(p.top) > level.top_k for p in profiles[:full]):
            omitted.append(f"top values beyond {level.top_k}")
        if any(len(p.examples) > level.examples for p in profiles[:full]):
            omitted.append(f"text examples beyond {level.examples}")
        if full < cols:
            omitted.append(f"{column_span(full + 1, cols)} detail")
        if brief < cols:
            omitted.append(f"{column_span(brief + 1, cols)} null and distinct counts")
        if listed < cols:
            omitted.append(f"{column_span(listed + 1, cols)} names")
        if note_count < len(self.notes):
            omitted.append("notes")
        return omitted

    def _render(
        self,
        level: Level,
        full: int,
        brief: int,
        listed: int,
        notes: list[str],
        corr_block: list[str],
        samples: list[str],
        table: list[str] | None,
        omitted: list[str],
    ) -> str:
        facts = self.facts
        body: list[str] = list(self.header)
        if facts.cols:
            if brief:
                body.append('columns (number. "name": type; nulls; distinct values):')
            for i in range(brief):
                body.append(brief_line(facts.profiles[i], facts.rows, facts.conversions.get(i)))
                if i < full:
                    body.extend(self._detail(i, level))
            if listed > brief:
                body.append(f"{column_span(brief + 1, listed)} (name and type only):")
                body.extend(
                    chunks([compact_entry(facts, i) for i in range(brief, listed)], COMPACT_PER_LINE)
                )
            if listed < facts.cols:
                body.append(f"{column_span(listed + 1, facts.cols)}: not listed here")
        if notes:
            body.append("notes:")
            body.extend(notes)
        body.extend(corr_block)
        body.extend(samples)
        if table:
            body.extend(table)
        if omitted:
            body.append("omitted to fit the budget: " + "; ".join(omitted))
        return fenced(body)

    def _header_only(self) -> FittedBlock:
        omitted = ["everything but the name and shape"]
        text = fenced(self.header[:1] + ["omitted to fit the budget: " + omitted[0]])
        return FittedBlock(text=text, estimated_tokens=estimate_tokens(text), omitted=omitted)
