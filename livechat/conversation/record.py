"""The conversation as a record: the transcript's entries grouped into question/answer turns.

A voice answer is gone once spoken; the record keeps what an analyst needs to check it
and take it away: each question, the answer's transcript, the tool calls that produced
it (the SQL that ran, the rows returned to the model, how long the query took, the chart
drawn) and what happened around it (interruptions, reconnection notices, errors).

``turns()`` is the one place that decides what belongs to which turn; the Talk page and
the downloadable report (``livechat.conversation.report``) both read turns, so the
screen and the file never disagree. Plain data, no Streamlit, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from livechat.conversation.transcript import Entry

__all__ = ["ToolWork", "Turn", "tool_work", "turns"]

SQL_TOOL = "run_sql"
TRUSTED_TOOL = "run_trusted_query"  # livechat.summary.definitions_section.TRUSTED_TOOL


@dataclass(frozen=True)
class ToolWork:
    """What one tool call did, in the terms an analyst checks: query, rows, time, chart."""

    index: int  # position of the entry in the transcript (stable chart file names)
    tool: str
    args: dict[str, Any]
    sql: str | None
    columns: list[str]
    rows: list[list[Any]]
    row_count: int | None
    truncated: bool
    elapsed_ms: float | None
    error: str | None
    cancelled: bool
    pending: bool
    chart: dict[str, Any] | None
    result: dict[str, Any] | None
    trusted: str | None = None  # the trusted question a run_trusted_query call answered

    @property
    def row_cap_note(self) -> str | None:
        """Words for a result the model saw only part of, else None."""
        if not self.truncated:
            return None
        total = f" of {self.row_count:,}" if isinstance(self.row_count, int) else ""
        return f"The model was given the first {len(self.rows):,}{total} rows (row cap)."


@dataclass
class Turn:
    """One question and everything that answered it."""

    question: str | None  # None for what the model said before any question
    question_interrupted: bool = False
    answers: list[str] = field(default_factory=list)
    interrupted: bool = False
    tools: list[ToolWork] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # notices: reconnected, resumed, …
    errors: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # per-turn figures, e.g. "first audio 0.8 s"

    @property
    def trusted(self) -> list[str]:
        """The trusted queries the answer was built on (their questions), in order."""
        return list(dict.fromkeys(w.trusted for w in self.tools if w.trusted))

    @property
    def answer(self) -> str:
        """The model's spoken answer as one text (several messages joined)."""
        return "\n\n".join(a for a in self.answers if a)


def tool_work(index: int, entry: Entry) -> ToolWork:
    """The analyst's view of one tool entry (works for pending, failed and cancelled calls)."""
    result = entry.result if isinstance(entry.result, dict) else None
    error = result.get("error") if result is not None else None
    sql = entry.args.get("query") if entry.tool == SQL_TOOL else None
    trusted = result.get("trusted_query") if entry.tool == TRUSTED_TOOL and result is not None else None
    if trusted is not None:
        sql = result.get("sql")  # the trusted query's SQL: what actually ran
    columns = result.get("columns") if result is not None else None
    rows = result.get("rows") if result is not None else None
    elapsed = result.get("elapsed_ms") if result is not None else None
    row_count = result.get("row_count") if result is not None else None
    return ToolWork(
        index=index,
        tool=entry.tool or "?",
        args=dict(entry.args),
        sql=sql if isinstance(sql, str) else None,
        columns=[str(c) for c in columns] if isinstance(columns, list) else [],
        rows=[list(r) for r in rows if isinstance(r, list)] if isinstance(rows, list) else [],
        row_count=row_count if isinstance(row_count, int) and not isinstance(row_count, bool) else None,
        truncated=bool(result.get("truncated")) if result is not None else False,
        elapsed_ms=float(elapsed) if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else None,
        error=str(error) if error is not None else None,
        cancelled=entry.cancelled,
        pending=not entry.final,
        chart=dict(entry.chart) if entry.chart else None,
        result=result,
        trusted=str(trusted) if trusted is not None and error is None else None,
    )


def turns(entries: Sequence[Entry] | Iterable[Entry]) -> list[Turn]:
    """Group transcript entries into turns: each user message opens one.

    Model messages, tool calls, notices and errors belong to the turn open when they
    arrived; anything before the first question forms a turn with no question.
    """
    result: list[Turn] = []
    current: Turn | None = None
    for index, entry in enumerate(entries):
        if entry.kind == "message" and entry.role == "user":
            current = Turn(question=entry.text, question_interrupted=entry.interrupted)
            result.append(current)
            continue
        if current is None:
            current = Turn(question=None)
            result.append(current)
        if entry.kind == "message":
            current.answers.append(entry.text)
            current.interrupted = current.interrupted or entry.interrupted
            if entry.figures_caption:
                current.figures.append(entry.figures_caption)
        elif entry.kind == "tool":
            current.tools.append(tool_work(index, entry))
        elif entry.kind == "error":
            current.errors.append(entry.text)
        else:
            current.notes.append(entry.text)
    return result
