"""Dataset flows behind the Data page: the sample on first visit, uploads, sheet switches.

A failed load never replaces the dataset on screen: ``DataLoadError`` becomes a
``LoadFailure`` with the loader's own message, anything unexpected becomes a generic
"could not read" message (the details go to the server log, not the page).

Runs on the session's script thread; ``on_upload_change`` and ``on_sheet_change`` are
widget callbacks (same thread, before the script reruns).
"""

from __future__ import annotations

import logging

from livechat.data.load import DataLoadError, content_digest
from livechat.data.sample import SAMPLE_NAME, SAMPLE_PATH
from livechat.data.spill import spill_bytes
from livechat.ui import definitions, slots, state, tables
from livechat.ui.cache import load_table_cached
from livechat.ui.state import CurrentDataset, LoadFailure

logger = logging.getLogger(__name__)


def _unexpected_failure_message(filename: str) -> str:
    return (
        f"Could not read {filename}: the file may be damaged or not really a spreadsheet. "
        "The details were written to the server log."
    )


def load_bytes(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> CurrentDataset | None:
    """Load ``data`` as the session's dataset; on failure keep the current one.

    The uploader callback, the sheet selector, the encoding picker and the header-row
    control all come through here, and tests may call it directly. ``encoding`` (a codec
    name) overrides the detected encoding of a text file; ``header_row`` where the column
    names are read from. Returns the new dataset, or None when loading failed (the reason
    is then in ``state.load_failure()``).
    """
    try:
        digest = content_digest(data)
        table = load_table_cached(digest, filename, sheet, _data=data, encoding=encoding, header_row=header_row)
    except DataLoadError as exc:
        logger.info("Upload %r not loaded: %s", filename, exc)
        state.set_load_failure(LoadFailure(filename, str(exc)))
        return None
    except Exception:  # never a traceback on the analyst's screen
        logger.exception("Unexpected failure reading upload %r", filename)
        state.set_load_failure(LoadFailure(filename, _unexpected_failure_message(filename)))
        return None
    # Another sheet, or another encoding for a file not in UTF-8, may be asked for later;
    # any file may be read again with another header row. The bytes go to disk for that.
    legacy_text = table.encoding is not None and (table.encoding != "utf-8" or encoding is not None)
    keep_raw = len(table.sheets) > 1 or legacy_text
    current = state.current_dataset()
    kept = None
    if current is not None and current.digest == digest:  # the same file read another way
        kept = current.raw if current.raw is not None else current.spilled
    if kept is None:
        kept = spill_bytes(data)
    dataset = CurrentDataset(
        table=table,
        digest=digest,
        source=filename,
        raw=kept if keep_raw else None,
        header_row=header_row,
        spilled=None if keep_raw else kept,
    )
    state.set_current_dataset(dataset)
    tables.follow_reload(dataset)  # a single upload is what the model sees: a set of one
    state.set_load_failure(None)
    logger.info("Loaded %r (%d rows, %d columns)", filename, len(table.df), len(table.df.columns))
    return dataset


def ensure_dataset() -> CurrentDataset | None:
    """Return the session's dataset, loading the sample on the session's first visit.

    Returns None only if even the sample cannot be read (then ``state.load_failure()``
    says why).
    """
    current = state.current_dataset()
    if current is not None:
        return current
    try:
        data = SAMPLE_PATH.read_bytes()
    except OSError as exc:
        logger.error("The sample dataset %s cannot be read: %s", SAMPLE_PATH, exc)
        message = (
            f"The sample dataset is missing ({exc.strerror}). Upload a file of your own, "
            "or recreate the sample with: python scripts/make_sample.py"
        )
        state.set_load_failure(LoadFailure(SAMPLE_NAME, message))
        return None
    return load_bytes(data, SAMPLE_NAME)


def on_upload_change() -> None:
    """Uploader callback: load the file(s) just chosen (a cleared uploader keeps the dataset).

    Several files, or a workbook with several non-empty sheets, load as a table set
    (``livechat.ui.tables``); one table loads as a set of one. A ``.definitions.yaml`` among the
    files becomes the new tables' definitions (alone, the current tables').
    """
    files = state.uploaded_files()
    # A ``.definitions.yaml`` beside the data is the analyst's definitions, not a table.
    files, definition_files = definitions.split_files(files)
    if not files:
        state.set_load_failure(None)
        if definition_files and state.current_dataset() is not None:
            definitions.apply_files(definition_files)
        return
    if tables.needs_table_set(files):
        if tables.load_uploads(files) is not None:
            state.clear_upload()
            definitions.apply_files(definition_files)
        return
    loaded = load_bytes(files[0].getvalue(), files[0].name)
    if loaded is not None:
        tables.adopt_one(loaded)  # in place of a set of several, too
        state.clear_upload()
        definitions.apply_files(definition_files)


def on_encoding_change(widget_key: str) -> None:
    """Encoding picker callback: read the current text file again with the chosen codec."""
    current = state.current_dataset()
    encoding = slots.ENCODING_WIDGETS.slot_of(widget_key).get()
    if current is None or current.raw is None or not encoding or encoding == current.table.encoding:
        return
    load_bytes(current.raw, current.source, sheet=current.table.sheet, encoding=encoding,
               header_row=current.header_row)


def on_sheet_change(widget_key: str) -> None:
    """Sheet selector callback: read the chosen sheet of the current workbook."""
    current = state.current_dataset()
    sheet = slots.SHEET_WIDGETS.slot_of(widget_key).get()
    if current is None or current.raw is None or sheet is None or sheet == current.table.sheet:
        return
    load_bytes(current.raw, current.source, sheet=sheet)


def on_header_row_change(widget_key: str) -> None:
    """Header-row control callback: read the table again with its names from that row."""
    current = state.current_dataset()
    row = slots.HEADER_WIDGETS.slot_of(widget_key).get()
    layout = current.table.layout if current is not None else None
    if current is None or layout is None or not isinstance(row, int) or row == layout.header_row:
        return
    data = _raw_bytes(current)
    if data is None:
        state.set_load_failure(
            LoadFailure(current.source, "The file is no longer available here; upload it again.")
        )
        return
    load_bytes(data, current.source, sheet=current.table.sheet, encoding=_picked_encoding(current),
               header_row=row)


def _picked_encoding(current: CurrentDataset) -> str | None:
    """The code page a legacy text file was read with, so a reload keeps it."""
    return current.table.encoding if current.table.encoding not in (None, "utf-8") else None


def _raw_bytes(current: CurrentDataset) -> bytes | None:
    """The bytes of the current dataset: kept ones, the uploader's file, or the sample.

    Only bytes whose digest matches the dataset's are used: the uploader may hold
    another file by now."""
    for kept in (current.raw, current.spilled):
        if kept is not None:
            return bytes(kept)
    candidates: list[bytes] = []
    files = state.uploaded_files()
    candidates.extend(f.getvalue() for f in files if f.name == current.source)
    if current.source == SAMPLE_NAME:
        try:
            candidates.append(SAMPLE_PATH.read_bytes())
        except OSError:
            pass
    return next((c for c in candidates if content_digest(c) == current.digest), None)
