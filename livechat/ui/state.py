"""Typed accessors over the session's slots: the handles one browser session keeps.

The session state holds handles and no logic: the current dataset (its loaded table,
content digest and source name), the instruction budget, and the last load failure.
Flows that change them live in ``livechat.ui.dataset``.

Every function here runs on the session's script thread (Streamlit's ScriptRunner
thread, including widget callbacks, which run on that thread before the script).
Nothing else may call them: the session state is bound to the script run context. The
keys, their types and defaults are declared in ``livechat.ui.slots``.
"""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field
from typing import Any

from livechat.data.load import LoadedTable
from livechat.summary.definitions import Definitions
from livechat.ui import slots

DEFAULT_BUDGET = 8_000
MIN_BUDGET = 500
MAX_BUDGET = 64_000
BUDGET_STEP = 500

# Widget keys, declared in livechat.ui.slots; named here for pages and tests.
UPLOAD_WIDGET_KEY = slots.UPLOAD_WIDGET.key  # the first uploader's key; see upload_widget_key
BUDGET_WIDGET_KEY = slots.BUDGET_WIDGET.key


class BudgetOutOfRangeError(ValueError):
    """An instruction budget outside MIN_BUDGET..MAX_BUDGET tokens."""

    def __init__(self, value: object) -> None:
        super().__init__(
            f"the instruction budget must be a whole number of tokens from "
            f"{MIN_BUDGET:,} to {MAX_BUDGET:,}, got {value!r}"
        )
        self.value = value


@dataclass(frozen=True)
class CurrentDataset:
    """The table the Data page shows, as a handle (what the model sees is the session's
    table set, ``livechat.ui.tables``: a single upload is a set of one holding this).

    ``raw`` is set only for workbooks with more than one sheet and for text files in a
    legacy code page, so another sheet or encoding can be read without asking for the
    file again (the page offers those choices when it is set). ``spilled`` holds the
    uploaded bytes of any other upload, for reading it again with another header row.
    Both are mapped from an unlinked file on disk (``livechat.data.spill``), not held
    in memory: the uploader itself is cleared once the file is loaded.
    """

    table: LoadedTable
    digest: str
    source: str
    raw: bytes | mmap.mmap | None = field(default=None, repr=False, compare=False)
    header_row: int | None = None  # set by hand on the Data page; None = found by the loader
    spilled: bytes | mmap.mmap | None = field(default=None, repr=False, compare=False)

    @property
    def cache_key(self) -> str:
        """Key of everything derived from this table: content digest, file name, sheet
        (and the text encoding when it is not the detected UTF-8, and the header row when
        the analyst chose it)."""
        key = f"{self.digest}/{self.source}/{self.table.sheet or ''}"
        encoding = self.table.encoding
        if encoding not in (None, "utf-8"):
            key = f"{key}/{encoding}"
        return key if self.header_row is None else f"{key}/header{self.header_row}"

    @property
    def header_widget_key(self) -> str:
        """Widget key of this table's header-row control (per file and sheet)."""
        return slots.HEADER_WIDGETS.key(f"{self.digest[:16]}.{self.table.sheet or ''}")

    @property
    def sheet_widget_key(self) -> str:
        """Widget key of this dataset's sheet selector (per file, so a new file starts fresh)."""
        return slots.SHEET_WIDGETS.key(self.digest[:16])

    @property
    def encoding_widget_key(self) -> str:
        """Widget key of this dataset's encoding picker (per file)."""
        return slots.ENCODING_WIDGETS.key(self.digest[:16])


@dataclass(frozen=True)
class LoadFailure:
    """Why the last upload was not loaded, in words an analyst can act on."""

    filename: str
    message: str


def current_dataset() -> CurrentDataset | None:
    """Return the session's current dataset, or None before the first load."""
    return slots.DATASET.get()


def set_current_dataset(dataset: CurrentDataset) -> None:
    """Make ``dataset`` the session's current dataset."""
    slots.DATASET.set(dataset)


def upload_widget_key() -> str:
    """The uploader's key now: ``UPLOAD_WIDGET_KEY`` at first, a new one after each load.

    A new key gives the page an empty uploader, and Streamlit lets go of the old
    widget's file bytes: once a table is loaded, the app holds it once (the table), not
    twice (the table and the upload).
    """
    round_ = slots.UPLOAD_ROUND.get()
    return UPLOAD_WIDGET_KEY if not round_ else slots.UPLOAD_WIDGETS.key(str(round_))


def uploaded_files() -> list[Any]:
    """What the uploader holds now (``UploadedFile`` objects; an empty list when nothing)."""
    round_ = slots.UPLOAD_ROUND.get()
    uploaded = (slots.UPLOAD_WIDGET if not round_ else slots.UPLOAD_WIDGETS.slot(str(round_))).get()
    return list(uploaded) if isinstance(uploaded, list) else ([] if uploaded is None else [uploaded])


def clear_upload() -> None:
    """Give the uploader a new key on the next run (after a successful load)."""
    slots.UPLOAD_ROUND.set(slots.UPLOAD_ROUND.get() + 1)


def load_failure() -> LoadFailure | None:
    """Return the last upload failure still to show, or None."""
    return slots.LOAD_ERROR.get()


def set_load_failure(failure: LoadFailure | None) -> None:
    """Record (or clear, with None) the upload failure the Data page shows."""
    if failure is None:
        slots.LOAD_ERROR.pop()
    else:
        slots.LOAD_ERROR.set(failure)


@dataclass(frozen=True)
class KeptDefinitions:
    """The analyst's terms and trusted queries, and the key of the tables they belong to
    (``livechat.ui.definitions.definitions_key``): one place for a whole table set."""

    key: str
    definitions: Definitions


def kept_definitions() -> KeptDefinitions | None:
    """The definitions this session holds, with their tables' key; None at first."""
    return slots.DEFINITIONS.get()


def set_kept_definitions(value: KeptDefinitions) -> None:
    """Hold ``value`` as the session's definitions (for the tables its key names)."""
    slots.DEFINITIONS.set(value)


def definitions_error() -> str | None:
    """Why the last definitions (a file, an edit, a saved query) were refused, or None."""
    return slots.DEFINITIONS_ERROR.get()


def set_definitions_error(message: str | None) -> None:
    """Record (or clear, with None) why definitions were refused."""
    if message is None:
        slots.DEFINITIONS_ERROR.pop()
    else:
        slots.DEFINITIONS_ERROR.set(message)


def check_budget(value: object) -> int:
    """Return ``value`` as a budget in tokens, or raise BudgetOutOfRangeError."""
    # bool is an int subclass; True is not a budget.
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise BudgetOutOfRangeError(value)
    if not MIN_BUDGET <= value <= MAX_BUDGET:
        raise BudgetOutOfRangeError(value)
    return value


def instruction_budget() -> int:
    """Return the session's token budget for the data summary (DEFAULT_BUDGET at first)."""
    return slots.BUDGET.get()


def set_instruction_budget(value: object) -> int:
    """Set the session's token budget; raises BudgetOutOfRangeError outside the range."""
    budget = check_budget(value)
    slots.BUDGET.set(budget)
    return budget


# --- figure marks in the Talk page's transcript (issue 30) ---------------------------------
FIGURE_MARKS_WIDGET_KEY = slots.FIGURE_MARKS_WIDGET.key


def figure_marks_shown() -> bool:
    """Whether the Talk page marks each figure of an answer (on until the analyst hides them)."""
    return slots.FIGURE_MARKS.get()


def set_figure_marks_shown(value: bool) -> None:
    """Show or hide the figure marks on screen (the report keeps them either way)."""
    slots.FIGURE_MARKS.set(bool(value))
