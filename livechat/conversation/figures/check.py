"""Check a reply's figures once its transcript is complete, and say how it went.

``check_transcript`` walks a ``Transcript``: each model message that is complete (final
or cut short) and not checked yet gets a ``FigureCheck`` on its ``figure_check`` field,
computed from its own text, the question of its turn, the tool results received in its
turn before it and in the two turns before, and the instruction's data summary. It runs
on the caller's thread: the Talk page's script thread, after new events were folded in,
and the report before it is written; never the media loop. A message is checked once.

``FigureCheck.caption`` ("3 of 4 figures found in the data") and ``report_line``
("Figures: 1,234,567 exact (run_sql row 1, total) · 7,000 not found") are what the
screen and the report say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from livechat.conversation.figures.evidence import Evidence, summary_evidence, tool_evidence
from livechat.conversation.figures.matching import Mark, match_figures
from livechat.conversation.figures.spoken import find_figures

if TYPE_CHECKING:
    from livechat.conversation.transcript import Transcript

__all__ = ["EARLIER_TURNS", "FigureCheck", "ToolResult", "check_answer", "check_transcript", "report_line"]

EARLIER_TURNS = 2  # tool results of this many turns before the answer's own count too


@dataclass(frozen=True)
class ToolResult:
    """A tool result the model received: the tool's name and its JSON result."""

    name: str
    result: dict[str, Any] | None


@dataclass(frozen=True)
class FigureCheck:
    """The marks of one reply's figures, in the order they were said."""

    marks: tuple[Mark, ...] = ()

    @property
    def found(self) -> int:
        return sum(1 for m in self.marks if m.found)

    @property
    def caption(self) -> str | None:
        """``3 of 4 figures found in the data``, or None for a reply without figures."""
        if not self.marks:
            return None
        total = len(self.marks)
        return f"{self.found} of {total} figure{'s' if total != 1 else ''} found in the data"


def describe(mark: Mark) -> str:
    """``1,234,567 exact (run_sql row 1, total)`` / ``7,000 not found``."""
    if not mark.found:
        return f"{mark.text} not found"
    return f"{mark.text} {mark.kind} ({mark.source})"


def report_line(checks: Sequence[FigureCheck]) -> str | None:
    """``Figures: … · … · …`` for an answer's checks, or None when it said no figures."""
    marks = [mark for check in checks for mark in check.marks]
    if not marks:
        return None
    return "Figures: " + " · ".join(describe(m) for m in marks)


def check_answer(answer: str, *, question: str | None, turns: Sequence[Sequence[ToolResult]],
                 instruction: str | None, language: str | None = None) -> FigureCheck:
    """Check ``answer``'s figures; ``turns`` are tool results, the answer's own turn first."""
    figures = find_figures(answer, question=question, language=language)
    if not figures:
        return FigureCheck()
    evidence: list[Evidence] = []
    for rank, results in enumerate(turns[:EARLIER_TURNS + 1]):
        for call, tool in enumerate(results):
            evidence += tool_evidence(tool.name, tool.result, rank=rank, call=call)
    evidence += summary_evidence(instruction)
    return FigureCheck(tuple(match_figures(figures, evidence)))


def check_transcript(transcript: "Transcript", instruction: str | None) -> int:
    """Give every complete, unchecked model message its ``figure_check``; how many were checked."""
    checked = 0
    question: str | None = None
    history: list[list[ToolResult]] = [[]]  # tool results per turn, the current one last
    for entry in transcript.entries:
        if entry.kind == "message" and entry.role == "user":
            question = entry.text
            history = (history + [[]])[-(EARLIER_TURNS + 1):]
        elif entry.kind == "tool" and entry.final and not entry.cancelled:
            history[-1].append(ToolResult(entry.tool or "?", entry.result))
        elif (entry.kind == "message" and entry.role == "model" and not isinstance(entry.figure_check, FigureCheck)
              and (entry.final or entry.interrupted)):
            # Not a FigureCheck: never checked, or a record restored without one (a store that
            # keeps plain fields only): checked (again) here.
            entry.figure_check = check_answer(entry.text, question=question, turns=list(reversed(history)),
                                              instruction=instruction)
            checked += 1
    return checked
