"""JSON (.json) and JSON Lines (.jsonl) into a DataFrame.

Accepted shapes for .json: a list of records (objects), pandas' "split" orientation
({"columns": [...], "data": [[...]]}), its "columns" orientation ({"col": {"0": v}}
or {"col": [v, ...]}), its "table" orientation, and an object wrapping one list of
records ({"data": [{...}]}). A .json file that is really JSON Lines is read as such.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from livechat.data.loaders.common import DataLoadError, Limits, ReadResult, check_columns
from livechat.data.loaders.text import detect_encoding, fallback_encoding, to_utf8

_SHAPES = (
    "a list of records like [{\"a\": 1}, ...], {\"columns\": [...], \"data\": [[...]]}, "
    "or {\"column\": [values]}"
)


def read_json(data: bytes, name: str, *, lines: bool, limits: Limits) -> ReadResult:
    """Parse .json (lines=False) or .jsonl (lines=True)."""
    text, notes = _decode(data, name)
    if not text.strip():
        raise DataLoadError(f"{name} contains no data: it is blank.", filename=name)
    if lines:
        return ReadResult(_records_frame(_parse_lines(text, name), name, limits), notes)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            # Several top-level values one after another: JSON Lines saved as .json.
            records = _parse_lines(text, name)
            notes.append(f"{name} holds one JSON object per line; it was read as JSON Lines.")
            return ReadResult(_records_frame(records, name, limits), notes)
        raise DataLoadError(
            f"{name} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            filename=name,
        ) from exc
    return ReadResult(_document_frame(doc, name, limits), notes)


def _decode(data: bytes, name: str) -> tuple[str, list[str]]:
    encoding = detect_encoding(data, name)
    utf8 = to_utf8(data, encoding)
    try:
        text = bytes(utf8).decode("utf-8")
    except UnicodeDecodeError:
        # Valid UTF-8 at the start only; JSON must be UTF-8, but be forgiving.
        encoding = fallback_encoding(data, name)
        text = bytes(to_utf8(data, encoding)).decode("utf-8")
    return text, [encoding.warning] if encoding.warning else []


def _parse_lines(text: str, name: str) -> list[Any]:
    records: list[Any] = []
    decoder = json.JSONDecoder()
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            value, end = decoder.raw_decode(line)
        except json.JSONDecodeError as exc:
            raise DataLoadError(
                f"{name}: line {number} is not valid JSON ({exc.msg}, column {exc.colno}).",
                filename=name,
            ) from exc
        if line[end:].strip():
            raise DataLoadError(
                f"{name}: line {number} holds more than one JSON value; JSON Lines needs "
                "exactly one object per line.",
                filename=name,
            )
        if not isinstance(value, dict):
            raise DataLoadError(
                f"{name}: line {number} is a JSON {type(value).__name__}, not an object; "
                "JSON Lines needs one {...} object per line.",
                filename=name,
            )
        records.append(value)
    return records


def _document_frame(doc: Any, name: str, limits: Limits) -> pd.DataFrame:
    if isinstance(doc, list):
        return _records_frame(doc, name, limits)
    if isinstance(doc, dict):
        if isinstance(doc.get("data"), list) and (
            isinstance(doc.get("columns"), list) or "schema" in doc or len(doc) == 1
        ):
            if isinstance(doc.get("columns"), list):
                return _split_frame(doc, name, limits)
            return _records_frame(doc["data"], name, limits)  # table orientation / wrapper
        if len(doc) == 1:
            only = next(iter(doc.values()))
            if isinstance(only, list) and only and all(isinstance(r, dict) for r in only):
                return _records_frame(only, name, limits)
        if doc and all(isinstance(v, (dict, list)) for v in doc.values()):
            check_columns(name, len(doc), limits)
            try:
                if all(isinstance(v, dict) for v in doc.values()):
                    return pd.DataFrame(doc)
                return pd.DataFrame({k: pd.Series(v) for k, v in doc.items()})
            except (ValueError, TypeError) as exc:
                raise _shape_error(name, f"its columns could not be lined up ({exc})") from exc
        raise _shape_error(name, "it is a single object, not a table")
    raise _shape_error(name, f"it is a single {type(doc).__name__} value")


def _records_frame(records: list[Any], name: str, limits: Limits) -> pd.DataFrame:
    if not records:
        raise DataLoadError(f"{name} contains no rows: the list of records is empty.", filename=name)
    if not all(isinstance(r, dict) for r in records):
        bad = next(r for r in records if not isinstance(r, dict))
        raise _shape_error(name, f"its list holds a {type(bad).__name__}, not only records (objects)")
    keys: dict[str, None] = {}
    for record in records:
        for key in record:
            keys.setdefault(key, None)
        if len(keys) > limits.max_columns:
            break
    check_columns(name, len(keys), limits)
    if any(isinstance(v, dict) for r in records[:1000] for v in r.values()):
        df = pd.json_normalize(records)
        check_columns(name, df.shape[1], limits)
        return df
    return pd.DataFrame.from_records(records, columns=list(keys))


def _split_frame(doc: dict[str, Any], name: str, limits: Limits) -> pd.DataFrame:
    columns = doc["columns"]
    check_columns(name, len(columns), limits)
    data = doc["data"]
    if not all(isinstance(row, list) for row in data):
        raise _shape_error(name, "its \"data\" is not a list of rows")
    wrong = next((i for i, row in enumerate(data) if len(row) != len(columns)), None)
    if wrong is not None:
        raise DataLoadError(
            f"{name}: row {wrong + 1} of \"data\" has {len(data[wrong])} values but there are "
            f"{len(columns)} columns.",
            filename=name,
        )
    df = pd.DataFrame.from_records(data, columns=range(len(columns)), nrows=len(data))
    df.columns = columns
    return df


def _shape_error(name: str, problem: str) -> DataLoadError:
    return DataLoadError(
        f"{name} is JSON but not a table: {problem}. Expected {_SHAPES}.", filename=name
    )
