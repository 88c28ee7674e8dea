"""The analyst's definitions in the app: what the model gets from them, and the Data page.

One place builds what the model sees from the loaded tables *and* their definitions
(``model_view``, ``wire``): the instruction (the summary at the budget the definitions
leave, then the definitions section after the data block), the transcription vocabulary
(the analyst's words first), the declarations (``run_trusted_query`` when some trusted
query runs), the tool executor (trusted queries through the same ToolBox) and the session
key (new definitions, new session). The definitions live in one session slot
(``state.kept_definitions``) under the key of the loaded tables (``definitions_key``) and
are kept with the table set in the store (``set_extras``, written by the background
writer), so they return with a reopened conversation and with the same tables uploaded
again. Trusted queries are marked broken for the tables as they are now (``active``),
never dropped.

Changes: ``.definitions.yaml`` files uploaded beside the data (``split_files``,
``apply_files``), a saved trusted query, the Data page's edits
(``livechat.ui.definitions_panel``). Every change is checked whole before it is applied
(``apply``): a refusal says which line and why, and nothing of it is kept.

Runs on the session's script thread (page runs and widget callbacks).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from livechat.live.tokens import MAX_CUSTOM_VOCABULARY, LiveSettings
from livechat.summary.definitions import (
    Definitions,
    DefinitionsError,
    Problem,
    dump_definitions,
    is_definitions_file,
    parse_definitions,
)
from livechat.summary.builder import DataSummary
from livechat.summary.definitions_section import DefinitionsSection, plan_budget
from livechat.summary.prompt import build_system_instruction
from livechat.summary.token_estimate import estimate_tokens
from livechat.summary.vocabulary import with_terms
from livechat.tools.declarations import TableSource, live_tools
from livechat.tools.toolbox import ToolBox
from livechat.tools.trusted import TrustedQueryRunner, check_definitions, mark_broken
from livechat.ui import conversations, model_tables, state
from livechat.ui.cache import ModelView
from livechat.ui.model_tables import ModelTables
from livechat.ui.tables import UploadedFileLike

logger = logging.getLogger(__name__)

_EXTRA_NAME = "definitions"  # the store's per-table-set entry (set_extras.name)
_EXTRA_FORMAT = "definitions-yaml-1"
_UNREACHABLE = object()  # the store's read default: down or not open yet
Executor = Callable[[str, dict[str, Any] | None], dict[str, Any]]


# ----------------------------------------------------------------------------- the tables


def definitions_key(seen: ModelTables) -> str:
    """The key the definitions are kept under: the loaded tables' content, not the ticks.

    A set: every table's digest, source, sheet and SQL name (``upload_key``); one table:
    its digest and sheet. The same tables uploaded again, or restored with a
    conversation, find their definitions under the same key; ticking tables or choosing
    another header row keeps them (and re-checks the trusted queries).
    """
    identity = seen.upload_identity
    return "definitions:" + hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]


def current_definitions(seen: ModelTables) -> Definitions:
    """The definitions of the loaded tables: the session's, else the store's, else none.

    The store is read once per change of tables (the session then holds the result).
    """
    key = definitions_key(seen)
    kept = state.kept_definitions()
    if kept is not None and kept.key == key:
        return kept.definitions
    body = conversations.store_writer().read(lambda store: store.get_extra(key, _EXTRA_NAME), _UNREACHABLE)
    if body is _UNREACHABLE:
        return Definitions()  # not held: the next run asks the store again
    definitions = _stored(key, body)
    state.set_kept_definitions(state.KeptDefinitions(key, definitions))
    return definitions


def _stored(key: str, body: Any) -> Definitions:
    if not isinstance(body, dict) or not isinstance(body.get("yaml"), str):
        return Definitions()
    try:
        return parse_definitions(body["yaml"])
    except DefinitionsError as exc:  # written by an older version, say: start without them
        logger.warning("Stored definitions %s not read: %s", key[:20], exc)
        return Definitions()


def keep(definitions: Definitions) -> None:
    """Make ``definitions`` those of the loaded tables: in the session, and in the store
    with the table set (written by the background writer; never waits)."""
    seen = model_tables.current()
    if seen is None:
        return
    key = definitions_key(seen)
    state.set_kept_definitions(state.KeptDefinitions(key, definitions))
    body = {"format": _EXTRA_FORMAT, "yaml": dump_definitions(definitions)}

    def job(store: Any) -> None:
        if definitions:
            store.put_extra(key, _EXTRA_NAME, body)
        else:
            store.delete_extra(key, _EXTRA_NAME)

    conversations.store_writer().submit(job, key=f"extra:{key}:{_EXTRA_NAME}")


def session_definitions() -> Definitions:
    """The definitions of the session's loaded tables (none before any)."""
    seen = model_tables.current()
    return current_definitions(seen) if seen is not None else Definitions()


@st.cache_data(show_spinner="Checking the trusted queries against the tables…", max_entries=32)
def _checked(key: str, digest: str, _definitions: Definitions, _source: TableSource) -> Definitions:
    return mark_broken(_definitions, _source)


def active(seen: ModelTables) -> Definitions:
    """The definitions with every trusted query marked broken (or not) for these tables."""
    definitions = current_definitions(seen)
    if not definitions.trusted_queries:
        return definitions
    return _checked(seen.key, definitions.digest, definitions, seen.source)


# ----------------------------------------------------------------------------- what the model sees


@dataclass(frozen=True)
class DefinedView:
    """The model view with the definitions: the instruction, and the section it holds."""

    view: ModelView
    section: DefinitionsSection
    summary_budget: int


def model_view(seen: ModelTables, budget: int) -> DefinedView:
    """Summary, instruction and its size for what the model sees, definitions included.

    The summary gets what the definitions section leaves of ``budget`` (it gives way first).
    """
    definitions = active(seen)
    summary_budget, section = plan_budget(budget, definitions)
    base = seen.model_view(summary_budget)
    if not section.text:
        return DefinedView(base, section, summary_budget)
    return DefinedView(_with_section(seen.key, summary_budget, definitions.digest, base.summary, section.text),
                       section, summary_budget)


@st.cache_data(show_spinner=False, max_entries=32)
def _with_section(key: str, summary_budget: int, digest: str, _summary: DataSummary, _section: str) -> ModelView:
    # Once per tables, budget and definitions: every Talk-page run asks for it.
    instruction = build_system_instruction(_summary, definitions=_section)
    return ModelView(_summary, instruction, estimate_tokens(instruction))


def analyst_words(definitions: Definitions) -> list[str]:
    """Every term's name and aliases, in order."""
    return [word for term in definitions.terms for word in term.words]


def vocabulary(seen: ModelTables) -> tuple[str, ...]:
    """The transcription vocabulary: the analyst's words first, then names and values."""
    return with_terms(seen.vocabulary(), analyst_words(current_definitions(seen)),
                      max_entries=MAX_CUSTOM_VOCABULARY)


@st.cache_resource(show_spinner=False, max_entries=16)
def _tools(key: str, questions: tuple[str, ...], _source: TableSource) -> tuple[Any, ...]:
    return tuple(live_tools(_source, trusted=questions))


def wire(settings: LiveSettings, toolbox: ToolBox, key: str, seen: ModelTables,
         budget: int) -> tuple[LiveSettings, Executor, str]:
    """The Talk page's settings, tool executor and session key with the definitions in.

    Without definitions everything stays as given (``toolbox.execute``, the same key).
    """
    definitions = active(seen)
    if not definitions:
        return settings, toolbox.execute, key
    questions = tuple(q.question for q in definitions.runnable)
    settings = dataclasses.replace(
        settings,
        system_instruction=model_view(seen, budget).view.instruction,
        tools=_tools(seen.key, questions, seen.source) if questions else settings.tools,
        custom_vocabulary=vocabulary(seen),
    )
    runner = TrustedQueryRunner(toolbox, definitions)
    return settings, runner.execute, f"{key}|definitions:{definitions.digest}"


# ----------------------------------------------------------------------------- changes


def refusal(exc: DefinitionsError, what: str) -> str:
    return f"{what} not applied: " + "; ".join(str(p) for p in exc.problems[:8]) + (
        f"; and {len(exc.problems) - 8} more" if len(exc.problems) > 8 else "")


def apply(definitions: Definitions, what: str) -> bool:
    """Check ``definitions`` against the loaded tables and keep them, or keep the old ones
    and say why (``state.definitions_error``). True when applied."""
    seen = model_tables.current()
    try:
        if seen is None:
            raise DefinitionsError([Problem(None, "no tables are loaded")])
        checked = check_definitions(definitions, seen.source)
    except DefinitionsError as exc:
        state.set_definitions_error(refusal(exc, what))
        return False
    except Exception:  # never a traceback on the analyst's screen
        logger.exception("Definitions could not be checked")
        state.set_definitions_error(f"{what} not applied: the check failed; the details are in the server log.")
        return False
    keep(checked)
    state.set_definitions_error(None)
    return True


def split_files(files: Sequence[UploadedFileLike]) -> tuple[list[UploadedFileLike], list[UploadedFileLike]]:
    """(data files, definitions files) of one upload."""
    definitions = [f for f in files if is_definitions_file(f.name)]
    return [f for f in files if not is_definitions_file(f.name)], definitions


def apply_files(files: Sequence[UploadedFileLike]) -> None:
    """Read the uploaded definitions file (the last one if several) for the loaded tables.

    Refused: the tables keep what they had (their stored definitions, or none).
    """
    if not files:
        return
    upload = files[-1]
    try:
        parsed = parse_definitions(upload.getvalue())
    except DefinitionsError as exc:
        state.set_definitions_error(refusal(exc, upload.name))
        return
    apply(parsed, upload.name)


def save_trusted_query(question: str, sql: str) -> bool:
    """Widget callback: keep ``sql`` as the trusted query for ``question`` (checked first)."""
    try:
        updated = session_definitions().with_trusted_query(question, sql)
    except DefinitionsError as exc:
        state.set_definitions_error(refusal(exc, "The trusted query"))
        return False
    return apply(updated, "The trusted query")
