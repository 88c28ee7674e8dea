"""What the model was given: every number in a turn's tool results and in the summary.

Each ``Evidence`` keeps where it came from in words an analyst can find again
(``run_sql row 1, total``, ``describe_column wind_knots mean``, ``summary: wind_knots
mean``), the groups it belongs to (a result's column, a result's row, a summary column:
derived figures pair values within one group only) and its rank (0 for the answer's own
turn, 1 and 2 for the turns before, 3 for the summary; lower wins a tie).

``summary_evidence`` reads the data block of the instruction (the lines between
``<<<DATA nonce>>>`` and ``<<<END DATA nonce>>>``, see ``livechat.summary``): the
column lines' statistics (``min 0; p25 12; mean 19.78``), top values with counts and
shares, the header's row and column counts, correlations and the sample rows. Dates and
identifiers are left out. Results are cached per instruction text.

Pure functions; any thread.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = ["Evidence", "SUMMARY_RANK", "summary_evidence", "tool_evidence"]

SUMMARY_RANK = 3
_IGNORED_KEYS = frozenset({"elapsed_ms", "truncated"})
_NUMERIC_TEXT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_BLOCK = re.compile(r"<<<DATA ([0-9a-f]+)>>>\n(.*?)\n<<<END DATA \1>>>", re.DOTALL)
_COLUMN_LINE = re.compile(r'^\s*\d+\.\s+"((?:[^"\\]|\\.)*)"\s*:(.*)$')
_TABLE_LINE = re.compile(r'^\s*(?:dataset|table)\s+"((?:[^"\\]|\\.)*)"\s*:(.*)$')
# Dates, times, identifiers with digits ("SKH-20230101", "p25" stays a label) and
# "#" row numbers: numbers that are not statistics.
_NOT_A_STAT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?|\d{1,2}:\d{2}(?::\d{2})?|[A-Za-z]+-\d+")
_RANGE_DASH = re.compile(r"(?<=\d)-(?=\d)")  # "length 12-12" is two numbers, not 12 and -12
_SKIPPED_LINES = ("marks:", "columns (", "sample rows (")
_SUMMARY_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|~?[-+]?\d+(?:\.\d+)?%?|[A-Za-z_][\w]*|[;,():&×]')


class Evidence(NamedTuple):
    """One number the model was given, where it was, and what it may be paired with.

    A NamedTuple, not a frozen dataclass: a 1,000-cell result makes 1,000 of them per
    answer, and a tuple is built several times faster."""

    value: float
    source: str
    groups: tuple[str, ...]
    rank: int


def _number(value: Any) -> float | None:
    """A JSON cell as a number: ints and floats (not bools), or text that is only a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and len(value) <= 40 and _NUMERIC_TEXT.fullmatch(value.strip()):
        return float(value.strip().replace(",", ""))
    return None


def tool_evidence(name: str, result: Mapping[str, Any] | None, *, rank: int, call: int) -> list[Evidence]:
    """The numbers of one tool result (``call`` tells results of one turn apart)."""
    if not isinstance(result, Mapping) or "error" in result:
        return []
    out: list[Evidence] = []
    tag = f"t{rank}.{call}"
    columns, rows = result.get("columns"), result.get("rows")
    if isinstance(columns, list) and isinstance(rows, list):
        column_groups = [f"{tag}:col:{column}" for column in columns]
        for r, row in enumerate(rows, start=1):
            if not isinstance(row, list):
                continue
            row_group = f"{tag}:row:{r}"
            for column, group, cell in zip(columns, column_groups, row):
                # The common case first: JSON numbers (bools are ints: excluded).
                value = float(cell) if type(cell) in (int, float) and cell == cell else _number(cell)
                if value is not None and abs(value) != float("inf"):
                    out.append(Evidence(value, f"{name} row {r}, {column}", (group, row_group), rank))
        count = result.get("row_count")
        value = _number(count)
        if value is not None:
            out.append(Evidence(value, f"{name} row count", (f"{tag}:count",), rank))
        return out
    subject = result.get("column") if isinstance(result.get("column"), str) else None
    prefix = f"{name} {subject}" if subject else name
    _walk(result, prefix, tag, rank, out)
    return out


def _walk(node: Any, path: str, group: str, rank: int, out: list[Evidence]) -> None:
    """Numeric leaves of a nested result, each named by its path ("describe_column x mean")."""
    if isinstance(node, Mapping):
        for key, child in node.items():
            if key in _IGNORED_KEYS or key == "column":
                continue
            value = _number(child)
            if value is not None:
                out.append(Evidence(value, f"{path} {key}", (group,), rank))
            elif isinstance(child, (Mapping, list)):
                _walk(child, f"{path} {key}", f"{group}.{key}", rank, out)
    elif isinstance(node, list):
        columns = None
        for index, child in enumerate(node[:1000], start=1):
            value = _number(child)
            if value is not None:
                out.append(Evidence(value, f"{path} {index}", (group,), rank))
            elif isinstance(child, list):
                for position, cell in enumerate(child):
                    value = _number(cell)
                    if value is not None:
                        label = columns[position] if columns and position < len(columns) else position + 1
                        out.append(Evidence(value, f"{path} row {index}, {label}",
                                            (f"{group}:col:{position}", f"{group}:row:{index}"), rank))
            elif isinstance(child, (Mapping, list)):
                _walk(child, f"{path} {index}", f"{group}.{index}", rank, out)


def summary_evidence(instruction: str | None) -> tuple[Evidence, ...]:
    """The numbers of the instruction's data block(s), each named ``summary: <column> <stat>``."""
    if not instruction:
        return ()
    return _summary_evidence(instruction)


@functools.lru_cache(maxsize=16)
def _summary_evidence(instruction: str) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for block in _BLOCK.finditer(instruction):
        _read_block(block.group(2).splitlines(), out)
    return tuple(out)


def _read_block(lines: Sequence[str], out: list[Evidence]) -> None:
    subject, paired = "dataset", False
    sample_header: list[str] | None = None
    for line in lines:
        if sample_header is not None and line[:1].isdigit():
            _sample_row(line, sample_header, out)
            continue
        sample_header = None
        if line.startswith(_SKIPPED_LINES):
            continue
        if line.startswith("#,"):
            sample_header = next(csv.reader([line]))
            continue
        column = _COLUMN_LINE.match(line)
        table = _TABLE_LINE.match(line)
        if column:
            subject, rest, paired = _unquote(column.group(1)), column.group(2), True
        elif table:
            subject, rest, paired = _unquote(table.group(1)), table.group(2), True
        elif line[:1].isspace():
            rest = line  # a column's detail line
        else:
            # Notes, correlations, headings: looked up, never paired (their numbers are unrelated).
            subject, rest, paired = "dataset", line, False
        _statements(rest, subject, out, paired)


def _unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def _statements(text: str, subject: str, out: list[Evidence], paired: bool) -> None:
    """``label number`` pairs of one summary line: "min 0; p25 12", "\"Rona Sound\" 398 (12.9%)"."""
    text = _RANGE_DASH.sub(" ", _NOT_A_STAT.sub(" ", text))
    tokens = _SUMMARY_TOKEN.findall(text)
    label: list[str] = []
    last_label = ""
    named_by_next = False  # the word after a number named it ("3075 rows"): not the next label
    groups = (f"summary:{subject}",) if paired else ()
    for index, token in enumerate(tokens):
        if named_by_next:
            named_by_next = False
            if token[0].isalpha():
                continue
        if token in (";", ","):
            label = []
            continue
        if token in "():&×":
            if token == "&":
                label.append("&")
            continue
        if token[0] == '"':
            label.append(_unquote(token[1:-1]))
            continue
        if token[0].isalpha() or token[0] == "_":
            label.append(token)
            continue
        raw = token.lstrip("~")
        percent = raw.endswith("%")
        value = _number(raw.rstrip("%"))
        if value is None:
            continue
        name = " ".join(label)
        if not name:
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            named_by_next = following[:1].isalpha()
            name = following if named_by_next else (f"{last_label} share" if percent and last_label else "")
        out.append(Evidence(value, f"summary: {subject} {name}".rstrip(), groups, SUMMARY_RANK))
        last_label = name or last_label
        label = []


def _sample_row(line: str, header: list[str], out: list[Evidence]) -> None:
    cells = next(csv.reader([line]), [])
    if not cells:
        return
    number = cells[0]
    for name, cell in zip(header[1:], cells[1:]):
        value = _number(cell)
        if value is not None:
            # No groups: sampled rows are looked up, never paired into derived figures.
            out.append(Evidence(value, f"summary: sample row {number}, {name}", (), SUMMARY_RANK))


def merge(*parts: Iterable[Evidence]) -> list[Evidence]:
    """All evidence in priority order (the caller passes the answer's own turn first)."""
    return [item for part in parts for item in part]
