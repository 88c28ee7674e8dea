"""Unit tests for livechat.audio.playback.PlaybackBuffer: ordering, bounds, barge-in, underruns, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.audio.playback import (
    PlaybackBuffer,
    PlaybackConfigError,
    PlaybackReadError,
    PlaybackStats,
)

JOIN_TIMEOUT = 20.0


def _ramp(start: int, n: int) -> bytes:
    """n PCM16 samples counting up from start (never zero, so padding is recognisable)."""
    return np.arange(start, start + n, dtype="<u2").tobytes()


def _assert_accounted(stats: PlaybackStats) -> None:
    assert stats.written_bytes == (
        stats.read_bytes + stats.dropped_bytes + stats.cleared_bytes + stats.buffered_bytes
    )


def test_read_returns_audio_then_zero_padding_of_exactly_the_size_asked() -> None:
    buf = PlaybackBuffer()
    audio = _ramp(1, 100)
    buf.write(audio)
    assert buf.read(60) == audio[:60]
    out = buf.read(200)
    assert len(out) == 200
    assert out == audio[60:] + bytes(60)
    assert buf.read(0) == b""
    assert buf.read(960) == bytes(960)
    stats = buf.stats()
    assert stats.written_bytes == stats.read_bytes == 200
    assert stats.padded_bytes == 60 + 960


def test_an_odd_byte_waits_for_its_partner() -> None:
    buf = PlaybackBuffer()
    sample = _ramp(0x1234, 3)
    buf.write(sample[:3])
    assert buf.stats().written_bytes == 2
    assert buf.buffered_seconds == pytest.approx(1 / 24_000)
    buf.write(sample[3:5])
    buf.write(sample[5:])
    assert buf.read(6) == sample
    assert buf.stats().written_bytes == 6


@pytest.mark.parametrize("n", [-2, 1, 961])
def test_read_rejects_sizes_that_are_not_whole_samples(n: int) -> None:
    buf = PlaybackBuffer()
    with pytest.raises(PlaybackReadError, match=f"got {n}"):
        buf.read(n)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sample_rate": 0}, "sample_rate must be a positive integer, got 0"),
        ({"sample_rate": 24_000.0}, "got 24000.0"),
        ({"max_seconds": 0}, "max_seconds must be positive, got 0"),
        ({"max_seconds": -1.5}, "got -1.5"),
    ],
)
def test_impossible_configuration_is_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(PlaybackConfigError, match=message):
        PlaybackBuffer(**kwargs)


def test_overflow_drops_the_oldest_audio_and_counts_it() -> None:
    buf = PlaybackBuffer(sample_rate=1_000, max_seconds=0.05)  # 50 samples
    assert buf.max_bytes == 100
    buf.write(_ramp(1, 30))
    buf.write(_ramp(31, 30))  # 10 samples too many: samples 1..10 go
    stats = buf.stats()
    assert stats.dropped_bytes == 20
    assert buf.buffered_seconds == pytest.approx(0.05)
    assert buf.read(100) == _ramp(11, 50)
    # A single write larger than the buffer keeps its newest part.
    buf.write(_ramp(1, 120))
    assert buf.read(100) == _ramp(71, 50)
    stats = buf.stats()
    assert stats.dropped_bytes == 20 + 140
    _assert_accounted(stats)


def test_clear_drops_everything_at_once_and_reports_it() -> None:
    buf = PlaybackBuffer()
    buf.write(_ramp(1, 4_800))
    buf.write(b"\x07")  # a stray byte of the interrupted reply must not survive either
    assert buf.clear() == 9_600
    assert buf.buffered_seconds == 0.0
    assert buf.read(4) == bytes(4)
    buf.write(_ramp(9, 2))
    assert buf.read(4) == _ramp(9, 2)
    stats = buf.stats()
    assert stats.cleared_bytes == 9_600
    assert buf.clear() == 0
    _assert_accounted(stats)


def test_running_dry_mid_reply_is_one_underrun_per_dry_spell() -> None:
    buf = PlaybackBuffer()
    buf.read(960)  # nothing playing yet: silence is not an underrun
    assert buf.stats().underruns == 0
    buf.write(_ramp(1, 480))
    buf.read(960)  # exactly drained: still fine
    assert buf.stats().underruns == 0
    buf.read(960)
    buf.read(960)  # the same gap, not a second underrun
    assert buf.stats().underruns == 1
    buf.write(_ramp(1, 100))
    buf.read(960)  # partial read: ran dry again, mid-reply
    assert buf.stats().underruns == 2


def test_running_dry_after_the_turn_ended_is_not_an_underrun() -> None:
    buf = PlaybackBuffer()
    buf.write(_ramp(1, 700))
    buf.end_of_turn()
    buf.read(960)
    buf.read(960)
    assert buf.read(960) == bytes(960)
    assert buf.stats().underruns == 0
    # The next reply starts a new playing period.
    buf.write(_ramp(1, 10))
    buf.read(960)
    assert buf.stats().underruns == 1


def test_silence_after_barge_in_is_not_an_underrun() -> None:
    buf = PlaybackBuffer()
    buf.write(_ramp(1, 2_000))
    buf.read(960)
    buf.clear()
    buf.read(960)
    assert buf.stats().underruns == 0


def test_buffered_seconds_follows_the_sample_rate() -> None:
    buf = PlaybackBuffer(sample_rate=16_000)
    buf.write(bytes(16_000))
    assert buf.buffered_seconds == pytest.approx(0.5)
    buf.read(8_000)
    assert buf.buffered_seconds == pytest.approx(0.25)


def test_one_writer_one_reader_deliver_every_sample_in_order() -> None:
    buf = PlaybackBuffer(sample_rate=24_000, max_seconds=60.0)
    total_samples = 60_000  # < 65536: the ramp never wraps to 0 (0 means padding)
    expected = _ramp(1, total_samples)
    done_writing = threading.Event()
    received = bytearray()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            rng = np.random.default_rng(1)
            pos = 0
            while pos < len(expected):
                step = int(rng.integers(1, 5_000))  # odd sizes included
                buf.write(expected[pos : pos + step])
                pos += step
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done_writing.set()

    def reader() -> None:
        try:
            while True:
                finished = done_writing.is_set()
                chunk = buf.read(960)
                assert len(chunk) == 960
                received.extend(chunk)
                if finished and buf.stats().buffered_bytes == 0:
                    return
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=f, name=f.__name__) for f in (writer, reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    samples = np.frombuffer(bytes(received), dtype="<u2")
    assert samples[samples != 0].tobytes() == expected
    stats = buf.stats()
    assert stats.read_bytes == stats.written_bytes == len(expected)
    assert stats.dropped_bytes == stats.cleared_bytes == 0


def test_hammering_from_three_threads_accounts_for_every_byte() -> None:
    # Tiny capacity so overflow, barge-in and underruns all happen while racing.
    buf = PlaybackBuffer(sample_rate=24_000, max_seconds=0.05)
    stop = threading.Event()
    errors: list[BaseException] = []
    written_by_caller = [0]

    def writer() -> None:
        rng = np.random.default_rng(2)
        sample = 1
        try:
            for i in range(20_000):
                n = int(rng.integers(1, 700))
                buf.write(_ramp(sample, n))
                written_by_caller[0] += 2 * n
                sample = sample % 60_000 + 1
                if i % 97 == 0:
                    buf.end_of_turn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    def reader() -> None:
        try:
            while not stop.is_set():
                assert len(buf.read(960)) == 960
                _assert_accounted(buf.stats())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def interrupter() -> None:
        try:
            while not stop.wait(0.001):
                buf.clear()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=f, name=f.__name__) for f in (writer, reader, interrupter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    stats = buf.stats()
    _assert_accounted(stats)
    assert stats.written_bytes == written_by_caller[0]  # whole samples: no stray bytes left
    assert stats.dropped_bytes > 0 and stats.cleared_bytes > 0 and stats.read_bytes > 0


# A reference model: a plain bytes FIFO with the same documented rules.
_ops = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.binary(max_size=300)),
        st.tuples(st.just("read"), st.integers(0, 200).map(lambda n: 2 * n)),
        st.tuples(st.just("clear"), st.none()),
        st.tuples(st.just("end"), st.none()),
    ),
    max_size=60,
)


@settings(database=None, max_examples=300, deadline=None)
@given(ops=_ops)
def test_behaves_like_a_bounded_fifo_under_any_sequence_of_calls(ops: list) -> None:
    cap = 256
    buf = PlaybackBuffer(sample_rate=1_000, max_seconds=cap / 2 / 1_000)
    model, carry, dropped = b"", b"", 0
    for op, arg in ops:
        if op == "write":
            data = carry + arg
            carry = data[len(data) - len(data) % 2 :]
            model += data[: len(data) - len(data) % 2]
            if len(model) > cap:
                dropped += len(model) - cap
                model = model[-cap:]
            buf.write(arg)
        elif op == "read":
            expect = model[:arg] + bytes(max(0, arg - len(model)))
            model = model[arg:]
            assert buf.read(arg) == expect
        elif op == "clear":
            assert buf.clear() == len(model)
            model, carry = b"", b""
        else:
            buf.end_of_turn()
        stats = buf.stats()
        assert stats.buffered_bytes == len(model)
        assert stats.dropped_bytes == dropped
        _assert_accounted(stats)
