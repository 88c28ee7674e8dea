"""Trusted queries as a tool, and the SQL of definitions checked against the tables.

- :func:`sql_problems` / :func:`check_definitions`: does each term's SQL expression and
  each trusted query bind against the tables? Checked in the SQL sandbox (a worker
  process with the same lock-down and limits as ``run_sql``) over *empty* copies of the
  tables: DuckDB parses and binds the query, nothing of the data is read, and a query
  that tries to do harm meets the sandbox, not the server (DuckDB folds constants while
  binding: ``repeat('x', 4000000000)`` took 30 s and 8 GB in-process here).
  ``check_definitions`` refuses (``DefinitionsError``, each problem with its line);
  :func:`mark_broken` keeps the definitions and marks each trusted query that no longer
  runs after the tables changed, with the error.
- :class:`TrustedQueryRunner`: answers ``run_trusted_query(name)`` by running the
  trusted query's SQL through the dataset's ``ToolBox`` (same sandbox, same limits) and
  passes every other call on. Its result names the question and the SQL, so the
  transcript and the report can mark the answer "trusted query: <question>".

Threads: the checks run on the caller's thread (the Streamlit script thread) and start
and stop their own sandbox; ``TrustedQueryRunner.execute`` is called from the Live
session's tool threads and is thread-safe (it only reads its frozen definitions).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

import pandas as pd

from livechat.summary.definitions import Definitions, DefinitionsError, Problem
from livechat.summary.definitions_section import TRUSTED_TOOL
from livechat.tools.sql_sandbox import SqlError, SqlLimits, SqlSandbox

__all__ = [
    "TRUSTED_TOOL",
    "TrustedQueryRunner",
    "check_definitions",
    "mark_broken",
    "sql_problems",
]

_QUERY_START = re.compile(r"^\s*(?:\(\s*)*(?:select|with|from|values)\b", re.IGNORECASE)
_CHECK_LIMITS = SqlLimits(timeout_s=5.0, max_rows=1, start_timeout_s=60.0)


class ToolExecutor(Protocol):
    """What answers a tool call: ``ToolBox.execute``'s shape."""

    def execute(self, name: str, args: dict[str, Any] | None) -> dict[str, Any]: ...


def _empty(tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> Mapping[str, pd.DataFrame] | pd.DataFrame:
    if isinstance(tables, pd.DataFrame):
        return tables.head(0)
    return {name: df.head(0) for name, df in tables.items()}


def _table_names(tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> list[str]:
    return ["data"] if isinstance(tables, pd.DataFrame) else ["data", *tables]


def _first_error(sandbox: SqlSandbox, queries: list[str]) -> str | None:
    """None when one of ``queries`` runs; else the error of the first."""
    first: str | None = None
    for query in queries:
        try:
            sandbox.query(query)
            return None
        except SqlError as exc:
            first = first or str(exc)
    return first


def sql_problems(definitions: Definitions,
                 tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> tuple[list[Problem], dict[str, str | None]]:
    """(problems of the terms' SQL, trusted question -> error or None) against ``tables``.

    A term's SQL is an expression over one table (``sum(revenue) - sum(refunds)``): it
    passes when ``SELECT <sql> FROM <table>`` binds for some table; a full query (SELECT,
    WITH, FROM, VALUES) must bind as it is. Starts one sandbox, only when there is SQL.
    """
    problems: list[Problem] = []
    errors: dict[str, str | None] = {}
    if not any(t.sql for t in definitions.terms) and not definitions.trusted_queries:
        return problems, errors
    names = _table_names(tables)
    with SqlSandbox(_empty(tables), limits=_CHECK_LIMITS) as sandbox:
        for term in definitions.terms:
            if not term.sql:
                continue
            if _QUERY_START.match(term.sql):
                candidates = [term.sql]
            else:
                candidates = [f"SELECT {term.sql} AS value FROM {name}" for name in names]
            error = _first_error(sandbox, candidates)
            if error is not None:
                problems.append(Problem(term.line, f"the SQL of {term.name!r} does not run on these tables: {error}"))
        for query in definitions.trusted_queries:
            errors[query.question] = _first_error(sandbox, [query.sql])
    return problems, errors


def check_definitions(definitions: Definitions,
                      tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> Definitions:
    """``definitions`` if all of its SQL binds against ``tables``; else ``DefinitionsError``.

    Used before anything is applied (an imported file, a saved query, an edited table of
    terms): all or nothing.
    """
    problems, errors = sql_problems(definitions, tables)
    for query in definitions.trusted_queries:
        error = errors.get(query.question)
        if error is not None:
            problems.append(Problem(query.line, f"the trusted query {query.question!r} does not run on "
                                                f"these tables: {error}"))
    if problems:
        raise DefinitionsError(problems)
    return definitions.marked(errors)


def mark_broken(definitions: Definitions, tables: Mapping[str, pd.DataFrame] | pd.DataFrame) -> Definitions:
    """``definitions`` with each trusted query marked broken (with the error) or not,
    for ``tables`` as they are now. Nothing is dropped."""
    if not definitions.trusted_queries:
        return definitions
    _, errors = sql_problems(Definitions(trusted_queries=definitions.trusted_queries), tables)
    return definitions.marked(errors)


class TrustedQueryRunner:
    """A tool executor: ``run_trusted_query`` from ``definitions``, the rest by ``tools``."""

    def __init__(self, tools: ToolExecutor, definitions: Definitions) -> None:
        self._tools = tools
        self._definitions = definitions

    def execute(self, name: str, args: dict[str, Any] | None) -> dict[str, Any]:
        """Answer one tool call (any thread); never raises."""
        if name != TRUSTED_TOOL:
            return self._tools.execute(name, args)
        wanted = (args or {}).get("name")
        if wanted is None:
            wanted = (args or {}).get("question")
        listed = "; ".join(q.question for q in self._definitions.runnable) or "none"
        if not isinstance(wanted, str) or not wanted.strip():
            return {"error": f"{TRUSTED_TOOL} needs a name: one of the trusted questions ({listed})."}
        query = self._definitions.trusted(wanted)
        if query is None:
            return {"error": f"No trusted query is named {wanted!r}. Trusted questions: {listed}. "
                             "Otherwise use run_sql."}
        if query.broken is not None:
            return {"error": f"The trusted query {query.question!r} no longer runs on these tables "
                             f"({query.broken}). Use run_sql instead."}
        result = self._tools.execute("run_sql", {"query": query.sql})
        return {"trusted_query": query.question, "sql": query.sql, **result}
