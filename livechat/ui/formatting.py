"""Human-readable figures for the dashboard (sizes, counts, shapes)."""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB")


def format_bytes(size: int | float) -> str:
    """Return ``size`` in bytes as e.g. "512 B", "1.5 MB" (powers of 1024)."""
    if size < 0:
        raise ValueError(f"size must be zero or positive, got {size!r}")
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # the loop always returns on its last unit


def format_shape(rows: int, columns: int) -> str:
    """Return "1,234 rows × 5 columns", with singular forms where they apply."""
    row_word = "row" if rows == 1 else "rows"
    col_word = "column" if columns == 1 else "columns"
    return f"{rows:,} {row_word} × {columns:,} {col_word}"


def escape_markdown(text: str) -> str:
    """Text from a file (a sheet name, a note's words) made inert in Markdown: no links,
    images or emphasis can come from an upload."""
    return "".join(f"\\{c}" if c in "\\`*_{}[]()#+-.!|<>~$:" else c for c in text)
