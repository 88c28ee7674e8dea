"""The latency trace's stage marks (bench only): one set per reply, RTP timestamps mapped to frames."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from livechat.voice.trace import ReplyStages, ReplyTrace


def _rtp(ssrc: int, timestamp: int, seq: int = 0) -> bytes:
    return struct.pack("!BBHII", 0x80, 111, seq, timestamp, ssrc) + b"\x00" * 20


def _marks(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_reply_is_marked_once_from_its_first_chunk_to_its_first_loud_packet(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    trace = ReplyTrace(str(path))
    stages = ReplyStages(trace, rate=48_000)
    quiet, loud = bytes(1920), (np.full(960, 3000, dtype="<i2")).tobytes()
    stages.frame(0, quiet, 0)  # silence before any reply: nothing
    trace.packet(_rtp(7, 1_000_000))  # the call's first packet: pts 0
    stages.chunk(10.0, 1920)
    stages.chunk(10.5, 1920)  # a later chunk of the same reply: no new marks
    stages.frame(960, quiet, 1920)  # the reply's first frame, a quiet onset
    stages.frame(1920, loud, 1920)
    stages.frame(2880, loud, 1920)  # already marked
    trace.packet(_rtp(7, 1_000_000 + 960))
    trace.packet(_rtp(7, 1_000_000 + 1920))
    stages.reply_over()
    stages.chunk(20.0, 960)  # the next reply is marked again
    trace.close()
    marks = _marks(path)
    assert [m["stage"] for m in marks] == ["received", "buffered", "taken", "loud", "sent", "sent",
                                           "received", "buffered"]
    assert marks[0]["t"] == 10.0 and marks[2]["pts"] == 960 and marks[3]["onset_ms"] == 20.0
    assert [(m["of"], m["rtp"]) for m in marks[4:6]] == [("taken", 1_000_960), ("loud", 1_001_920)]


def test_a_new_call_maps_timestamps_from_its_own_first_packet(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    trace = ReplyTrace(str(path))
    trace.packet(_rtp(1, 500))
    trace.new_call()
    trace.want_packet(960, "taken")
    trace.packet(_rtp(2, 9_000))  # the new sender's first packet (pts 0)
    trace.packet(_rtp(2, 9_960))
    trace.close()
    assert [(m["of"], m["rtp"], m["ssrc"]) for m in _marks(path)] == [("taken", 9_960, 2)]
