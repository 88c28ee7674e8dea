"""Find the table inside a delimited text file: title lines, notes, totals, other tables.

The CSV/TSV side of `table_finder`. It works on the UTF-8 bytes before parsing and
returns the byte range the parser should read: from the header line to the end of the
table. Bounded work whatever the file's size: the first `HEAD_ROWS` lines, the last
`TAIL_ROWS` lines, and a C-level search for an empty line (`bytes.find`) in the first
and last 2 MB after the header, plus a look at the line after each empty line found.
Limitation: in a file over 4 MB, a second table that starts in the middle of the file
is not noticed (its rows are read as data, as before table finding existed).

Line numbers are physical lines of the file (1-based), which are the spreadsheet rows
of a CSV export.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from livechat.data.loaders import table_finder
from livechat.data.loaders.common import DataLoadError, ReadResult
from livechat.data.loaders.table_finder import HEAD_ROWS, TAIL_ROWS, TableLayout

_TAIL_BYTES = 256 * 1024
_MAX_GAPS = 200  # empty lines looked past inside one table before we stop checking
_GAP_SCAN_BYTES = 2 * 1024 * 1024


@dataclass
class TextTable:
    """The part of a delimited file that holds the table, and what was left out."""

    start: int  # byte offset of the header line
    end: int  # byte offset just past the table's last line
    header_line: int  # 1-based
    rows_above: int
    rows_below: int = 0
    adjustments: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    totals: list[tuple[int, str, list[float | None]]] = field(default_factory=list)
    last_line: int | None = None  # 1-based, when the end was cut


def find_text_table(
    utf8: bytes | memoryview, prefix: str, delimiter: str, *, header_row: int | None, name: str
) -> TextTable:
    """Locate the table in `utf8` (whose decoded start is `prefix`)."""
    window = HEAD_ROWS if header_row is None else max(HEAD_ROWS, header_row + 10)
    head_bytes = bytes(utf8[: len(prefix.encode("utf-8", "surrogatepass")) + 1])
    lines = head_bytes.split(b"\n")
    complete = len(head_bytes) >= len(utf8)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut off
    lines = lines[:window]
    rows = [_parse(line, delimiter) for line in lines]
    guess = table_finder.find_header(
        rows, override=None if header_row is None else header_row - 1
    )
    if guess is None:
        if header_row is not None:
            raise DataLoadError(
                f"{name}: line {header_row} is empty or beyond the first {len(lines)} lines; "
                "choose the line that holds the column names.",
                filename=name,
            )
        return TextTable(0, len(utf8), 1, 0)
    start = sum(len(line) + 1 for line in lines[: guess.row])
    found = TextTable(start, len(utf8), guess.row + 1, guess.rows_above, adjustments=list(guess.adjustments))
    data_start = start + len(lines[guess.row]) + 1 if guess.row < len(lines) else len(utf8)
    typed = table_finder.column_kinds(rows[guess.row + 1 : guess.row + 1 + TAIL_ROWS])
    _cut_at_gap(found, utf8, data_start, delimiter, typed)
    _cut_tail(found, utf8, data_start, delimiter)
    return found


def _parse(line: bytes, delimiter: str) -> list[str]:
    text = line.decode("utf-8", "replace").rstrip("\r")
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=False), [])
    except csv.Error:
        return text.split(delimiter)


def _cut_at_gap(
    found: TextTable, utf8: bytes | memoryview, pos: int, delimiter: str, typed: list[bool]
) -> None:
    """End the table at an empty line followed by notes or another table's header."""
    needle = b"\n\r\n" if b"\r\n" in bytes(utf8[:4096]) else b"\n\n"
    # Bounded: the first and last _GAP_SCAN_BYTES after the header, the whole of a file
    # smaller than twice that (where report-shaped files with several tables live).
    head_end = min(len(utf8), pos + _GAP_SCAN_BYTES)
    tail_start = max(head_end, len(utf8) - _GAP_SCAN_BYTES)
    for _ in range(_MAX_GAPS):
        gap = _find(utf8, needle, pos, head_end)
        if gap < 0:
            gap = _find(utf8, needle, max(pos, tail_start), len(utf8))
        if gap < 0:
            return
        after = gap + len(needle)
        while after < len(utf8) and utf8[after] in (10, 13):  # more empty lines
            after += 1
        if after >= len(utf8):
            return
        line_end = _find(utf8, b"\n", after)
        line = bytes(utf8[after : line_end if line_end >= 0 else len(utf8)])
        row = _parse(line, delimiter)
        kind = table_finder.classify_after_gap(row, typed)
        if kind == "data":
            pos = after
            continue
        found.end = gap + 1
        line_number = _count_lines(utf8, after) + 1
        rest = bytes(utf8[after:])
        found.rows_below = sum(1 for ln in rest.split(b"\n") if ln.strip(b"\r\t ,;|"))
        found.last_line = _count_lines(utf8, gap + 1)
        if kind == "table":
            found.warnings.append(
                f"Only the first table was loaded: another table starts at line {line_number} "
                f"({table_finder.preview(row)}). Pick its header line to load it instead."
            )
        else:
            found.adjustments.append(
                f"lines from {line_number} on ({table_finder.preview(row, 1)}) are notes below "
                "the table and were skipped"
            )
        return


def _cut_tail(found: TextTable, utf8: bytes | memoryview, data_start: int, delimiter: str) -> None:
    """Drop footnote and total lines at the end of the table."""
    lo = max(data_start, found.end - _TAIL_BYTES)
    if lo >= found.end:
        return
    chunk = bytes(utf8[lo : found.end])
    offsets: list[int] = []
    lines: list[bytes] = []
    at = lo
    for line in chunk.split(b"\n"):
        offsets.append(at)
        lines.append(line)
        at += len(line) + 1
    if lo > data_start and len(lines) > 1:
        offsets, lines = offsets[1:], lines[1:]  # the first may be cut off
    keep = [(o, ln) for o, ln in zip(offsets, lines, strict=True) if ln.strip(b"\r\t ")][-TAIL_ROWS:]
    if len(keep) < 2:
        return
    rows = [_parse(ln, delimiter) for _, ln in keep]
    if table_finder.split_tail(rows, [0] * len(rows)).keep == len(rows):
        return  # the usual case: nothing to cut, and no line counting over the file
    base = _count_lines(utf8, keep[0][0]) + 1
    numbers = [base + _count_bytes(chunk, keep[0][0] - lo, o - lo) for o, _ in keep]
    split = table_finder.split_tail(rows, numbers)
    found.end = keep[split.keep][0]
    found.last_line = numbers[split.keep - 1]
    found.rows_below += len(rows) - split.keep
    for line_number, text in split.notes:
        found.adjustments.append(
            f"line {line_number} ({table_finder.preview([text], 1)}) is a note and was skipped"
        )
    found.totals = split.totals


def finish_text_table(result: ReadResult, found: TextTable) -> ReadResult:
    """Apply what `find_text_table` found to the parsed table: spacer columns dropped,
    totals checked against the column sums, and the layout the Data page shows."""
    df = result.df
    names = list(df.columns)
    blank = [i for i, n in enumerate(names) if table_finder.is_empty(n)]
    empty = [False] * len(names)
    for i in blank:  # only unnamed columns are checked: cheap on a wide plain file
        empty[i] = bool(df.iloc[:, i].isna().all())
    dropped = table_finder.spacer_columns(names, empty)
    adjustments = list(found.adjustments)
    # find_header's note about leading empty columns is replaced by the drop below.
    adjustments = [a for a in adjustments if not a.startswith("table starts in column")]
    if dropped and len(dropped) < len(names):
        keep = [i for i in range(len(names)) if i not in set(dropped)]
        df = df.iloc[:, keep].copy()
        adjustments.append(
            f"{len(dropped)} empty column(s) without a name dropped "
            f"({', '.join(table_finder.column_letter(c) for c in dropped[:5])})"
        )
    else:
        keep = list(range(len(names)))
        dropped = []
    totals = table_finder.total_notes(df, found.totals)
    last_line = found.last_line if found.last_line is not None else found.header_line + len(df)
    rows_below = found.rows_below
    if not found.totals and len(df) > 2:
        df, sum_notes = table_finder.drop_sum_row(df, last_line)
        if sum_notes:
            totals += sum_notes
            last_line -= 1
            rows_below += 1
    adjustments += totals
    result.df = df
    result.warnings = result.warnings + found.warnings
    result.layout = TableLayout(
        header_row=found.header_line,
        header_rows=1,
        first_row=found.header_line,
        last_row=max(last_line, found.header_line),
        first_col=keep[0] + 1 if keep else 1,
        last_col=keep[-1] + 1 if keep else 1,
        rows_above=found.rows_above,
        rows_below=rows_below,
        adjustments=tuple(adjustments),
        totals=tuple(totals),
    )
    return result


def _count_bytes(chunk: bytes, lo: int, hi: int) -> int:
    return chunk.count(b"\n", lo, hi)


def _count_lines(utf8: bytes | memoryview, end: int) -> int:
    """Newlines before byte `end` (only called when something is cut: not per load)."""
    base, shift = _base(utf8)
    return base.count(b"\n", shift, shift + end)


def _find(utf8: bytes | memoryview, needle: bytes, start: int, end: int | None = None) -> int:
    """`bytes.find` on the text without copying it (a memoryview is searched in the
    bytes it views; `to_utf8` hands us a view on the upload's tail)."""
    base, shift = _base(utf8)
    stop = len(base) if end is None else shift + end
    at = base.find(needle, shift + start, stop)
    return at - shift if at >= 0 else -1


def _base(utf8: bytes | memoryview) -> tuple[bytes, int]:
    if isinstance(utf8, memoryview):
        obj = utf8.obj
        if isinstance(obj, bytes) and utf8.contiguous:
            shift = len(obj) - utf8.nbytes
            if shift >= 0 and obj[shift : shift + 16] == bytes(utf8[:16]):
                return obj, shift
        return bytes(utf8), 0
    return utf8, 0
