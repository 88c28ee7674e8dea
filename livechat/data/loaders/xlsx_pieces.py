"""A big .xlsx sheet read by calamine a piece of rows at a time.

python-calamine 0.9 parses a whole sheet into its own cell grid before any row can be
read (about 32 bytes a cell, about 70 while parsing: 2.8 GB for 33 million cells) and
has no streaming API. Here the sheet's XML is inflated out of the zip a block at a time
and cut after a `</row>` with bytes operations only (a Python XML parser would cost more
than calamine itself on tens of millions of cells); each piece of rows goes to calamine
as a workbook of its own: the original workbook.xml, relationships, styles and shared
strings, and a sheet part holding the original head (up to `<sheetData>`) and just those
rows, stored uncompressed. Only one piece's grid exists at a time.

The rows keep their `r="A123"` references, and calamine's grid starts at a piece's first
used cell, so a piece costs its own size wherever it lies in the sheet; values, dates
(the styles are there), booleans and shared strings read exactly as in the whole sheet.
`PieceSheet` offers what the Excel reader uses of a `CalamineSheet`: its rows from row 1
laid out on the used columns, its used range and its merged ranges.

Costs: the XML is inflated twice, since a first pass must find where the rows end and
what follows them (the merged ranges, which the header search needs before the first
row): about 1.2 s a GB of XML. And calamine parses the shared strings again for every
piece, so pieces grow with them (`PieceSheet.piece_bytes`). On bench/bench_load.py's
1,048,575 × 32 workbook (1.3 GB of XML, inline strings) the pieces take about 20% longer
than the whole sheet; with a million unique shared strings, about 50% longer.
"""

from __future__ import annotations

import collections
import copy
import io
import itertools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import python_calamine as calamine

from livechat.data.loaders.table_finder import Merge
from livechat.data.loaders.xlsx_dimensions import DeclaredSheet

__all__ = ["MAX_PIECE_BYTES", "PIECE_BYTES", "Extent", "ExtentChanged", "NotChunkable", "PieceSheet"]

# XML handed to calamine at a time. A piece costs about 9× its XML at its peak (the
# stored zip, calamine's copy of it, its cells and grid, the rows as Python objects):
# 8 MB (about 200,000 cells) keeps that near 75 MB. Bigger pieces were no faster: 32 MB
# took 20% longer on 1.3 GB of sheet XML (bench/bench_load.py --excel's workbook).
PIECE_BYTES = 8 * 2**20
# Pieces grow with the shared strings (see PieceSheet.piece_bytes), up to this: 1 million
# unique strings (34 MB of XML) take calamine 0.35 s to parse, for every piece.
MAX_PIECE_BYTES = 64 * 2**20
_BLOCK = 4 * 2**20  # inflated XML read at a time
_PROBE_BYTES = 2**20  # the first piece when only looking for a value
# How far from the end of the XML `</sheetData>` is looked for: what follows the rows
# (merged ranges, hyperlinks, …) is a few KB in most sheets; a longer tail reads whole.
_TAIL_WINDOW = 32 * 2**20
# Parts calamine reads besides the sheet (lower-cased: calamine finds them by name).
_SUPPORT_PARTS = frozenset(
    {
        "[content_types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/sharedstrings.xml",
    }
)
_SHEET_DATA = re.compile(rb"<(?:(\w+):)?sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?worksheet)\b")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\b([^>]*)>")
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=")
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name length, extra length


class NotChunkable(Exception):
    """The sheet cannot be read in pieces (an unexpected XML layout, rows out of order,
    a damaged member, or calamine refused a piece): read it whole, as any sheet."""


@dataclass(frozen=True)
class Extent:
    """A used cell range, 0-based and inclusive."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int

    def union(self, other: Extent | None) -> Extent:
        if other is None:
            return self
        return Extent(
            min(self.first_row, other.first_row),
            min(self.first_col, other.first_col),
            max(self.last_row, other.last_row),
            max(self.last_col, other.last_col),
        )


class ExtentChanged(Exception):
    """The cells use other columns than the ones assumed: read again on these."""

    def __init__(self, extent: Extent) -> None:
        super().__init__(f"used range {extent}")
        self.extent = extent


class PieceSheet:
    """One worksheet of an .xlsx, read a piece of rows at a time.

    `extent` is the used range assumed, at first the declared `<dimension>`: rows are
    laid out on its columns, as calamine lays a whole sheet out on its used columns.
    When the cells turn out to use other columns (a cell outside the declared range,
    or declared columns holding only formatting), reading ends with `ExtentChanged`
    naming the real range once every piece has been seen. Rows beyond the extent only
    count for progress.
    """

    def __init__(self, data: bytes, title: str, declared: DeclaredSheet) -> None:
        self.data = data
        self.title = title
        self.declared = declared
        self._support, self._member = self._locate()
        shared = sum(len(body) for name, body in self._support.items() if name.lower() == "xl/sharedstrings.xml")
        # calamine parses the shared strings again for each piece (when the workbook
        # opens): pieces twice their size keep that near a third of the reading time.
        self.piece_bytes = max(PIECE_BYTES, min(2 * shared, MAX_PIECE_BYTES))
        self._cached_layout: _Layout | None = None
        self._merges: list[Merge] | None = None
        self._set_extent(Extent(declared.first_row, declared.first_col, declared.last_row, declared.last_col))

    def with_extent(self, extent: Extent) -> PieceSheet:
        """The same sheet laid out on other columns (what was read of it is kept)."""
        other = copy.copy(self)
        other._set_extent(extent)
        return other

    def _set_extent(self, extent: Extent) -> None:
        self.extent = extent
        self.start = (extent.first_row, extent.first_col)
        self.end = (extent.last_row, extent.last_col)
        self.width = extent.last_col - extent.first_col + 1
        self.height = extent.last_row - extent.first_row + 1

    # ------------------------------------------------------------ what the reader uses

    @property
    def merged_cell_ranges(self) -> list[Merge]:
        """The sheet's merged ranges: calamine reads the head and the tail alone."""
        if self._merges is None:
            layout = self._layout()
            if b"mergeCell" in layout.tail:
                self._merges = self._parse(self._zip(layout.head, b"", layout.tail)).merged_cell_ranges or []
            else:
                self._merges = []
        return self._merges

    def has_value(self) -> bool:
        """Whether any cell holds a value (blank text is none). Stops at the first
        piece that has one, and the first piece is small."""
        for sheet in self._pieces(first_bytes=_PROBE_BYTES):
            if sheet.start is not None and any(
                row.count("") < len(row) for row in sheet.to_python(skip_empty_area=True)
            ):
                return True
        return False

    def iter_rows(self) -> Iterator[list[Any]]:
        """The rows from sheet row 1 to the last row with a cell, each a list over the
        extent's columns with '' for an empty cell, as `CalamineSheet.iter_rows` gives
        a whole sheet's rows. (A piece's rows at a time, chained in C.)"""
        return itertools.chain.from_iterable(self._row_lists())

    def _row_lists(self) -> Iterator[list[list[Any]]]:
        first_col, last_col, width = self.extent.first_col, self.extent.last_col, self.width
        cursor = 0  # the next sheet row to give
        used: Extent | None = None
        outside = False
        for sheet in self._pieces():
            if sheet.start is None:
                continue
            (r0, c0), (r1, c1) = sheet.start, sheet.end  # type: ignore[misc]
            if r0 < cursor:
                raise NotChunkable("rows out of order")
            used = Extent(r0, c0, r1, c1).union(used)
            outside = outside or c0 < first_col or c1 > last_col
            if outside:  # only the used range matters now: the rows will be read again
                cursor = r1 + 1
                continue
            rows = sheet.to_python(skip_empty_area=True)
            del sheet  # calamine's grid of the piece
            if len(rows) != r1 - r0 + 1:
                raise NotChunkable("calamine gave a piece's rows otherwise than its range")
            # Empty rows between pieces, each its own list: the reader fills merged
            # cells into rows in place.
            yield [[""] * width for _ in range(cursor, r0)]
            left, right = c0 - first_col, last_col - c1
            if left or right:
                pad_left, pad_right = [""] * left, [""] * right
                rows = [pad_left + row + pad_right for row in rows]
            yield rows
            cursor = r1 + 1
            del rows
        if used is not None and (used.first_col, used.last_col) != (first_col, last_col):
            raise ExtentChanged(used)

    # ------------------------------------------------------------ pieces

    def _pieces(self, first_bytes: int | None = None) -> Iterator[calamine.CalamineSheet]:
        """Each piece of rows parsed by calamine, in sheet order. Each copy of a piece
        is let go as soon as the next one exists (its XML, the stored zip, calamine's
        copy of that zip), so a piece costs its grid and one copy at a time."""
        layout = self._layout()
        row_end, _ = _end_tags(layout.head)
        cutter = _RowCutter(self._xml(skip=len(layout.head), stop=layout.rows_end), row_end)
        size = first_bytes or self.piece_bytes
        while (xml := cutter.next(size)) is not None:
            size = self.piece_bytes
            stored = self._zip(layout.head, xml, layout.close)
            xml.release()
            del xml
            yield self._parse(stored)

    def _zip(self, head: bytes, rows: bytes | memoryview, close: bytes) -> io.BytesIO:
        """A workbook of the support parts and this sheet holding these rows only;
        stored, not deflated (compressing would cost more than calamine's parse)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
            for name, body in self._support.items():
                zf.writestr(name, body)
            with zf.open(self.declared.part, "w") as part:
                part.write(head)
                part.write(rows)
                part.write(close)
        buf.seek(0)
        return buf

    def _parse(self, stored: io.BytesIO) -> calamine.CalamineSheet:
        try:
            workbook = calamine.CalamineWorkbook.from_filelike(stored)
            stored.close()  # calamine holds its own copy of the bytes
            try:
                return workbook.get_sheet_by_name(self.title)
            finally:
                workbook.close()
        except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
            raise
        except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
            raise NotChunkable(f"calamine refused a piece: {exc!r}") from exc

    # ------------------------------------------------------------ the sheet's XML

    def _locate(self) -> tuple[dict[str, bytes], tuple[memoryview, zipfile.ZipInfo]]:
        """The support parts, and the sheet member's compressed bytes with its entry."""
        try:
            with zipfile.ZipFile(io.BytesIO(self.data)) as zf:
                support = {
                    info.filename: zf.read(info)
                    for info in zf.infolist()
                    if info.filename.lower() in _SUPPORT_PARTS
                }
                info = zf.getinfo(self.declared.part)
        except Exception as exc:  # a damaged zip: the whole read reports it
            raise NotChunkable(f"zip: {exc!r}") from exc
        if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise NotChunkable("an encrypted or unusually compressed sheet")
        at = info.header_offset
        if len(self.data) < at + _LOCAL_HEADER.size:
            raise NotChunkable("truncated zip")
        signature, name_len, extra_len = _LOCAL_HEADER.unpack_from(self.data, at)
        if signature != b"PK\x03\x04":
            raise NotChunkable("no local header")
        begin = at + _LOCAL_HEADER.size + name_len + extra_len
        return support, (memoryview(self.data)[begin : begin + info.compress_size], info)

    def _xml(self, skip: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The sheet's XML from byte `skip` to byte `stop`, a block at a time. zlib
        directly: zipfile's reader costs half as much again, checking the CRC as it
        goes (`_layout` checks it once)."""
        raw, info = self._member
        if info.compress_type == zipfile.ZIP_STORED:
            blocks: Iterator[bytes] = (bytes(raw[i : i + _BLOCK]) for i in range(0, len(raw), _BLOCK))
        else:
            blocks = _inflate(raw)
        at = 0  # where the block starts in the XML
        for block in blocks:
            begin, end = max(skip - at, 0), len(block) if stop is None else min(stop - at, len(block))
            at += len(block)
            if begin < end:
                yield block[begin:end] if begin or end < len(block) else block
            if stop is not None and at >= stop:
                return

    def _layout(self) -> _Layout:
        """Where the rows are in the XML: one pass over it (checking its CRC), which
        the merged ranges need before the first row is read anyway."""
        if self._cached_layout is None:
            head = b""
            for block in self._xml():
                head += block
                if _SHEET_DATA.search(head) or len(head) > 4 * _BLOCK:
                    break
            match = _SHEET_DATA.search(head)
            root = _ROOT.search(head)
            if match is None or match.group(2) or root is None:
                raise NotChunkable("no <sheetData> with rows")
            head = head[: match.end()]
            _, data_end = _end_tags(head)
            # `</sheetData>` is near the end: keep the last blocks and look there, rather
            # than search the whole XML.
            window: collections.deque[bytes] = collections.deque()
            kept = total = crc = 0
            for block in self._xml():
                crc = zlib.crc32(block, crc)
                total += len(block)
                window.append(block)
                kept += len(block)
                while kept - len(window[0]) >= _TAIL_WINDOW:
                    kept -= len(window.popleft())
            if crc != self._member[1].CRC:
                raise NotChunkable("the sheet's CRC does not match")
            end = b"".join(window)
            at = end.rfind(data_end)
            if at < 0:  # no rows, or more than _TAIL_WINDOW after them
                raise NotChunkable("no </sheetData> near the end")
            self._cached_layout = _Layout(
                head=head,
                close=data_end + b"</" + root.group(1) + b">",
                rows_end=total - len(end) + at,
                tail=end[at:],
            )
        return self._cached_layout


@dataclass(frozen=True)
class _Layout:
    """A sheet's XML: `head` up to and including `<sheetData>`, the rows up to byte
    `rows_end`, then `tail` (`</sheetData>`, merged ranges, …). `close` ends a piece."""

    head: bytes
    close: bytes
    rows_end: int
    tail: bytes


class _RowCutter:
    """Cuts the rows into pieces that end after a `</row>`, with bytes.rfind/find only.
    `next` is a method, not a generator, so that the piece it returns is held by its
    caller alone (what follows it is copied out)."""

    def __init__(self, blocks: Iterator[bytes], row_end: bytes) -> None:
        self.blocks = blocks
        self.row_end = row_end
        self.buf = b""
        self.pos = 0  # where the next piece starts in buf
        self.eof = False

    def next(self, size: int) -> memoryview | None:
        """The next piece of about `size` bytes (more for a row longer than that)."""
        while True:
            if len(self.buf) - self.pos >= size:
                cut = self.buf.rfind(self.row_end, self.pos, self.pos + size)
                if cut < 0:  # a row longer than a piece
                    cut = self.buf.find(self.row_end, self.pos + size)
                if cut >= 0:
                    return self._take(cut + len(self.row_end), size)
                if len(self.buf) - self.pos > 4 * size:
                    raise NotChunkable("no </row> in four pieces' worth of XML")
            if self.eof:
                return self._take(len(self.buf), size) if self.pos < len(self.buf) else None
            self._gather(size)

    def _gather(self, size: int) -> None:
        """Read on: at least one block, and a piece's worth after the position."""
        pending, total = [self.buf[self.pos :]], len(self.buf) - self.pos
        while len(pending) == 1 or total < size:
            block = next(self.blocks, None)
            if block is None:
                self.eof = True
                break
            pending.append(block)
            total += len(block)
        self.buf, self.pos = b"".join(pending), 0

    def _take(self, cut: int, size: int) -> memoryview:
        start = self.pos
        _check_row_refs(self.buf, start, cut)
        piece = memoryview(self.buf)[start:cut]
        if len(self.buf) - cut < size:
            # Less than a piece is left: copy it out so the buffer goes with the piece.
            self.buf, self.pos = self.buf[cut:], 0
        else:
            self.pos = cut
        return piece


def _inflate(raw: memoryview) -> Iterator[bytes]:
    """A deflated zip member, a block at a time (bounded: a zip bomb stays a stream)."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for i in range(0, len(raw), _BLOCK // 8):
            chunk: bytes | memoryview = raw[i : i + _BLOCK // 8]
            while chunk:
                block = inflater.decompress(chunk, _BLOCK)
                chunk = inflater.unconsumed_tail
                if block:
                    yield block
    except zlib.error as exc:
        raise NotChunkable(f"zlib: {exc}") from exc
    if not inflater.eof:
        raise NotChunkable("the sheet's XML is truncated")


def _end_tags(head: bytes) -> tuple[bytes, bytes]:
    """`</row>` and `</sheetData>`, with the namespace prefix `<sheetData>` has."""
    match = _SHEET_DATA.search(head)
    prefix = match.group(1) + b":" if match is not None and match.group(1) else b""
    return b"</" + prefix + b"row>", b"</" + prefix + b"sheetData>"


def _check_row_refs(xml: bytes, start: int, end: int) -> None:
    """A piece's first row must say where it is (`r="7"` on the row or its first cell):
    calamine numbers rows without it from the piece's start, which would move them."""
    row = _ROW_TAG.search(xml, start, min(end, start + 4096))
    if row is not None and not _R_ATTR.search(row.group(1)):
        cell = _CELL_TAG.search(xml, row.end(), min(end, row.end() + 4096))
        if cell is None or not _R_ATTR.search(cell.group(1)):
            raise NotChunkable("rows without r=")
