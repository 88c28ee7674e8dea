"""SQL names for uploaded tables: lowercase snake_case, unique, never a SQL keyword.

A sheet called "Orders 2024" or a file called "Customer List (final).csv" becomes a
table the model can write without quotes: ``orders_2024``, ``customer_list_final``.
A name DuckDB knows as a keyword (reserved or not: ``order``, ``returns``, ``data``)
gets ``_table`` appended, so no name ever needs quoting or changes a query's meaning;
``data`` stays free for the first table's alias (see ``livechat.data.tableset``).

Pure functions; any thread.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

import duckdb

__all__ = ["MAX_NAME_CHARS", "sql_keywords", "sql_table_name", "unique_sql_names"]

MAX_NAME_CHARS = 40
_KEYWORD_SUFFIX = "_table"
_FALLBACK = "untitled"


@functools.cache
def sql_keywords() -> frozenset[str]:
    """Every keyword of the DuckDB the SQL worker runs (reserved and unreserved), lowercase."""
    with duckdb.connect(":memory:") as con:
        rows = con.execute("SELECT keyword_name FROM duckdb_keywords()").fetchall()
    return frozenset(str(row[0]).lower() for row in rows)


def sql_table_name(raw: str) -> str:
    """``raw`` (a sheet or file name) as a bare SQL identifier: ``[a-z_][a-z0-9_]*``.

    Accents are dropped ("Réclamations" → ``reclamations``), every other run of symbols
    or spaces becomes one ``_``, a leading digit gets ``t_``, keywords get ``_table``,
    and the name is cut at MAX_NAME_CHARS. Not unique by itself: see ``unique_sql_names``.
    """
    text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode("ascii")
    # camelCase → camel_case, so "OrderLines" reads as order_lines
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).lower()
    name = re.sub(r"[^a-z0-9]+", "_", text).strip("_") or _FALLBACK
    if name[0].isdigit():
        name = "t_" + name
    name = name[:MAX_NAME_CHARS].rstrip("_")
    if name in sql_keywords():
        name += _KEYWORD_SUFFIX
    return name


def unique_sql_names(raw_names: Iterable[str], *, reserved: Iterable[str] = ()) -> list[str]:
    """``sql_table_name`` of each, made unique in order (``orders``, ``orders_2``, …).

    Names in ``reserved`` (e.g. the alias ``data``) are never handed out.
    """
    taken = {name.lower() for name in reserved}
    names: list[str] = []
    for raw in raw_names:
        base = sql_table_name(raw)
        name, suffix = base, 2
        while name in taken or name in sql_keywords():
            tail = f"_{suffix}"
            name = base[: MAX_NAME_CHARS - len(tail)] + tail
            suffix += 1
        taken.add(name)
        names.append(name)
    return names
