"""Reply audio as a WAV file, for playing a typed question's spoken answer without WebRTC."""

from __future__ import annotations

import io
import wave

from livechat.audio.pcm import REPLY_RATE
from livechat.voice.errors import BridgeConfigError

__all__ = ["pcm16_wav"]

_S16 = 2  # bytes per PCM16 sample


def pcm16_wav(pcm: bytes, sample_rate: int = REPLY_RATE) -> bytes:
    """A mono PCM16 WAV file of ``pcm`` (any thread), for ``st.audio``."""
    if sample_rate <= 0:
        raise BridgeConfigError(f"sample_rate must be a positive integer (Hz), got {sample_rate!r}")
    usable = len(pcm) - len(pcm) % _S16
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(_S16)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm[:usable])
    return out.getvalue()
