"""What the analyst means: terms and trusted queries of a table set, and their YAML file.

A ``Definitions`` holds the analyst's words for the tables (a ``Term``: name, one-sentence
meaning, optional SQL expression, spoken aliases) and the queries the team already trusts
(a ``TrustedQuery``: the question it answers and its SQL). It is plain, frozen data: the
UI keeps one per table set, the instruction gets a section from it
(``livechat.summary.definitions_section``), the vocabulary its names and aliases, the
tools a ``run_trusted_query`` declaration (``livechat.tools.trusted``).

The file format (``*.definitions.yaml``; :func:`dump_definitions` writes the same)::

    terms:
      - name: net revenue
        meaning: revenue after refunds
        sql: sum(revenue) - sum(refunds)
        aliases: [turnover, net sales]
    trusted_queries:
      - question: revenue by region
        sql: SELECT region, sum(revenue) AS revenue FROM data GROUP BY 1 ORDER BY 2 DESC

:func:`parse_definitions` reads it with PyYAML's safe composer, so every problem names
its line: bad YAML, a missing or mistyped field, a repeated name, a value too long, or a
fence marker (``<<<``, ``>>>``, triple backticks) that could close the instruction's data
fence. It raises ``DefinitionsError`` listing every problem, or returns the whole thing:
nothing is ever half-applied. Whether the SQL binds against the tables is checked by
``livechat.tools.trusted.check_sql`` (it needs the SQL sandbox). Pure; any thread.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

__all__ = [
    "MAX_TERMS",
    "MAX_TRUSTED",
    "Definitions",
    "DefinitionsError",
    "Problem",
    "Term",
    "TrustedQuery",
    "definitions_from_rows",
    "dump_definitions",
    "is_definitions_file",
    "parse_definitions",
]

MAX_TERMS = 100
MAX_TRUSTED = 50
MAX_ALIASES = 10
NAME_CAP = 80
MEANING_CAP = 300
ALIAS_CAP = 60
SQL_CAP = 2_000
MAX_FILE_BYTES = 256 * 1024
DEFINITIONS_SUFFIXES = (".definitions.yaml", ".definitions.yml")
# What could open or close a fence in the instruction (livechat.summary.escape's markers)
# or hide text: refused, not silently changed, so the analyst sees what was wrong.
_FENCE_MARKER = re.compile(r"<{3,}|>{3,}|`{3,}|END DATA", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True)
class Problem:
    """One reason the definitions were refused: where (1-based line, or None) and why."""

    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class DefinitionsError(ValueError):
    """The definitions were refused; ``problems`` lists each with its line and reason."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "the definitions were refused")


@dataclass(frozen=True)
class Term:
    """A word the analyst uses, what it means, and how to compute it (optional)."""

    name: str
    meaning: str
    sql: str | None = None
    aliases: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)  # where it was read from

    @property
    def words(self) -> tuple[str, ...]:
        """The name and its aliases: what the analyst may say."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class TrustedQuery:
    """A query the team trusts for a question; ``broken`` is why it no longer runs, if so."""

    question: str
    sql: str
    broken: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Definitions:
    """The terms and trusted queries of one table set (empty by default)."""

    terms: tuple[Term, ...] = ()
    trusted_queries: tuple[TrustedQuery, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms or self.trusted_queries)

    @property
    def digest(self) -> str:
        """Identity of the content (cache and session keys): same definitions, same digest."""
        payload = json.dumps([[[t.name, t.meaning, t.sql, list(t.aliases)] for t in self.terms],
                              [[q.question, q.sql, q.broken] for q in self.trusted_queries]],
                             ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    @property
    def runnable(self) -> tuple[TrustedQuery, ...]:
        """The trusted queries not marked broken (the ones ``run_trusted_query`` offers)."""
        return tuple(q for q in self.trusted_queries if q.broken is None)

    def trusted(self, name: str) -> TrustedQuery | None:
        """The trusted query whose question is ``name`` (case and spacing ignored)."""
        wanted = _fold(name)
        return next((q for q in self.trusted_queries if _fold(q.question) == wanted), None)

    def with_trusted_query(self, question: str, sql: str) -> Definitions:
        """These definitions plus (or with a new SQL for) the trusted query ``question``.

        Raises ``DefinitionsError`` when the question or SQL is unusable.
        """
        problems = _check_text(question, "question", NAME_CAP, None) + _check_text(sql, "sql", SQL_CAP, None)
        if problems:
            raise DefinitionsError(problems)
        query = TrustedQuery(" ".join(question.split()), sql.strip())
        kept = [q for q in self.trusted_queries if _fold(q.question) != _fold(question)]
        if len(kept) >= MAX_TRUSTED:
            raise DefinitionsError([Problem(None, f"at most {MAX_TRUSTED} trusted queries, already {len(kept)}")])
        return replace(self, trusted_queries=(*kept, query))

    def marked(self, broken: dict[str, str | None]) -> Definitions:
        """These definitions with each trusted query's ``broken`` set from ``broken``
        (question -> error or None); queries not named keep their mark."""
        return replace(self, trusted_queries=tuple(
            replace(q, broken=broken[q.question]) if q.question in broken else q
            for q in self.trusted_queries))


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def is_definitions_file(filename: str) -> bool:
    """Whether an uploaded file is a definitions file (``*.definitions.yaml`` or ``.yml``)."""
    return filename.lower().endswith(DEFINITIONS_SUFFIXES)


# ----------------------------------------------------------------------------- checks


def _check_text(value: Any, what: str, cap: int, line: int | None, *, optional: bool = False) -> list[Problem]:
    if value is None and optional:
        return []
    if not isinstance(value, str) or not value.strip():
        return [Problem(line, f"{what} must be non-empty text")]
    problems = []
    if len(value) > cap:
        problems.append(Problem(line, f"{what} must be at most {cap} characters, got {len(value)}"))
    marker = _FENCE_MARKER.search(value)
    if marker:
        problems.append(Problem(line, f"{what} contains {marker.group()!r}, which could close the "
                                      "instruction's data fence; remove it"))
    if _CONTROL.search(value):
        problems.append(Problem(line, f"{what} contains control or invisible characters"))
    if what != "sql" and "\n" in value.strip():
        problems.append(Problem(line, f"{what} must be one line"))
    return problems


def _validate(definitions: Definitions) -> list[Problem]:
    """Every problem of ``definitions`` (shapes, caps, fence markers, repeats), with lines."""
    problems: list[Problem] = []
    if len(definitions.terms) > MAX_TERMS:
        problems.append(Problem(None, f"at most {MAX_TERMS} terms, got {len(definitions.terms)}"))
    if len(definitions.trusted_queries) > MAX_TRUSTED:
        problems.append(Problem(None, f"at most {MAX_TRUSTED} trusted queries, got {len(definitions.trusted_queries)}"))
    seen: dict[str, int | None] = {}
    for term in definitions.terms:
        problems += _check_text(term.name, "name", NAME_CAP, term.line)
        problems += _check_text(term.meaning, "meaning", MEANING_CAP, term.line)
        problems += _check_text(term.sql, "sql", SQL_CAP, term.line, optional=True)
        if len(term.aliases) > MAX_ALIASES:
            problems.append(Problem(term.line, f"at most {MAX_ALIASES} aliases per term, got {len(term.aliases)}"))
        for alias in term.aliases:
            problems += _check_text(alias, "alias", ALIAS_CAP, term.line)
        for word in term.words:
            if not isinstance(word, str):
                continue
            key = _fold(word)
            if key in seen:
                problems.append(Problem(term.line, f"{word!r} is already a term or alias"
                                                   + (f" (line {seen[key]})" if seen[key] else "")))
            seen[key] = term.line
    questions: dict[str, int | None] = {}
    for query in definitions.trusted_queries:
        problems += _check_text(query.question, "question", NAME_CAP, query.line)
        problems += _check_text(query.sql, "sql", SQL_CAP, query.line)
        if isinstance(query.question, str):
            key = _fold(query.question)
            if key in questions:
                problems.append(Problem(query.line, f"the question {query.question!r} is listed twice"))
            questions[key] = query.line
    return problems


# ----------------------------------------------------------------------------- YAML


def parse_definitions(text: str | bytes) -> Definitions:
    """Read a definitions file; raises ``DefinitionsError`` (each problem with its line)."""
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise DefinitionsError([Problem(None, f"the file must be at most {MAX_FILE_BYTES // 1024} KB")])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DefinitionsError([Problem(None, f"the file is not UTF-8 text ({exc.reason})")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "not valid YAML"
        raise DefinitionsError([Problem(line, f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise DefinitionsError([Problem(None, f"not valid YAML: {exc}")]) from None
    if root is None:
        return Definitions()
    problems: list[Problem] = []
    if not isinstance(root, yaml.MappingNode):
        raise DefinitionsError([Problem(_line(root), "the file must be a mapping with terms and trusted_queries")])
    sections = _mapping(root, problems)
    for key, node in sections.items():
        if key not in ("terms", "trusted_queries"):
            problems.append(Problem(_line(node), f"unknown section {key!r} (expected terms, trusted_queries)"))
    terms = tuple(_term(n, problems) for n in _items(sections.get("terms"), "terms", problems))
    queries = tuple(_query(n, problems) for n in _items(sections.get("trusted_queries"), "trusted_queries", problems))
    definitions = Definitions(tuple(t for t in terms if t), tuple(q for q in queries if q))
    problems += _validate(definitions)
    if problems:
        raise DefinitionsError(problems)
    return definitions


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _mapping(node: yaml.MappingNode, problems: list[Problem]) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            problems.append(Problem(_line(key), "keys must be plain words"))
            continue
        if key.value in out:
            problems.append(Problem(_line(key), f"{key.value!r} is given twice"))
        out[key.value] = value
    return out


def _items(node: yaml.Node | None, what: str, problems: list[Problem]) -> list[yaml.MappingNode]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return []
    if not isinstance(node, yaml.SequenceNode):
        problems.append(Problem(_line(node), f"{what} must be a list (items starting with '- ')"))
        return []
    items = []
    for item in node.value:
        if isinstance(item, yaml.MappingNode):
            items.append(item)
        else:
            problems.append(Problem(_line(item), f"each item of {what} must be a mapping of fields"))
    return items


def _scalar(fields: dict[str, yaml.Node], key: str, problems: list[Problem]) -> str | None:
    node = fields.get(key)
    if node is None:
        return None
    if not isinstance(node, yaml.ScalarNode):
        problems.append(Problem(_line(node), f"{key} must be text"))
        return None
    if node.tag == "tag:yaml.org,2002:null" and not node.style:
        return None
    return str(node.value)


def _known(fields: dict[str, yaml.Node], allowed: tuple[str, ...], problems: list[Problem]) -> None:
    for key, node in fields.items():
        if key not in allowed:
            problems.append(Problem(_line(node), f"unknown field {key!r} (expected {', '.join(allowed)})"))


def _term(node: yaml.MappingNode, problems: list[Problem]) -> Term | None:
    line = _line(node)
    fields = _mapping(node, problems)
    _known(fields, ("name", "meaning", "sql", "aliases"), problems)
    name, meaning = _scalar(fields, "name", problems), _scalar(fields, "meaning", problems)
    if name is None or meaning is None:
        problems.append(Problem(line, "a term needs a name and a meaning"))
        return None
    aliases_node = fields.get("aliases")
    aliases: list[str] = []
    if isinstance(aliases_node, yaml.SequenceNode):
        for alias in aliases_node.value:
            if isinstance(alias, yaml.ScalarNode):
                aliases.append(str(alias.value))
            else:
                problems.append(Problem(_line(alias), "each alias must be text"))
    elif isinstance(aliases_node, yaml.ScalarNode) and aliases_node.value:
        aliases = [a.strip() for a in aliases_node.value.split(",") if a.strip()]
    elif aliases_node is not None and not isinstance(aliases_node, yaml.ScalarNode):
        problems.append(Problem(_line(aliases_node), "aliases must be a list of words"))
    sql = _scalar(fields, "sql", problems)
    return Term(name.strip(), meaning.strip(), sql.strip() if sql and sql.strip() else None,
                tuple(a.strip() for a in aliases), line=line)


def _query(node: yaml.MappingNode, problems: list[Problem]) -> TrustedQuery | None:
    line = _line(node)
    fields = _mapping(node, problems)
    _known(fields, ("question", "sql"), problems)
    question, sql = _scalar(fields, "question", problems), _scalar(fields, "sql", problems)
    if question is None or sql is None:
        problems.append(Problem(line, "a trusted query needs a question and its sql"))
        return None
    return TrustedQuery(" ".join(question.split()), sql.strip(), line=line)


def dump_definitions(definitions: Definitions) -> str:
    """The definitions as the documented YAML (read back equal by ``parse_definitions``)."""
    terms = []
    for term in definitions.terms:
        item: dict[str, Any] = {"name": term.name, "meaning": term.meaning}
        if term.sql:
            item["sql"] = term.sql
        if term.aliases:
            item["aliases"] = list(term.aliases)
        terms.append(item)
    document: dict[str, Any] = {"terms": terms,
                                "trusted_queries": [{"question": q.question, "sql": q.sql}
                                                    for q in definitions.trusted_queries]}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def definitions_from_rows(rows: Iterable[dict[str, Any]], trusted: Sequence[TrustedQuery] = ()) -> Definitions:
    """Terms from table rows (the Data page's editor: name, meaning, sql, aliases as
    comma-separated text), kept with ``trusted``; raises ``DefinitionsError`` (row numbers)."""
    terms = []
    problems: list[Problem] = []
    for number, row in enumerate(rows, start=1):
        values = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        if not any(isinstance(v, str) and v for v in values.values()):
            continue  # an empty row the editor added
        name, meaning = values.get("name"), values.get("meaning")
        if not isinstance(name, str) or not name or not isinstance(meaning, str) or not meaning:
            problems.append(Problem(None, f"row {number}: a term needs a name and a meaning"))
            continue
        sql = values.get("sql") if isinstance(values.get("sql"), str) and values.get("sql") else None
        raw_aliases = values.get("aliases")
        aliases = tuple(a.strip() for a in raw_aliases.split(",") if a.strip()) if isinstance(raw_aliases, str) else ()
        terms.append(Term(name, meaning, sql, aliases))
    definitions = Definitions(tuple(terms), tuple(trusted))
    problems += _validate(definitions)
    if problems:
        raise DefinitionsError(problems)
    return definitions
