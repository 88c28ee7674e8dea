"""Reply audio: the reply text as 24 kHz mono PCM16, audible and deterministic.

With espeak-ng installed the text is spoken (the effective voice name picks a
pitch, so two voices sound different); without it, a syllable-like tone
sequence whose length follows the text stands in. Either way the same text and
voice always give the same bytes, and results are cached per (text, voice).

Thread affinity: ``Synthesizer.synthesize`` blocks (a subprocess), so the
conversation calls it from the server's synthesis executor thread; the cache is
guarded by a lock.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import subprocess
import threading
import wave
from collections import OrderedDict

import numpy as np

from .audio import float_to_pcm16, pcm16_to_float, resample_linear

logger = logging.getLogger(__name__)

OUTPUT_RATE = 24000
OUTPUT_MIME = "audio/pcm;rate=24000"
_ESPEAK_TIMEOUT_S = 20.0
_CACHE_SIZE = 128
_PEAK = 0.5  # about -6 dBFS: clearly audible, never clipping


class Synthesizer:
    """Text to 24 kHz PCM16 with an LRU cache (any thread)."""

    def __init__(self, *, espeak: str | None = "auto", words_per_minute: int = 190) -> None:
        self._espeak = shutil.which("espeak-ng") if espeak == "auto" else espeak
        self._wpm = words_per_minute
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str, int], bytes] = OrderedDict()

    @property
    def engine(self) -> str:
        """"espeak-ng" or "tones" (what ``synthesize`` uses)."""
        return "espeak-ng" if self._espeak else "tones"

    def synthesize(self, text: str, voice: str = "Puck", words_per_minute: int | None = None) -> bytes:
        """PCM16 little-endian mono at 24 kHz speaking ``text`` (blocking; cached).

        ``words_per_minute``: this reply's speaking rate (default: the synthesizer's)."""
        wpm = self._wpm if words_per_minute is None else words_per_minute
        key = (text, voice, wpm)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        pcm = None
        if self._espeak:
            try:
                pcm = self._speak(text, voice, wpm)
            except (OSError, subprocess.SubprocessError, wave.Error, ValueError) as exc:
                logger.warning("espeak-ng failed (%s); using tones for this reply", exc)
        if pcm is None:
            pcm = tone_sequence(text, voice)
        with self._lock:
            self._cache[key] = pcm
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return pcm

    def _speak(self, text: str, voice: str, wpm: int) -> bytes:
        pitch = 30 + _stable_hash(voice) % 41  # 30..70, fixed per voice name
        # Text goes through stdin so a reply starting with "-" is never read as a flag.
        result = subprocess.run(
            [self._espeak, "--stdout", "--stdin", "-v", "en-us", "-s", str(wpm), "-p", str(pitch)],
            input=text.encode("utf-8"), capture_output=True, timeout=_ESPEAK_TIMEOUT_S, check=True)
        with wave.open(io.BytesIO(result.stdout)) as wav:
            if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                raise ValueError(f"espeak-ng produced {wav.getnchannels()} channel(s) of "
                                 f"{8 * wav.getsampwidth()}-bit audio, expected mono 16-bit")
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
        samples = resample_linear(pcm16_to_float(frames), rate, OUTPUT_RATE)
        peak = float(np.max(np.abs(samples))) if samples.size else 0.0
        if peak > 0:
            samples = samples * (_PEAK / peak)
        return float_to_pcm16(samples)


def tone_sequence(text: str, voice: str = "Puck") -> bytes:
    """A deterministic syllable-like tone sequence for ``text`` (24 kHz PCM16).

    One ~130 ms voiced burst per three letters of each word, short gaps between
    syllables, longer ones between words; the pitch follows the word and voice.
    """
    base = 110 + _stable_hash(voice) % 90
    pieces: list[np.ndarray] = []
    syllable = int(0.13 * OUTPUT_RATE)
    t = np.arange(syllable) / OUTPUT_RATE
    envelope = np.sin(np.pi * np.arange(syllable) / syllable) ** 2
    for word in text.split() or ["."]:
        for index in range(max(1, (len(word) + 2) // 3)):
            freq = base + (_stable_hash(f"{word}:{index}") % 120)
            burst = (np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(4 * np.pi * freq * t)) * envelope
            pieces.append(burst * (_PEAK / 1.4))
            pieces.append(np.zeros(int(0.03 * OUTPUT_RATE)))
        pieces.append(np.zeros(int(0.09 * OUTPUT_RATE)))
    return float_to_pcm16(np.concatenate(pieces))


def _stable_hash(text: str) -> int:
    # hash() is salted per process; replies must be identical across runs.
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


_shared: Synthesizer | None = None
_shared_lock = threading.Lock()


def shared_synthesizer() -> Synthesizer:
    """The process-wide synthesizer: its cache serves every server in the process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Synthesizer()
        return _shared
