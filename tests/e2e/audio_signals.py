"""Audio signals for the browser tests: the fake microphone's speech and what was heard.

* ``make_speech_wav``: espeak-ng + sox speech (48 kHz mono PCM16) for Chromium's
  ``--use-file-for-fake-audio-capture``.
* ``wav_envelope`` / ``envelope_match``: RMS per 20 ms at 16 kHz (the emulator's
  ``audio_in_envelope`` measure) and the best normalised cross-correlation of a received
  envelope against the WAV's, over every phase.
* ``EnergySample`` / ``energy_rate`` / ``first_energy_rise``: the browser's inbound audio
  (getStats ``totalAudioEnergy``, sampled every 50 ms) as power over time windows.

Pure functions and a dataclass; any thread.
"""

from __future__ import annotations

import math
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from tests.e2e.errors import HarnessError

SPEECH_TEXT = "How many storm nights did each keeper log?"
# Silence after a single question: longer than any emulator reply to it (~15 s), so the
# loop does not come round and interrupt the reply.
QUIET_AFTER_S = 25.0


def make_speech_wav(directory: Path, text: str = SPEECH_TEXT, *, name: str = "speech.wav",
                    pad_before: float = 0.5, pad_after: float = 1.0, voice_speed: int | None = None) -> Path:
    """Speak ``text`` with espeak-ng into a 48 kHz mono PCM16 WAV with silence around it.

    Returns the absolute path (Chromium needs one for ``--use-file-for-fake-audio-capture``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = (directory / name).resolve()
    raw = target.with_suffix(".espeak.wav")
    command = ["espeak-ng", "-w", str(raw)]
    if voice_speed is not None:
        command += ["-s", str(voice_speed)]
    subprocess.run([*command, text], check=True, capture_output=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(target),
                    "pad", str(pad_before), str(pad_after)], check=True, capture_output=True, timeout=60)
    raw.unlink(missing_ok=True)
    return target


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Float samples (full scale 1.0) and the rate of a mono PCM16 WAV."""
    with wave.open(str(path)) as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise HarnessError(f"{path} must be mono PCM16, got {wav.getnchannels()} channels, "
                               f"{8 * wav.getsampwidth()} bits")
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0, rate


def wav_envelope(path: Path) -> np.ndarray:
    """RMS per 20 ms frame of ``path`` at 16 kHz: the emulator's ``audio_in_envelope`` measure."""
    from livechat.emulator.audio import EnvelopeMeter, StreamResampler

    samples, rate = read_wav_mono(path)
    return np.asarray(EnvelopeMeter().feed(StreamResampler(rate).process(samples)), dtype=np.float64)


def envelope_match(received: Iterable[float], reference: np.ndarray, *, looping: bool = True,
                   max_frames: int = 500) -> float:
    """Best Pearson correlation of ``received`` against the WAV envelope ``reference``, over all lags.

    Chromium plays the WAV from the moment capture starts, and the server's first frame
    arrives at an unknown point of it, so every phase is tried: against the reference
    tiled (``looping=True``, Chromium's default) or followed by silence (``%noloop``).
    Only the first ``max_frames`` frames (10 s) are compared: the capture clock and the
    file's nominal rate drift apart slowly, which would blur a long comparison.
    Returns a value in [-1, 1]; 0.0 when either side is constant.
    """
    r = np.asarray(list(received), dtype=np.float64)[:max_frames]
    w = np.asarray(reference, dtype=np.float64)
    if r.size < 2 or w.size < 2:
        return 0.0
    if looping:
        extended = np.tile(w, int(math.ceil((r.size + w.size) / w.size)) + 1)
    else:
        extended = np.concatenate([w, np.zeros(r.size)])
    r_centred = r - r.mean()
    r_norm = np.sqrt(np.sum(r_centred * r_centred))
    if r_norm == 0:
        return 0.0
    best = -1.0
    for lag in range(w.size):
        window = extended[lag:lag + r.size]
        centred = window - window.mean()
        norm = np.sqrt(np.sum(centred * centred))
        if norm == 0:
            continue
        best = max(best, float(np.dot(r_centred, centred) / (r_norm * norm)))
    return best


@dataclass
class EnergySample:
    """One getStats reading of the newest peer connection's inbound audio (browser clock, s)."""

    t: float
    connection: int
    energy: float
    packets: int
    jitter_delay: float = 0.0  # cumulative jitterBufferDelay (s)
    jitter_emitted: int = 0  # cumulative jitterBufferEmittedCount (samples)


def energy_rate(samples: list[EnergySample], start: float, end: float) -> float | None:
    """Mean received audio power (d totalAudioEnergy / dt) between ``start`` and ``end`` (epoch s).

    Uses the samples nearest inside the window on the newest connection; None when the
    window holds fewer than two samples.
    """
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    if last.t <= first.t or last.connection != first.connection:
        return None
    return (last.energy - first.energy) / (last.t - first.t)


def first_energy_rise(samples: list[EnergySample], after: float, threshold: float = 1e-6) -> float | None:
    """Epoch time of the first sample after ``after`` whose energy exceeds the value at ``after``."""
    base = None
    for s in samples:
        if s.t < after:
            base = s
            continue
        reference = base.energy if base is not None and base.connection == s.connection else 0.0
        if s.energy - reference > threshold:
            return s.t
    return None


def jitter_buffer_delay(samples: list[EnergySample], start: float, end: float) -> float | None:
    """Mean time (s) the browser held audio in its jitter buffer between ``start`` and ``end``.

    From getStats' cumulative ``jitterBufferDelay`` / ``jitterBufferEmittedCount``; part of
    the latency between the app's queue and the ear that the app does not control.
    """
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2 or inside[-1].jitter_emitted <= inside[0].jitter_emitted:
        return None
    return (inside[-1].jitter_delay - inside[0].jitter_delay) / (inside[-1].jitter_emitted - inside[0].jitter_emitted)
