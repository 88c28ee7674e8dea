"""Unit tests for livechat.audio.pcm: uplink/downlink conversion, one-shot resampling, levels."""

from __future__ import annotations

import math
from fractions import Fraction

import av
import numpy as np
import pytest

from livechat.audio.pcm import (
    AudioConversionError,
    DownlinkConverter,
    PcmStreamResampler,
    UplinkConverter,
    frame_to_mono_pcm16,
    pcm_rms,
    resample_pcm16,
    rms_dbfs,
    samples_per_frame,
)
from livechat.audio.playback import PlaybackBuffer


def _tone(freq: float, rate: int, n: int, amp: float = 12_000.0) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(n) / rate) * amp


def _as_int16(x: np.ndarray) -> np.ndarray:
    return np.round(x).astype("<i2")


def _browser_frames(
    channels: list[np.ndarray], *, rate: int, fmt: str, frame_samples: int
) -> list[av.AudioFrame]:
    """Cut per-channel float signals (int16 scale) into frames as a browser would send them."""
    layout = {1: "mono", 2: "stereo"}[len(channels)]
    total = len(channels[0])
    frames = []
    for i, start in enumerate(range(0, total, frame_samples)):
        chunk = [c[start : start + frame_samples] for c in channels]
        if fmt == "s16":
            arr = np.stack([_as_int16(c) for c in chunk], axis=1).reshape(1, -1)
        elif fmt == "s16p":
            arr = np.stack([_as_int16(c) for c in chunk], axis=0)
        elif fmt == "fltp":
            arr = np.stack([(c / 32768.0).astype(np.float32) for c in chunk], axis=0)
        elif fmt == "flt":
            arr = np.stack([(c / 32768.0).astype(np.float32) for c in chunk], axis=1).reshape(1, -1)
        else:  # pragma: no cover - test helper misuse
            raise AssertionError(fmt)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt, layout=layout)
        frame.sample_rate = rate
        # aiortc stamps pts in samples with a 1/rate time base.
        frame.pts = i * frame_samples
        frame.time_base = Fraction(1, rate)
        frames.append(frame)
    return frames


def _pcm(b: bytes) -> np.ndarray:
    return np.frombuffer(b, dtype="<i2").astype(np.float64)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def _magnitude_at(x: np.ndarray, rate: int, freq: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    band = (freqs > freq - 5) & (freqs < freq + 5)
    return float(spectrum[band].max())


def _uplink(frames: list[av.AudioFrame]) -> tuple[bytes, bytes, UplinkConverter]:
    conv = UplinkConverter()
    body = b"".join(conv.convert(f) for f in frames)
    return body, conv.flush(), conv


# --- uplink -------------------------------------------------------------------------


def test_ten_seconds_of_browser_frames_become_ten_seconds_at_16k() -> None:
    rate = 48_000
    n = rate * 10
    frames = _browser_frames(
        [_tone(440, rate, n), _tone(440, rate, n)], rate=rate, fmt="s16", frame_samples=960
    )
    assert len(frames) == 500 and frames[0].to_ndarray().shape == (1, 1920)
    body, tail, conv = _uplink(frames)
    assert len(body) % 2 == 0
    # Within one 20 ms output frame (320 samples) while streaming; exact after flush.
    assert abs(len(body) // 2 - 160_000) <= 320
    assert len(body + tail) // 2 == 160_000
    assert conv.rejected_frames == 0


def test_streamed_uplink_equals_one_shot_resampling_of_the_whole_signal() -> None:
    # Continuity: cutting the stream into frames must not add clicks or drop samples.
    rate = 48_000
    left, right = _tone(300, rate, rate * 2), _tone(700, rate, rate * 2, amp=5_000)
    frames = _browser_frames([left, right], rate=rate, fmt="s16", frame_samples=960)
    body, tail, _ = _uplink(frames)
    interleaved = np.stack([_as_int16(left), _as_int16(right)], axis=1).tobytes()
    assert body + tail == resample_pcm16(interleaved, rate, 16_000, channels=2)


@pytest.mark.parametrize("freq", [220.0, 1_000.0, 3_000.0])
def test_uplink_keeps_a_sine_at_its_frequency(freq: float) -> None:
    rate = 48_000
    n = rate * 2
    frames = _browser_frames(
        [_tone(freq, rate, n), _tone(freq, rate, n)], rate=rate, fmt="s16", frame_samples=960
    )
    body, tail, _ = _uplink(frames)
    assert _peak_hz(_pcm(body + tail), 16_000) == pytest.approx(freq, abs=1.0)


def test_uplink_downmixes_stereo_instead_of_keeping_the_left_channel() -> None:
    rate = 48_000
    n = rate
    frames = _browser_frames(
        [_tone(500, rate, n), _tone(1_500, rate, n)], rate=rate, fmt="s16", frame_samples=960
    )
    body, tail, _ = _uplink(frames)
    out = _pcm(body + tail)
    left_part = _magnitude_at(out, 16_000, 500)
    right_part = _magnitude_at(out, 16_000, 1_500)
    assert right_part > 0.8 * left_part and left_part > 0.8 * right_part
    # Average, not sum: a full-scale-safe mix halves each channel's amplitude.
    only_left = _browser_frames(
        [_tone(500, rate, n), np.zeros(n)], rate=rate, fmt="s16", frame_samples=960
    )
    body, tail, _ = _uplink(only_left)
    peak = np.abs(_pcm(body + tail)[500:-500]).max()
    assert 0.4 * 12_000 < peak < 0.6 * 12_000


@pytest.mark.parametrize(
    ("fmt", "channels", "rate", "frame_samples"),
    [
        ("s16", 1, 48_000, 960),  # mono Chromium capture
        ("s16", 2, 44_100, 882),  # 44.1 kHz devices
        ("s16", 1, 44_100, 441),  # 10 ms frames
        ("s16p", 2, 48_000, 960),  # planar int16
        ("fltp", 2, 48_000, 960),  # planar float (Firefox/Opus decoders)
        ("fltp", 1, 44_100, 1_024),
        ("flt", 2, 32_000, 640),
        ("s16", 1, 16_000, 320),  # already the target: passthrough
    ],
)
def test_uplink_converts_other_browser_frame_shapes(
    fmt: str, channels: int, rate: int, frame_samples: int
) -> None:
    seconds = 2
    n = rate * seconds
    signal = [_tone(600, rate, n)] * channels
    frames = _browser_frames(signal, rate=rate, fmt=fmt, frame_samples=frame_samples)
    body, tail, conv = _uplink(frames)
    out = _pcm(body + tail)
    assert conv.rejected_frames == 0
    assert abs(len(out) - 16_000 * seconds) <= 2
    assert _peak_hz(out, 16_000) == pytest.approx(600, abs=1.0)
    # Level survives the format conversion (float → int16 scale, mono → mono).
    assert np.abs(out[400:-400]).max() == pytest.approx(12_000, rel=0.05)


def test_uplink_follows_a_format_change_mid_stream_without_losing_audio() -> None:
    first = _browser_frames(
        [_tone(400, 48_000, 48_000)] * 2, rate=48_000, fmt="s16", frame_samples=960
    )
    second = _browser_frames(
        [_tone(400, 44_100, 44_100)], rate=44_100, fmt="fltp", frame_samples=441
    )
    body, tail, conv = _uplink(first + second)
    out = _pcm(body + tail)
    assert conv.rejected_frames == 0
    # The old resampler's tail is flushed at the switch: 2 s in, 2 s out.
    assert abs(len(out) - 32_000) <= 2
    assert _peak_hz(out, 16_000) == pytest.approx(400, abs=1.0)


def test_uplink_never_raises_on_odd_frames_and_keeps_working() -> None:
    conv = UplinkConverter()
    empty = av.AudioFrame(format="s16", layout="stereo", samples=0)
    no_rate = av.AudioFrame(format="s16", layout="stereo", samples=960)
    no_rate.planes[0].update(bytes(3840))  # sample_rate left at 0
    assert conv.convert(empty) == b""
    assert conv.convert(no_rate) == b""
    assert conv.rejected_frames == 2
    good = _browser_frames(
        [_tone(440, 48_000, 9_600)] * 2, rate=48_000, fmt="s16", frame_samples=960
    )
    out = b"".join(conv.convert(f) for f in good) + conv.flush()
    assert len(out) // 2 == 3_200
    assert conv.rejected_frames == 2


def test_uplink_converts_frames_as_aiortcs_opus_decoder_delivers_them() -> None:
    # What a streamlit-webrtc sink callback actually receives: aiortc-decoded Opus.
    from aiortc.codecs.opus import OpusDecoder, OpusEncoder
    from aiortc.jitterbuffer import JitterFrame

    encoder, decoder = OpusEncoder(), OpusDecoder()
    sent = _browser_frames(
        [_tone(440, 48_000, 48_000, amp=8_000)] * 2, rate=48_000, fmt="s16", frame_samples=960
    )
    received = []
    for frame in sent:
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            received += decoder.decode(JitterFrame(data=payload, timestamp=timestamp))
    assert received[0].format.name == "s16" and received[0].layout.name == "stereo"
    assert received[0].to_ndarray().shape == (1, 1_920)
    body, tail, conv = _uplink(received)
    out = _pcm(body + tail)
    assert conv.rejected_frames == 0
    assert len(out) == 16_000 * len(received) // 50
    assert _peak_hz(out[1_600:], 16_000) == pytest.approx(440, abs=1.0)
    assert np.abs(out[1_600:]).max() == pytest.approx(8_000, rel=0.1)


def test_uplink_output_rate_is_configurable() -> None:
    frames = _browser_frames(
        [_tone(440, 48_000, 48_000)] * 2, rate=48_000, fmt="s16", frame_samples=960
    )
    conv = UplinkConverter(target_rate=24_000)
    out = b"".join(conv.convert(f) for f in frames) + conv.flush()
    assert len(out) // 2 == 24_000
    with pytest.raises(AudioConversionError, match="target_rate must be a positive integer"):
        UplinkConverter(target_rate=0)


# --- one-shot and streaming PCM resampling ------------------------------------------


def test_resample_pcm16_matches_the_rate_ratio_and_frequency() -> None:
    pcm = _as_int16(_tone(1_000, 24_000, 24_000)).tobytes()
    out = resample_pcm16(pcm, 24_000, 16_000)
    assert len(out) // 2 == 16_000
    assert _peak_hz(_pcm(out), 16_000) == pytest.approx(1_000, abs=1.0)
    up = resample_pcm16(pcm, 24_000, 48_000)
    assert len(up) // 2 == 48_000


def test_resample_pcm16_downmixes_interleaved_stereo() -> None:
    left = _as_int16(_tone(500, 48_000, 48_000))
    right = _as_int16(_tone(1_500, 48_000, 48_000))
    pcm = np.stack([left, right], axis=1).tobytes()
    out = _pcm(resample_pcm16(pcm, 48_000, 16_000, channels=2))
    assert len(out) == 16_000
    a, b = _magnitude_at(out, 16_000, 500), _magnitude_at(out, 16_000, 1_500)
    assert a > 0.8 * b and b > 0.8 * a


def test_resample_pcm16_ignores_a_partial_trailing_sample() -> None:
    pcm = _as_int16(_tone(440, 16_000, 1_600)).tobytes()
    assert resample_pcm16(pcm + b"\x7f", 16_000, 16_000) == pcm
    assert resample_pcm16(b"\x01", 16_000, 8_000) == b""
    assert resample_pcm16(b"", 16_000, 8_000) == b""
    # Three bytes of stereo is not one whole sample pair.
    assert resample_pcm16(b"\x01\x02\x03", 48_000, 16_000, channels=2) == b""
    assert len(resample_pcm16(pcm + b"\x7f", 16_000, 8_000)) // 2 == 800


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((b"\0\0", 0, 16_000), {}, "from_rate must be a positive integer"),
        ((b"\0\0", 48_000, -1), {}, "to_rate must be a positive integer"),
        ((b"\0\0", 48_000.0, 16_000), {}, "got 48000.0"),
        ((b"\0\0", 48_000, 16_000), {"channels": 0}, "channels must be an integer from 1"),
        ((b"\0\0", 48_000, 16_000), {"channels": 9}, "got 9"),
    ],
)
def test_resample_pcm16_rejects_impossible_arguments(
    args: tuple, kwargs: dict, message: str
) -> None:
    with pytest.raises(AudioConversionError, match=message):
        resample_pcm16(*args, **kwargs)


def test_stream_resampler_over_odd_sized_chunks_equals_one_shot() -> None:
    pcm = _as_int16(_tone(700, 24_000, 24_000)).tobytes()
    stream = PcmStreamResampler(24_000, 16_000)
    rng = np.random.default_rng(7)
    out, pos = [], 0
    while pos < len(pcm):
        step = int(rng.integers(1, 2_001))  # odd sizes split samples across chunks
        out.append(stream.convert(pcm[pos : pos + step]))
        pos += step
    out.append(stream.flush())
    assert b"".join(out) == resample_pcm16(pcm, 24_000, 16_000)
    assert stream.flush() == b""


# --- downlink -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_downlink_frames_have_the_exact_output_shape(layout: str) -> None:
    conv = DownlinkConverter()
    pcm = _as_int16(_tone(1_000, 24_000, 480 * 10)).tobytes()
    channels = 2 if layout == "stereo" else 1
    for i in range(10):
        frame = conv.to_frame(
            pcm[i * 960 : (i + 1) * 960], rate=48_000, layout=layout, samples=960, pts=i * 960
        )
        assert frame.samples == 960
        assert frame.format.name == "s16" and not frame.format.is_planar
        assert frame.layout.name == layout
        assert frame.sample_rate == 48_000
        assert frame.pts == i * 960 and frame.time_base == Fraction(1, 48_000)
        assert frame.to_ndarray().shape == (1, 960 * channels)


def test_downlink_stream_is_continuous_and_keeps_frequency() -> None:
    # One frame of start-up latency (silence), then the reply with no gap.
    conv = DownlinkConverter()
    n_frames = 100
    signal = _as_int16(_tone(1_000, 24_000, 480 * n_frames))
    pcm = signal.tobytes()
    frames = [
        conv.to_frame(pcm[i * 960 : (i + 1) * 960], rate=48_000, layout="stereo", samples=960, pts=None)
        for i in range(n_frames)
    ]
    out = np.concatenate([f.to_ndarray() for f in frames], axis=1).reshape(-1, 2).astype(float)
    assert not out[:960].any()  # the latency frame
    assert conv.silent_frames == 1
    left, right = out[960:, 0], out[960:, 1]
    assert np.array_equal(left, right)
    # Equal to a one-shot upsampling of the same samples: no dropped or doubled audio.
    reference = _pcm(resample_pcm16(pcm, 24_000, 48_000))
    # Same level on both sides as the mono reply (no -3 dB upmix), to rounding.
    assert np.abs(left - reference[: len(left)]).max() <= 1.0
    assert _peak_hz(left, 48_000) == pytest.approx(1_000, abs=1.0)


def test_downlink_gives_exact_silence_when_there_is_nothing_to_play() -> None:
    conv = DownlinkConverter()
    for pcm in (b"", bytes(960)):
        frame = conv.to_frame(pcm, rate=48_000, layout="stereo", samples=960, pts=0)
        assert frame.samples == 960
        assert not frame.to_ndarray().any()


def test_downlink_carries_a_stray_byte_between_chunks() -> None:
    conv = DownlinkConverter()
    pcm = _as_int16(_tone(1_000, 24_000, 480 * 20)).tobytes()
    chunks = [pcm[i * 960 : (i + 1) * 960] for i in range(20)]
    # Shift every boundary by one byte: each chunk but the first starts mid-sample.
    odd = [chunks[0][:-1]] + [chunks[i - 1][-1:] + chunks[i][:-1] for i in range(1, 20)]
    odd[-1] += chunks[-1][-1:]
    even_conv = DownlinkConverter()
    for a, b in zip(odd, chunks):
        fa = conv.to_frame(a, rate=48_000, layout="mono", samples=960, pts=None)
        fb = even_conv.to_frame(b, rate=48_000, layout="mono", samples=960, pts=None)
        assert fa.samples == 960
    # Both end up with the same audio once the last byte has arrived.
    assert np.array_equal(fa.to_ndarray(), fb.to_ndarray())


def test_downlink_reset_drops_audio_in_flight() -> None:
    conv = DownlinkConverter()
    loud = _as_int16(_tone(1_000, 24_000, 480 * 3)).tobytes()
    for i in range(3):
        conv.to_frame(loud[i * 960 : (i + 1) * 960], rate=48_000, layout="stereo", samples=960, pts=None)
    conv.reset()
    frame = conv.to_frame(bytes(960), rate=48_000, layout="stereo", samples=960, pts=None)
    assert not frame.to_ndarray().any()


def test_downlink_bounds_frames_queued_by_an_overfeeding_caller() -> None:
    conv = DownlinkConverter()
    second = _as_int16(_tone(500, 24_000, 24_000)).tobytes()  # 50 frames per call
    for _ in range(3):
        conv.to_frame(second, rate=48_000, layout="mono", samples=960, pts=None)
    assert conv.dropped_frames > 0


def test_downlink_rejects_impossible_frame_sizes() -> None:
    conv = DownlinkConverter()
    with pytest.raises(AudioConversionError, match="samples must be a positive integer, got 0"):
        conv.to_frame(b"", rate=48_000, layout="stereo", samples=0, pts=None)
    with pytest.raises(AudioConversionError, match="rate must be a positive integer"):
        conv.to_frame(b"", rate=0, layout="stereo", samples=960, pts=None)
    with pytest.raises(AudioConversionError, match="layout must be an FFmpeg channel layout"):
        conv.to_frame(b"", rate=48_000, layout="surround-ish", samples=960, pts=None)
    # A refused call leaves the converter usable.
    frame = conv.to_frame(bytes(960), rate=48_000, layout="stereo", samples=960, pts=None)
    assert frame.samples == 960


def test_downlink_to_pcm_upsamples_arbitrary_chunks_continuously() -> None:
    conv = DownlinkConverter()
    pcm = _as_int16(_tone(800, 24_000, 24_000)).tobytes()
    sizes = [7, 1_000, 333, 4_800, 1]
    out, pos, i = [], 0, 0
    while pos < len(pcm):
        out.append(conv.to_pcm(pcm[pos : pos + sizes[i % len(sizes)]]))
        pos += sizes[i % len(sizes)]
        i += 1
    got = _pcm(b"".join(out))
    reference = _pcm(resample_pcm16(pcm, 24_000, 48_000))
    # Everything but the filter's held-back tail has come out, identical to one shot.
    assert 48_000 - 64 <= len(got) <= 48_000
    np.testing.assert_array_equal(got, reference[: len(got)])


def test_playback_buffer_through_downlink_plays_every_reply_sample() -> None:
    # The callback wiring: read 20 ms of 24 kHz from the buffer, convert to a 48 kHz frame.
    buf = PlaybackBuffer(sample_rate=24_000)
    conv = DownlinkConverter()
    reply = _as_int16(_tone(1_000, 24_000, 24_000)).tobytes()
    for start in range(0, len(reply), 3_001):  # irregular bursts from the network
        buf.write(reply[start : start + 3_001])
    buf.end_of_turn()
    frames = [
        conv.to_frame(buf.read(960), rate=48_000, layout="stereo", samples=960, pts=None)
        for _ in range(60)
    ]
    audio = np.concatenate([f.to_ndarray() for f in frames], axis=1).reshape(-1, 2)[:, 0]
    stats = buf.stats()
    assert stats.read_bytes == len(reply) and stats.underruns == 0
    reference = _pcm(resample_pcm16(reply, 24_000, 48_000))
    got = audio[960 : 960 + 48_000 - 64].astype(float)
    assert np.abs(got - reference[: 48_000 - 64]).max() <= 1.0


def test_downlink_frames_survive_aiortcs_opus_encoder_at_full_level() -> None:
    # The consumer of callback frames is aiortc's Opus encoder: it must accept them
    # and the decoded audio must be the reply at its own level on both channels.
    from aiortc.codecs.opus import OpusDecoder, OpusEncoder
    from aiortc.jitterbuffer import JitterFrame

    conv, encoder, decoder = DownlinkConverter(), OpusEncoder(), OpusDecoder()
    reply = _as_int16(_tone(440, 24_000, 24_000, amp=8_000)).tobytes()
    decoded = []
    for i in range(50):
        frame = conv.to_frame(
            reply[i * 960 : (i + 1) * 960], rate=48_000, layout="stereo", samples=960, pts=i * 960
        )
        payloads, timestamp = encoder.encode(frame)
        for payload in payloads:
            for out in decoder.decode(JitterFrame(data=payload, timestamp=timestamp)):
                decoded.append(out.to_ndarray())
    audio = np.concatenate(decoded, axis=1).reshape(-1, 2).astype(float)[4_800:]
    assert len(audio) > 40_000
    for side in (audio[:, 0], audio[:, 1]):
        assert _peak_hz(side, 48_000) == pytest.approx(440, abs=1.0)
        assert np.abs(side).max() == pytest.approx(8_000, rel=0.1)


# --- levels and helpers -------------------------------------------------------------


def test_levels_of_known_signals() -> None:
    full = np.tile(np.array([32_767, -32_767], dtype="<i2"), 500).tobytes()
    half = np.tile(np.array([16_384, -16_384], dtype="<i2"), 500).tobytes()
    assert rms_dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(half) == pytest.approx(-6.02, abs=0.05)
    assert pcm_rms(half) == pytest.approx(0.5, abs=0.001)
    sine = _as_int16(_tone(440, 16_000, 16_000, amp=32_767)).tobytes()
    assert rms_dbfs(sine) == pytest.approx(-3.01, abs=0.05)
    assert rms_dbfs(bytes(640)) == -math.inf and pcm_rms(bytes(640)) == 0.0
    assert rms_dbfs(b"") == -math.inf and pcm_rms(b"\x01") == 0.0
    # Odd trailing byte ignored, not misread as a sample.
    assert pcm_rms(half + b"\xff") == pcm_rms(half)
    minimum = np.full(100, -32_768, dtype="<i2").tobytes()
    assert pcm_rms(minimum) == 1.0 and rms_dbfs(minimum) == 0.0


def test_frame_to_mono_pcm16_downmixes_at_the_frames_rate() -> None:
    (frame,) = _browser_frames(
        [_tone(500, 48_000, 960), np.zeros(960)], rate=48_000, fmt="s16", frame_samples=960
    )
    mono = _pcm(frame_to_mono_pcm16(frame))
    assert len(mono) == 960
    expected = _as_int16(_tone(500, 48_000, 960)) / 2
    assert np.abs(mono - expected).max() <= 1.0
    (planar,) = _browser_frames([_tone(500, 44_100, 441)], rate=44_100, fmt="fltp", frame_samples=441)
    assert len(frame_to_mono_pcm16(planar)) == 882


def test_samples_per_frame() -> None:
    assert samples_per_frame(48_000) == 960
    assert samples_per_frame(24_000) == 480
    assert samples_per_frame(44_100) == 882
    with pytest.raises(AudioConversionError, match="got -5"):
        samples_per_frame(-5)
