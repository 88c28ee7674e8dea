"""Delimited text (.csv, .tsv, .txt) into a DataFrame.

Fast path: pyarrow's streaming CSV reader on the in-memory bytes (no copy for UTF-8
input), a big file cut at line breaks into parts streamed side by side (one per CPU,
up to four), with pandas' default null markers so results match `pd.read_csv`.
If it fails (ragged rows, quoted newlines beyond the sniffed prefix, odd dialects),
a second pyarrow pass counts rows with the wrong number of fields and skips the long
ones; short rows, which pyarrow cannot pad, and anything pyarrow rejects outright go
to pandas' C engine. The analyst is told how many rows were skipped or padded.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from livechat.data.loaders.common import (
    NULL_MARKERS,
    DataLoadError,
    Limits,
    ReadResult,
    check_columns,
    fmt_int,
)
from livechat.data.loaders.text_table import find_text_table, finish_text_table
from livechat.data.loaders.text import (
    Dialect,
    TextEncoding,
    chosen_encoding,
    count_replaced,
    decode_prefix,
    detect_encoding,
    fallback_encoding,
    sniff_dialect,
    to_utf8,
    undecodable_note,
)

logger = logging.getLogger(__name__)

# The same markers pandas treats as missing, so the fast path and the fallback agree.
NULL_VALUES = list(NULL_MARKERS)
_SKIPPED_LINE = re.compile(r"Skipping line (\d+)")


class _NotUtf8(Exception):
    """The bytes past the sniffed prefix are not valid UTF-8."""


_STREAM_BLOCK_BYTES = 4 * 2**20  # pyarrow's CSV block: parse buffers of a few blocks at a time
_MAX_PARSE_THREADS = 4  # streams of a big file parsed side by side (at most the CPUs we may use)
_PARALLEL_MIN_BYTES = 16 * 2**20  # below this one stream is quick enough


@dataclass
class _RaggedRows:
    """Rows pyarrow rejected for having the wrong number of fields.

    Called from pyarrow's reader threads; list.append is atomic under the GIL.
    """

    short: list[str] = field(default_factory=list)
    long: list[str] = field(default_factory=list)

    def __call__(self, row: pacsv.InvalidRow) -> str:
        # The row's text, not its number: pyarrow leaves `number` unset when parsing
        # in parallel, and an example row is what the analyst needs to find it.
        (self.short if row.actual_columns < row.expected_columns else self.long).append(row.text)
        return "skip"


def read_delimited(
    data: bytes,
    name: str,
    *,
    prefer_tab: bool,
    limits: Limits,
    encoding: str | None = None,
    header_row: int | None = None,
) -> ReadResult:
    """Parse delimited text; raise DataLoadError for anything that is not a table.

    `encoding` (a Python codec name the analyst picked) overrides detection. The table
    is looked for below title lines and above notes (`text_table`); `header_row`
    (1-based line) overrides where its header is."""
    text_encoding = chosen_encoding(data, encoding) if encoding else detect_encoding(data, name)
    result = _read_with_encoding(
        data, name, text_encoding, prefer_tab=prefer_tab, limits=limits, header_row=header_row
    )
    if text_encoding.warning:
        result.warnings.insert(0, text_encoding.warning)
    return result


def _read_with_encoding(
    data: bytes,
    name: str,
    encoding: TextEncoding,
    *,
    prefer_tab: bool,
    limits: Limits,
    header_row: int | None = None,
) -> ReadResult:
    utf8 = to_utf8(data, encoding)
    replaced = count_replaced(utf8, encoding)
    prefix = decode_prefix(utf8)
    if not prefix.strip():
        raise DataLoadError(f"{name} contains no data: it is blank.", filename=name)
    dialect = sniff_dialect(prefix, prefer_tab=prefer_tab)
    found = find_text_table(utf8, prefix, dialect.delimiter, header_row=header_row, name=name)
    if found.start or found.end < len(utf8):
        utf8 = memoryview(utf8)[found.start : found.end]
        prefix = decode_prefix(utf8)
        dialect = sniff_dialect(prefix, prefer_tab=prefer_tab)
    check_columns(name, len(dialect.header), limits)
    if not dialect.header:
        raise DataLoadError(f"{name} contains no data: no header row was found.", filename=name)
    try:
        result = _parse(utf8, name, prefix, dialect)
    except _NotUtf8:
        return _reread_as_8bit(
            data, name, encoding, prefer_tab=prefer_tab, limits=limits, header_row=header_row
        )
    result.encoding = encoding.codec
    result.encoding_choices = encoding.candidates
    result.delimiter = dialect.delimiter
    result.decimal_mark = dialect.decimal_mark
    if replaced:
        result.warnings.insert(0, undecodable_note(name, encoding, replaced))
    return finish_text_table(result, found)


def _parse(utf8: bytes | memoryview, name: str, prefix: str, dialect: Dialect) -> ReadResult:
    """pyarrow, then pyarrow with a ragged-row hook, then pandas (see the module doc).
    Raises _NotUtf8 when the bytes past the prefix are not UTF-8."""
    try:
        # Fast path: no invalid-row hook (a Python callback slows pyarrow's parser
        # down even when it never fires) and no support for quoted newlines unless
        # the prefix shows some (it costs parallelism). Either problem raises.
        df = _read_arrow(utf8, dialect, None, newlines_in_values=_has_quoted_newline(prefix))
    except pa.ArrowInvalid as exc:
        logger.info("%s: fast CSV parse failed (%s); reading again row by row", name, exc)
    else:
        return ReadResult(df)

    ragged = _RaggedRows()
    try:
        df = _read_arrow(utf8, dialect, ragged, newlines_in_values=True)
    except pa.ArrowInvalid as exc:
        logger.info("%s: pyarrow CSV reader failed (%s); using the pandas C engine", name, exc)
        return _read_pandas(utf8, name, dialect, None)
    if ragged.short:
        return _read_pandas(utf8, name, dialect, ragged)  # pyarrow cannot pad short rows
    notes = []
    if ragged.long:
        notes.append(
            _skipped_note(len(ragged.long), len(dialect.header), f"e.g. {_clip(ragged.long[0])}")
        )
    return ReadResult(df, notes)


def _reread_as_8bit(
    data: bytes,
    name: str,
    encoding: TextEncoding,
    *,
    prefer_tab: bool,
    limits: Limits,
    header_row: int | None,
) -> ReadResult:
    """Valid UTF-8 in the sniffed prefix, not further on: typically a cp1252 file
    whose first rows are plain ASCII. Start again with the fallback codec."""
    if encoding.codec != "utf-8":
        raise DataLoadError(f"{name}: text could not be decoded as {encoding.label}.", filename=name)
    logger.info("%s: invalid UTF-8 past the sniffed prefix; retrying as 8-bit", name)
    encoding = fallback_encoding(data, name)
    result = _read_with_encoding(
        data, name, encoding, prefer_tab=prefer_tab, limits=limits, header_row=header_row
    )
    if encoding.warning:
        result.warnings.insert(0, encoding.warning)
    return result


def _has_quoted_newline(prefix: str) -> bool:
    """True if some quoted field in the prefix spans lines (a cheap over-estimate:
    any line with an odd number of quote characters)."""
    if '"' not in prefix:
        return False
    return any(line.count('"') % 2 for line in prefix.splitlines())


def _skipped_note(count: int, n_columns: int, where: str) -> str:
    return (
        f"{fmt_int(count)} row(s) had more fields than the {fmt_int(n_columns)} header "
        f"columns and were skipped ({where})."
    )


def _clip(row_text: str, width: int = 60) -> str:
    text = " ".join(row_text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")


def _read_arrow(
    utf8: bytes | memoryview,
    dialect: Dialect,
    ragged: _RaggedRows | None,
    *,
    newlines_in_values: bool,
) -> pd.DataFrame:
    placeholders = [f"c{i}" for i in range(len(dialect.header))]
    options = dict(
        # Our own names, header row skipped: the real header is cleaned up later
        # (blank and duplicate names), and pyarrow would otherwise merge duplicates.
        read_options=pacsv.ReadOptions(
            column_names=placeholders, skip_rows_after_names=1, block_size=_STREAM_BLOCK_BYTES
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=dialect.delimiter,
            invalid_row_handler=ragged,
            newlines_in_values=newlines_in_values,
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={placeholders[i]: pa.string() for i in dialect.text_columns if i < len(placeholders)},
            null_values=NULL_VALUES,
            strings_can_be_null=True,
            # Always ".": "3,5" stays text here and `livechat.data.loaders.numbers`
            # converts it, with the thousands separators pyarrow cannot read, and a note.
        ),
    )
    table = None
    if ragged is None:
        # Block by block: read_csv keeps every block's parse buffers until the end
        # (measured, 1M x 20 CSV: +563 MB peak for a 180 MB table; streaming: +264 MB).
        # The streaming reader fixes each column's type from the first block, so a file
        # whose later rows need another type is read again whole below.
        try:
            parts = [utf8] if newlines_in_values else _row_aligned_parts(utf8, _parse_threads())
            table = _stream_parts(parts, options)
        except pa.ArrowInvalid:
            table = None
    if table is None:
        table = pacsv.read_csv(pa.BufferReader(utf8), **options)
    if any(pa.types.is_binary(typ) for typ in table.schema.types):
        # pyarrow reads a column holding invalid UTF-8 as binary instead of failing.
        raise _NotUtf8
    # An all-empty column has Arrow type null; pandas reads those as float NaN too.
    for i, typ in enumerate(table.schema.types):
        if pa.types.is_null(typ):
            table = table.set_column(i, table.field(i).name, pa.nulls(len(table), pa.float64()))
    df = table.to_pandas(split_blocks=True, self_destruct=True, date_as_object=False)
    df.columns = list(dialect.header)
    return df


def _parse_threads() -> int:
    return max(1, min(_MAX_PARSE_THREADS, len(os.sched_getaffinity(0))))


def _row_aligned_parts(utf8: bytes | memoryview, count: int) -> list[memoryview]:
    """``utf8`` cut into up to ``count`` pieces, each ending at a line break (zero-copy).

    Only for files without quoted line breaks (``newlines_in_values`` off), where every
    line break ends a row. A small file stays whole."""
    view = memoryview(utf8)
    if count < 2 or len(view) < _PARALLEL_MIN_BYTES:
        return [view]
    cuts = [0]
    for i in range(1, count):
        cut = _line_start_after(view, max(cuts[-1], len(view) * i // count))
        if cut is None:
            break
        cuts.append(cut)
    cuts.append(len(view))
    return [view[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def _line_start_after(view: memoryview, start: int, window: int = 1 << 16) -> int | None:
    """The offset just past the first line break at or after ``start`` (None: there is none)."""
    while start < len(view):
        found = bytes(view[start:start + window]).find(b"\n")  # a small copy, not the file
        if found >= 0:
            return start + found + 1
        start += window
    return None


def _stream_parts(parts: Sequence[bytes | memoryview], options: dict) -> pa.Table | None:
    """Each part streamed on its own thread (the first has the header row), joined in
    order; None when the parts came out with different column types (the caller then
    reads the file whole, as when one stream's later blocks need another type).

    pyarrow's streaming reader parses on one core; parts in parallel bring the load back
    to what the whole-file reader took on an idle 2-core host (1M x 20 CSV: 1.07 s -> ~0.5 s
    parsing) while each stream still holds only a few blocks' buffers."""
    def stream(index: int) -> pa.Table:
        read = options["read_options"]
        # Blocks shared out: parts side by side hold about one stream's parse buffers.
        read = pacsv.ReadOptions(column_names=read.column_names, skip_rows_after_names=1 if index == 0 else 0,
                                 block_size=max(1 << 20, read.block_size // len(parts)))
        return pacsv.open_csv(pa.BufferReader(parts[index]), read_options=read,
                              parse_options=options["parse_options"],
                              convert_options=options["convert_options"]).read_all()

    if len(parts) == 1:
        return stream(0)
    with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="csv-part") as pool:
        tables = list(pool.map(stream, range(len(parts))))
    if any(t.schema != tables[0].schema for t in tables[1:]):
        return None
    return pa.concat_tables(tables)


def _read_pandas(
    utf8: bytes | memoryview, name: str, dialect: Dialect, ragged: _RaggedRows | None
) -> ReadResult:
    """The tolerant path: pads short rows, skips (and counts) rows with extra fields."""
    n = len(dialect.header)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            df = pd.read_csv(
                io.BytesIO(utf8),
                sep=dialect.delimiter,
                header=0,
                names=[f"c{i}" for i in range(n)],
                dtype={f"c{i}": str for i in dialect.text_columns if i < n} or None,
                index_col=False,
                on_bad_lines="warn",
                engine="c",
                encoding="utf-8",
                encoding_errors="replace",
                low_memory=False,
            )
        except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
            raise DataLoadError(
                f"{name} could not be read as a {dialect.delimiter_name}-separated table: "
                f"{_first_line(exc)}",
                filename=name,
            ) from exc
    skipped = [int(m.group(1)) for w in caught for m in _SKIPPED_LINE.finditer(str(w.message))]
    df.columns = list(dialect.header)
    notes: list[str] = []
    if skipped:
        notes.append(_skipped_note(len(skipped), n, f"first at line {skipped[0]}"))
    if ragged is not None and ragged.short:
        notes.append(
            f"{fmt_int(len(ragged.short))} row(s) had fewer fields than the {fmt_int(n)} "
            "header columns; the missing cells were left empty."
        )
    return ReadResult(df, notes)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
