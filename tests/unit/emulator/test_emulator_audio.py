"""Received-audio helpers and the energy VAD (livechat.emulator.audio, vad)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from livechat.emulator.audio import (AudioFormatError, EnvelopeMeter, StreamResampler, decode_base64, pcm_rate,
                                     resample_linear)
from livechat.emulator.vad import EnergyVad, SpeechEnded, SpeechStarted

RATE = 16000


def tone(seconds: float, amplitude: float = 0.3, rate: int = RATE, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate))


@pytest.mark.parametrize("mime, rate", [("audio/pcm;rate=16000", 16000), ("audio/pcm; rate=48000", 48000),
                                        ("audio/pcm", 16000), ("AUDIO/PCM;RATE=8000", 8000), ("audio/webm", None)])
def test_pcm_rate(mime, rate):
    assert pcm_rate(mime) == rate


def test_pcm_rate_out_of_range():
    with pytest.raises(AudioFormatError, match="between 1000 and 384000"):
        pcm_rate("audio/pcm;rate=5")


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode,
                                    lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=")])
def test_decode_base64_both_alphabets_padded_or_not(encode):
    raw = bytes([0xFB, 0xFF, 0xFE, 0x01, 0x00])
    assert decode_base64(encode(raw).decode()) == raw


def test_decode_base64_rejects_garbage():
    with pytest.raises(AudioFormatError):
        decode_base64("not base64!!")


def test_stream_resampler_matches_one_shot_across_chunks():
    signal = tone(1.0, rate=48000, freq=300)
    resampler = StreamResampler(48000)
    chunks = [resampler.process(part) for part in np.array_split(signal, 37)]
    streamed = np.concatenate(chunks)
    reference = resample_linear(signal, 48000, 16000)
    assert abs(streamed.size - reference.size) <= 1
    count = min(streamed.size, reference.size)
    assert np.max(np.abs(streamed[:count] - reference[:count])) < 1e-9


def test_envelope_is_rms_per_20ms_and_keeps_partial_frames():
    meter = EnvelopeMeter()
    first = meter.feed(np.full(500, 0.5))
    second = meter.feed(np.full(140, 0.5))
    assert first == [0.5] and second == [0.5]  # 500 + 140 = 640 samples = 2 frames


def frames_of(samples: np.ndarray) -> list[float]:
    return EnvelopeMeter().feed(samples)


def test_vad_detects_one_utterance_with_its_bounds():
    vad = EnergyVad(threshold_dbfs=-45, min_speech_ms=200, silence_ms=600)
    audio = np.concatenate([silence(0.5), tone(1.2), silence(0.8)])
    events = vad.feed(frames_of(audio))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[0].at_s == pytest.approx(0.5)
    assert (events[1].start_s, events[1].end_s) == (pytest.approx(0.5), pytest.approx(1.7))


def test_vad_bridges_syllable_gaps_and_ignores_blips():
    vad = EnergyVad(threshold_dbfs=-45, min_speech_ms=200, silence_ms=600)
    syllables = np.concatenate([np.concatenate([tone(0.15), silence(0.08)]) for _ in range(6)])
    blip = np.concatenate([tone(0.1), silence(0.5)])  # shorter than min_speech: not speech
    events = vad.feed(frames_of(np.concatenate([blip, syllables, silence(0.7)])))
    assert [type(e) for e in events] == [SpeechStarted, SpeechEnded]
    assert events[1].duration_s == pytest.approx(6 * 0.23 - 0.08, abs=0.021)


def test_vad_needs_the_silence_to_end_and_flush_forces_it():
    vad = EnergyVad(threshold_dbfs=-45, min_speech_ms=200, silence_ms=600)
    events = vad.feed(frames_of(np.concatenate([tone(1.0), silence(0.4)])))
    assert [type(e) for e in events] == [SpeechStarted]
    ended = vad.flush()
    assert ended is not None and ended.duration_s == pytest.approx(1.0)
    assert vad.flush() is None


def test_vad_threshold_separates_quiet_noise_from_speech():
    vad = EnergyVad(threshold_dbfs=-45, min_speech_ms=200, silence_ms=600)
    noise = tone(2.0, amplitude=0.003)  # about -53 dBFS RMS
    assert vad.feed(frames_of(noise)) == []
