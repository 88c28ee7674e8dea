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

__all__ = ["xlsx_dimensions"]

_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="\$?([A-Z]{1,3})\$?(\d+)(?::\$?([A-Z]{1,3})\$?(\d+))?"')


def xlsx_dimensions(data: bytes) -> dict[str, tuple[int, int]]:
    """(rows, columns) of each worksheet of an .xlsx, from the `<dimension>` element at
    the head of its XML: read before calamine parses a sheet into memory, so a sheet
    far over the cell limit (a few MB of zip can declare millions of cells) is refused
    without allocating it. Sheets without the element are left out (calamine's own
    grid size is checked after parsing). Best effort: {} for anything unexpected."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            workbook = zf.read("xl/workbook.xml")
            rels = zf.read("xl/_rels/workbook.xml.rels")
            targets = {}
            for m in _RELATIONSHIP.finditer(rels):
                attrs = dict(_ATTR.findall(m.group(1)))
                target = attrs.get(b"Target", b"").decode("utf-8", "replace").lstrip("/")
                targets[attrs.get(b"Id", b"")] = target if target.startswith("xl/") else "xl/" + target
            found: dict[str, tuple[int, int]] = {}
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
                rows = int(r1 or r0) - int(r0) + 1
                cols = _column_number(c1 or c0) - _column_number(c0) + 1
                title = html.unescape(attrs.get(b"name", b"").decode("utf-8", "replace"))
                found[title] = (rows, cols)
            return found
    except Exception:  # a damaged file: calamine reports it properly
        return {}


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n
