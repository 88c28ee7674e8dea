"""PCM helpers for received audio: MIME rates, base64 in both alphabets, resampling, RMS envelope.

All pure and synchronous; the conversation runs them on the server loop (they
are cheap: a few numpy operations per 20-100 ms chunk).
"""

from __future__ import annotations

import base64
import binascii
import math
import re

import numpy as np

INPUT_RATE = 16000  # the rate the VAD and the envelope work at
FRAME_SAMPLES = 320  # 20 ms at 16 kHz
_RATE_PARAM = re.compile(r";\s*rate\s*=\s*(\d+)", re.IGNORECASE)


class AudioFormatError(ValueError):
    """Audio data or its MIME type cannot be used."""


def pcm_rate(mime_type: str | None) -> int | None:
    """The sample rate of an ``audio/pcm`` MIME type (16000 when unstated), ``None`` if not PCM."""
    if not mime_type or not mime_type.lower().startswith("audio/pcm"):
        return None
    match = _RATE_PARAM.search(mime_type)
    rate = int(match.group(1)) if match else INPUT_RATE
    if not 1000 <= rate <= 384000:
        raise AudioFormatError(f"the PCM rate must be between 1000 and 384000 Hz, got {rate} ({mime_type!r})")
    return rate


def decode_base64(data: str) -> bytes:
    """Decode base64 in the standard or URL-safe alphabet, padded or not.

    The SDK sends URL-safe base64 (``-`` and ``_``); browsers send standard.
    """
    if not isinstance(data, str):
        raise AudioFormatError(f"base64 data must be a string, got {type(data).__name__}")
    cleaned = data.strip().replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AudioFormatError(f"data is not valid base64 ({exc}), starts with {data[:16]!r}") from None


def pcm16_to_float(pcm: bytes) -> np.ndarray:
    """Little-endian PCM16 bytes to float samples in [-1, 1); a dangling odd byte is dropped."""
    usable = len(pcm) - (len(pcm) % 2)
    return np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float64) / 32768.0


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] to little-endian PCM16 bytes (clipped)."""
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768.0).astype("<i2").tobytes()


def resample_linear(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """One-shot linear-interpolation resampling (deterministic; used for reply audio)."""
    if src_rate == dst_rate or samples.size == 0:
        return samples
    count = max(1, int(round(samples.size * dst_rate / src_rate)))
    positions = np.arange(count) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(samples.size), samples)


class StreamResampler:
    """Linear resampling of a chunked stream to 16 kHz, continuous across chunk boundaries."""

    def __init__(self, src_rate: int, dst_rate: int = INPUT_RATE) -> None:
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._step = src_rate / dst_rate
        self._pos = 0.0  # next output position, in source samples from the start of the pending buffer
        self._prev: np.ndarray | None = None

    def process(self, samples: np.ndarray) -> np.ndarray:
        if self.src_rate == self.dst_rate or samples.size == 0:
            return samples
        buffer = samples if self._prev is None else np.concatenate([self._prev, samples])
        last = buffer.size - 1
        positions = np.arange(self._pos, last, self._step) if last > 0 else np.empty(0)
        out = np.interp(positions, np.arange(buffer.size), buffer) if positions.size else positions
        self._pos = (positions[-1] + self._step if positions.size else self._pos) - last
        self._prev = buffer[-1:]
        return out


class EnvelopeMeter:
    """RMS per 20 ms frame of a 16 kHz stream; keeps the partial frame between calls."""

    def __init__(self) -> None:
        self._pending = np.empty(0)

    def feed(self, samples: np.ndarray) -> list[float]:
        """Append 16 kHz samples; return the RMS (0..1) of every frame completed."""
        data = np.concatenate([self._pending, samples]) if self._pending.size else samples
        whole = data.size // FRAME_SAMPLES
        self._pending = data[whole * FRAME_SAMPLES:]
        if whole == 0:
            return []
        frames = data[: whole * FRAME_SAMPLES].reshape(whole, FRAME_SAMPLES)
        rms = np.sqrt(np.mean(frames * frames, axis=1))
        return [round(float(value), 6) for value in rms]


def rms_to_dbfs(rms: float) -> float:
    """RMS of float samples (full scale 1.0) in dBFS; silence is -inf."""
    return 20.0 * math.log10(rms) if rms > 0 else float("-inf")
