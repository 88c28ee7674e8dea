"""The declared size of each worksheet of an .xlsx, read without parsing any cell.

Every .xlsx sheet starts with `<dimension ref="A1:H200001"/>` (Excel, LibreOffice and
XlsxWriter write it). Reading it costs a few KB of decompression, where parsing the
sheet costs its whole size in memory: a few MB of zip can declare millions of cells.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass

__all__ = ["DeclaredSheet", "declared_sheets", "xlsx_dimensions"]

_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


@dataclass(frozen=True)
class DeclaredSheet:
    """A worksheet's zip member and the cell range its `<dimension>` declares (0-based,
    inclusive). The range is the writer's word: cells may lie outside it, and
    formatting-only cells inside it hold no value."""

    part: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1

    @property
    def cols(self) -> int:
        return self.last_col - self.first_col + 1


def xlsx_dimensions(data: bytes) -> dict[str, tuple[int, int]]:
    """(rows, columns) of each worksheet of an .xlsx, from the `<dimension>` element at
    the head of its XML: read before calamine parses a sheet into memory, so a sheet
    far over the cell limit (a few MB of zip can declare millions of cells) is refused
    without allocating it. Sheets without the element are left out (calamine's own
    grid size is checked after parsing). Best effort: {} for anything unexpected."""
    return {title: (sheet.rows, sheet.cols) for title, sheet in declared_sheets(data).items()}


def declared_sheets(data: bytes) -> dict[str, DeclaredSheet]:
    """Each worksheet's part and declared range, by title (see `xlsx_dimensions`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            workbook = zf.read("xl/workbook.xml")
            rels = zf.read("xl/_rels/workbook.xml.rels")
            targets = {}
            for m in _RELATIONSHIP.finditer(rels):
                attrs = dict(_ATTR.findall(m.group(1)))
                target = attrs.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
                targets[attrs.get(b"Id", b"")] = target if target.startswith("xl/") else "xl/" + target
            found: dict[str, DeclaredSheet] = {}
            for m in _SHEET_TAG.finditer(workbook):
                attrs = dict(_ATTR.findall(m.group(1)))
                rid = next((v for k, v in attrs.items() if k.endswith(b":id")), b"")
                part = targets.get(rid)
                if part is None or part not in zf.NameToInfo:
                    continue
                with zf.open(part) as member:
                    head = member.read(4096)  # the dimension comes before any cell
                dim = _DIMENSION.search(head)
                if dim is None:
                    continue
                c0, r0, c1, r1 = dim.groups()
                title = html.unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
                found[title] = DeclaredSheet(
                    part=part,
                    first_row=int(r0) - 1,
                    first_col=_column_number(c0) - 1,
                    last_row=int(r1 or r0) - 1,
                    last_col=_column_number(c1 or c0) - 1,
                )
            return found
    except Exception:  # a damaged file: calamine reports it properly
        return {}


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n
