"""What crosses the pipe between the SQL sandbox and its worker process.

Two things, both plain data:

- frames: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. The worker
  reads them from stdin and writes them to stdout; the sandbox reads replies with a
  deadline (``read_frame`` with ``deadline``), so a stuck worker can never block it.
- JSON-safe values: ``json_safe`` turns whatever DuckDB or pandas hands back (dates,
  Decimals, NaN, bytes, UUIDs, numpy scalars, nested lists/structs) into values that
  ``json.dumps`` accepts and a model can read. The tools use it for every result.

Standard library only: the worker imports this module before anything else.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import os
import select
import struct
import time
import uuid
from typing import Any, BinaryIO

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_FRAME_BYTES",
    "FrameError",
    "FrameTimeout",
    "compact_json",
    "json_safe",
    "read_frame",
    "write_frame",
]

MAX_FRAME_BYTES: int = 1 << 20  # replies are capped at a few KB; anything larger is a bug
MAX_CELL_CHARS: int = 500  # one long text cell must not crowd every other row out of 8 KB

_HEADER = struct.Struct(">I")


class FrameError(Exception):
    """The other end closed the pipe or sent something that is not a frame."""


class FrameTimeout(FrameError):
    """No complete frame arrived before the deadline."""


def compact_json(value: Any) -> str:
    """Serialise without spaces (the byte caps are measured on this form)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def write_frame(stream: BinaryIO, message: dict[str, Any]) -> None:
    """Write one frame and flush. Raises ``FrameError`` if the pipe is gone."""
    payload = compact_json(message).encode("utf-8")
    try:
        stream.write(_HEADER.pack(len(payload)) + payload)
        stream.flush()
    except (BrokenPipeError, ValueError, OSError) as exc:
        raise FrameError(f"pipe closed while writing a frame: {exc}") from exc


def read_frame(stream: BinaryIO | int, *, deadline: float | None = None) -> dict[str, Any]:
    """Read one frame.

    ``stream`` is a blocking binary stream (the worker's stdin), or a raw file
    descriptor when ``deadline`` (a ``time.monotonic()`` value) is given: the sandbox
    polls the descriptor so that it can give up on a worker that does not answer.
    """
    header = _read_exact(stream, _HEADER.size, deadline)
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME_BYTES:
        raise FrameError(f"frame length must be at most {MAX_FRAME_BYTES} bytes, got {size}")
    payload = _read_exact(stream, size, deadline)
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FrameError(f"frame is not UTF-8 JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise FrameError(f"frame must hold a JSON object, got {type(message).__name__}")
    return message


def _read_exact(stream: BinaryIO | int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is None:
            assert not isinstance(stream, int)
            chunk = stream.read(remaining)
        else:
            assert isinstance(stream, int), "a deadline needs a raw file descriptor"
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise FrameTimeout(f"no reply within the deadline ({size - remaining} of {size} bytes)")
            ready, _, _ = select.select([stream], [], [], wait)
            if not ready:
                continue  # loop re-checks the deadline
            chunk = os.read(stream, remaining)
        if not chunk:
            raise FrameError(f"pipe closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def json_safe(value: Any, *, max_chars: int = MAX_CELL_CHARS) -> Any:
    """Return ``value`` as something ``json.dumps(allow_nan=False)`` accepts.

    Dates and times become ISO-8601 strings, Decimal becomes float, NaN/inf become
    None, bytes are never passed on (only their size), long strings are cut at
    ``max_chars`` with an ellipsis, containers are converted element by element.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= max_chars else value[:max_chars] + "…"
    if isinstance(value, decimal.Decimal):
        return json_safe(float(value), max_chars=max_chars) if value.is_finite() else None
    if _is_missing(value):
        return None  # pandas.NA, NaT (a datetime subclass), numpy NaN/NaT
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        # Binary cells are not data a voice model can use, and may be anything.
        return f"<binary, {len(bytes(value))} bytes>"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_chars=max_chars) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v, max_chars=max_chars) for v in value]
    # numpy / pandas scalars without importing either: both expose .item() or isoformat().
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return json_safe(item(), max_chars=max_chars)
        except (TypeError, ValueError):
            pass
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        try:
            return str(isoformat())
        except (TypeError, ValueError):
            pass
    return json_safe(str(value), max_chars=max_chars)


def _is_missing(value: Any) -> bool:
    # pandas.NA refuses bool(); NaT and NaN compare unequal to themselves. Containers
    # were handled before this is called, so an array-valued comparison means "not missing".
    try:
        return bool(value != value)
    except TypeError:
        return True
    except ValueError:
        return False
