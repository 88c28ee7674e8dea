"""Recognise a file's real format from its first bytes, whatever its extension says.

Analysts rename files; a ".csv" that is really a zip or an Excel workbook should get a
message that says so, not a parser error about line 1.
"""

from __future__ import annotations

import io
import zipfile
import zlib

ZIP = "zip"
XLSX = "xlsx"  # a zip holding xl/workbook.xml
ODS = "ods"  # a zip whose mimetype member names an OpenDocument spreadsheet
OLE2 = "ole2"  # Compound File Binary: legacy .xls, or an encrypted .xlsx/.docx
PARQUET = "parquet"
GZIP = "gzip"
PDF = "pdf"

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted OOXML file is a CFB container with an "EncryptionInfo" stream; directory
# entry names are stored as UTF-16LE.
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

_DESCRIPTIONS = {
    ZIP: "a zip archive",
    XLSX: "an Excel workbook",
    ODS: "an OpenDocument spreadsheet (.ods)",
    OLE2: "an old-style Office file (Excel 97-2003 .xls, or a password-protected workbook)",
    PARQUET: "a Parquet file",
    GZIP: "a gzip-compressed file",
    PDF: "a PDF document",
}


def sniff_kind(data: bytes) -> str | None:
    """Return the binary container kind of `data` (one of the constants) or None.

    None means "not a container we know": text, or unknown binary.
    """
    head = data[:8]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(_OLE2_MAGIC[:4]):
        return OLE2
    if head.startswith(b"PAR1"):
        return PARQUET
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    if head.startswith(b"%PDF"):
        return PDF
    return None


def describe(kind: str) -> str:
    """Analyst-readable name of a kind returned by `sniff_kind`."""
    return _DESCRIPTIONS.get(kind, kind)


def is_encrypted_ole2(data: bytes) -> bool:
    """True when a CFB container holds an EncryptionInfo stream (a password-protected
    Office Open XML file). The directory sits near the start for the small files Excel
    writes, but not always, so the whole file is searched (a bytes.find, cheap)."""
    return data.startswith(_OLE2_MAGIC[:4]) and data.find(_ENCRYPTION_INFO) >= 0


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" in names:
                return XLSX
            if "mimetype" in names and "content.xml" in names:
                with zf.open("mimetype") as member:
                    mimetype = member.read(100)  # never more: the member could be a bomb
                if mimetype.strip() == _ODS_MIMETYPE:
                    return ODS
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError,
            NotImplementedError, zlib.error):
        # A truncated zip has no readable directory; call it a plain zip.
        return ZIP
    return ZIP
