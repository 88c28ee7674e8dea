"""Text-file sniffing: encoding, binary detection, and the CSV delimiter.

Everything here looks at a bounded sample of the file only, so sniffing costs the same
for a 1 KB and a 200 MB file. The one full pass is `to_utf8` for files that are not
already UTF-8 (UTF-16, legacy code pages), which must be transcoded before parsing anyway.

Legacy code pages (Windows-1251, Shift-JIS, GB18030, …: what Excel's plain "CSV" writes
on a Windows machine outside Western Europe) are named by `charset-normalizer`
(`livechat.data.loaders.codepage`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass

from livechat.data.loaders import codepage
from livechat.data.loaders.common import DataLoadError

SNIFF_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_ROWS = 200

# Bytes that never appear in real text files (NUL excluded: handled by the UTF-16 check).
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_CONTROL_TABLE = bytes.maketrans(b"", b"")

_DECIMAL_COMMA = re.compile(r"^-?(?:\d{1,3}(?:[.\u00a0\u202f ']\d{3})+|\d+),\d+$")
_DECIMAL_POINT = re.compile(r"^-?\d+\.\d+$")
# "1.234" is 1.234 with a decimal point and 1234 with a decimal comma: no evidence either way.
_POINT_OR_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}(?:\.\d{3})+$")


@dataclass(frozen=True)
class TextEncoding:
    """How to turn a file's bytes into UTF-8."""

    codec: str  # Python codec name
    label: str  # what the analyst is told
    bom_length: int  # bytes to skip at the start
    warning: str | None = None
    # Other codecs the detector found plausible, best first (for the Data page's picker).
    candidates: tuple[str, ...] = ()
    # Picked by the analyst: read with it even where it fails (bad bytes become U+FFFD).
    picked: bool = False


@dataclass(frozen=True)
class Dialect:
    """What the delimiter sniffer decided for a delimited text file."""

    delimiter: str
    header: tuple[str, ...]
    decimal_comma: bool  # evidence only: numbers with a decimal comma are read by `numbers`
    # What the sniffed cells say about the file's decimal mark: "," or "." or None.
    decimal_mark: str | None = None
    # Columns (0-based) to keep as text for the number converter: their sniffed values
    # are all like "1.234", which the CSV parser would read as 1.234 although a file
    # with decimal commas means 1234.
    text_columns: tuple[int, ...] = ()

    @property
    def delimiter_name(self) -> str:
        return _DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def detect_encoding(data: bytes, name: str) -> TextEncoding:
    """Choose the encoding of a text file from its BOM or its first bytes.

    Raises DataLoadError when the prefix is binary (NUL or control bytes that no text
    file contains). UTF-8 is assumed when the prefix decodes as UTF-8; a later invalid
    byte is caught by the parser and the caller retries with `fallback_encoding`.
    """
    if data.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8", "UTF-8 (with BOM)", 3)
    if data.startswith(codecs.BOM_UTF16_LE):
        return TextEncoding("utf-16-le", "UTF-16 little-endian", 2)
    if data.startswith(codecs.BOM_UTF16_BE):
        return TextEncoding("utf-16-be", "UTF-16 big-endian", 2)
    prefix = data[:SNIFF_BYTES]
    utf16 = _utf16_without_bom(prefix)
    if utf16 is not None:
        return TextEncoding(utf16, "UTF-16 (no byte-order mark)", 0)
    _reject_binary(prefix, name)
    if _is_utf8_prefix(prefix, complete=len(data) <= SNIFF_BYTES):
        return TextEncoding("utf-8", "UTF-8", 0)
    return fallback_encoding(data, name)


def fallback_encoding(data: bytes, name: str) -> TextEncoding:
    """The encoding for text that is not valid UTF-8: the code page charset-normalizer
    names from a bounded sample of the file.

    The warning is set only when the detection was uncertain (or failed: then the file
    is read as Windows-1252, else Latin-1, and the warning says so: never silently).
    """
    guess = codepage.detect_codepage(data)
    if guess.codec is None:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            codec = "latin-1"
        else:
            codec = "cp1252"
        label = encoding_label(codec)
        return TextEncoding(
            codec,
            label,
            0,
            warning=(
                f"{name} is not UTF-8 text and its encoding could not be recognised; it was "
                f"read as {label}. If letters look wrong, pick the file's encoding above."
            ),
            candidates=guess.candidates,
        )
    label = encoding_label(guess.codec)
    warning = None
    if not guess.certain:
        warning = (
            f"{name} is not UTF-8 text; it was read as {label}, but the encoding could not be "
            "determined with certainty. If letters look wrong, pick another encoding above."
        )
    return TextEncoding(guess.codec, label, 0, warning=warning, candidates=guess.candidates)


def chosen_encoding(data: bytes, codec: str) -> TextEncoding:
    """The encoding the analyst picked (a Python codec name); a matching BOM is skipped.

    Raises DataLoadError for a codec name Python does not know.
    """
    try:
        canonical = codecs.lookup(codec).name
    except LookupError as exc:
        raise DataLoadError(f"'{codec}' is not a text encoding this server knows.") from exc
    bom = 0
    if canonical == "utf-8" and data.startswith(codecs.BOM_UTF8):
        bom = 3
    elif canonical in ("utf-16-le", "utf-16") and data.startswith(codecs.BOM_UTF16_LE):
        canonical, bom = "utf-16-le", 2
    elif canonical in ("utf-16-be", "utf-16") and data.startswith(codecs.BOM_UTF16_BE):
        canonical, bom = "utf-16-be", 2
    return TextEncoding(canonical, encoding_label(canonical), bom, picked=True)


def encoding_label(codec: str) -> str:
    """What the analyst is shown for a Python codec name ("cp1251" -> "Windows-1251 (Cyrillic)")."""
    return codepage.label(codec)


def undecodable_note(name: str, encoding: TextEncoding, replaced: int) -> str:
    """The warning for bytes the chosen encoding could not decode (shown as U+FFFD)."""
    return (
        f"{name}: {replaced:,} character(s) could not be read as {encoding.label} and show as "
        "'\ufffd'. If letters look wrong, pick another encoding above."
    )


def to_utf8(data: bytes, encoding: TextEncoding) -> bytes | memoryview:
    """The file's text as UTF-8 bytes without BOM. Zero-copy for UTF-8 input.

    Bytes the codec cannot decode become U+FFFD (count them with `count_replaced`).
    """
    if encoding.codec == "utf-8" and not encoding.picked:
        return memoryview(data)[encoding.bom_length :]
    text = bytes(memoryview(data)[encoding.bom_length :]).decode(encoding.codec, errors="replace")
    return text.encode("utf-8")


_REPLACEMENT_UTF8 = "\ufffd".encode()


def count_replaced(utf8: bytes | memoryview, encoding: TextEncoding) -> int:
    """How many characters `to_utf8` could not decode (0 for UTF-8 input, not transcoded)."""
    if not isinstance(utf8, bytes):
        return 0  # zero-copy UTF-8: nothing was decoded
    return utf8.count(_REPLACEMENT_UTF8)


def decode_prefix(utf8: bytes | memoryview, limit: int = SNIFF_BYTES) -> str:
    """Decode the first `limit` bytes of UTF-8 text, dropping a cut-off last character.

    The prefix is grown (×4 at a time) until it holds the whole header line and one
    more line, so a very wide header is never sniffed from a cut-off piece.
    """
    while True:
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(
            bytes(utf8[:limit]), final=len(utf8) <= limit
        )
        first_newline = text.find("\n")
        if len(utf8) <= limit or (first_newline >= 0 and text.find("\n", first_newline + 1) >= 0):
            return text
        limit *= 4


def sniff_dialect(prefix: str, *, prefer_tab: bool) -> Dialect:
    """Pick the delimiter that splits the first rows into the same number of fields.

    Scores each candidate by (share of rows with the most common field count,
    that field count); a candidate giving one field per row scores lowest. Ties go to
    tab for .tsv files, else to the order in DELIMITERS.
    """
    sample = _whole_lines(prefix)
    order = ("\t", ",", ";", "|") if prefer_tab else DELIMITERS
    best: tuple[float, int] = (-1.0, 0)
    best_delim = order[0]
    best_rows: list[list[str]] = []
    for delim in order:
        rows = _split_rows(sample, delim)
        score = _consistency(rows)
        if score > best:
            best, best_delim, best_rows = score, delim, rows
    header = tuple(best_rows[0]) if best_rows else ()
    body_width = _consistency(best_rows[1:])[1] if len(best_rows) > 1 else 0
    if body_width > len(header):
        # Data rows are consistently wider than the header (an export that left the
        # first or last header cell off): keep every column, unnamed ones get names later.
        header += ("",) * (body_width - len(header))
    commas, points = _decimal_marks(best_rows[1:])
    decimal_comma = best_delim != "," and commas > 0 and points == 0
    mark = "," if decimal_comma else ("." if points > 0 and commas == 0 else None)
    text_columns = _grouped_columns(best_rows[1:], best_delim)
    return Dialect(best_delim, header, decimal_comma, mark, text_columns)


def _utf16_without_bom(prefix: bytes) -> str | None:
    """UTF-16 text without a BOM has a NUL in every other byte for ASCII content."""
    sample = prefix[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul = even.count(0) / len(even)
    odd_nul = odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _reject_binary(prefix: bytes, name: str) -> None:
    if not prefix:
        return
    controls = len(prefix) - len(prefix.translate(_CONTROL_TABLE, _CONTROL))
    if b"\x00" in prefix or controls / len(prefix) > 0.01:
        raise DataLoadError(
            f"{name} does not look like a text file: it contains binary data "
            f"({controls:,} control bytes in the first {len(prefix):,}). "
            "Upload a CSV, Excel, Parquet or JSON file.",
            filename=name,
        )


def _is_utf8_prefix(prefix: bytes, *, complete: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _whole_lines(prefix: str) -> str:
    """Drop the last, possibly cut-off, line of a prefix (unless it is the only one)."""
    if len(prefix) < SNIFF_BYTES // 2:
        return prefix  # small file: the prefix is (almost certainly) all of it
    cut = prefix.rfind("\n")
    return prefix[:cut] if cut > 0 else prefix


def _split_rows(sample: str, delim: str) -> list[list[str]]:
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delim, strict=False)
    try:
        for row in reader:
            if row and any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= _SNIFF_ROWS:
                break
    except csv.Error:
        pass  # an odd line deep in the prefix: score what was read
    return rows


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    if not rows:
        return (0.0, 0)
    counts: dict[int, int] = {}
    for row in rows:
        counts[len(row)] = counts.get(len(row), 0) + 1
    width, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    if width <= 1:
        return (0.0, width)
    return (freq / len(rows), width)


def _decimal_marks(rows: list[list[str]]) -> tuple[int, int]:
    """(cells with a decimal comma, cells with a decimal point) among the sniffed rows.

    European exports write 3,5 for 3.5; the caller allows that only when comma is not
    the delimiter. "1.234" counts for neither.
    """
    commas = points = 0
    for row in rows:
        for cell in row:
            cell = cell.strip()
            if _DECIMAL_COMMA.match(cell):
                commas += 1
            elif _DECIMAL_POINT.match(cell) and not _POINT_OR_THOUSANDS.match(cell):
                points += 1
    return commas, points


def _grouped_columns(rows: list[list[str]], delim: str) -> tuple[int, ...]:
    """Columns whose sniffed values are all "1.234"-like, in a file not separated by
    commas (where a decimal comma is possible): left as text so the number converter
    decides with the file's other evidence, instead of the parser reading 1.234."""
    if delim == "," or not rows:
        return ()
    width = max(len(row) for row in rows)
    found = []
    for i in range(width):
        cells = [row[i].strip() for row in rows if i < len(row) and row[i].strip()]
        if cells and all(_POINT_OR_THOUSANDS.match(cell) for cell in cells):
            found.append(i)
    return tuple(found)
