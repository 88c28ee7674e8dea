"""The uplink: microphone frames from the browser to the Live session, in chunks.

The streamlit-webrtc sink track calls :meth:`Uplink.on_frame` on aiortc's loop for every
20 ms frame (48 kHz stereo s16 from Chromium; any layout accepted). Each is converted to
16 kHz mono PCM16 (``UplinkConverter``), noted in the stream's state, kept for the level
meter and handed to ``LiveSession.send_audio`` in chunks of ``chunk_ms`` (non-blocking,
bounded; the session drops the oldest audio beyond its buffer and counts it).

A gap in frames while the browser is still there (a frozen tab, a starved host) pauses
the uplink: the chunk filling up is held, not flushed, and no ``audioStreamEnd`` is sent
(either would end the analyst's utterance mid-question, and the model would answer half of
it); the frames that come back join it, so the session hears one utterance with a pause.

aiortc's loop carries every stream of the server process, so nothing here blocks beyond
the stream state's short lock. Single writer (that loop); other threads read the
counters, whole ints under the GIL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import av

from livechat.audio.pcm import SESSION_INPUT_RATE, UplinkConverter
from livechat.voice.sessions import SessionSlot
from livechat.voice.stream import StreamState

if TYPE_CHECKING:
    from livechat.live import LiveSession

__all__ = ["DEFAULT_UPLINK_CHUNK_MS", "Uplink"]

# Microphone audio goes to the session in 40 ms chunks, not 20 ms frames: half the
# messages (each costs ~0.3 ms of SDK and websocket work under the GIL), for at most
# 20 ms of added delay. See bench/bench_sessions.py for the measurements.
DEFAULT_UPLINK_CHUNK_MS = 40
_S16 = 2  # bytes per PCM16 sample


class Uplink:
    """Converts, meters, chunks and sends one bridge's microphone frames (aiortc loop)."""

    def __init__(self, *, chunk_ms: int, stream: StreamState, slot: SessionSlot) -> None:
        self._stream = stream
        self._slot = slot
        self._converter = UplinkConverter(target_rate=SESSION_INPUT_RATE)
        self._chunk_bytes = SESSION_INPUT_RATE * chunk_ms // 1000 * _S16
        self._pending = bytearray()  # converted audio waiting to fill a chunk
        self._pending_for: LiveSession | None = None  # the session that audio is for
        self.frames_in = 0  # frames received from the browser
        self.frames_sent = 0  # frames accepted for a session (sent, or in the chunk filling up)
        self.frames_unsent = 0  # frames with no live voice session to take them
        self.samples_accepted = 0  # 16 kHz samples accepted for sessions (handed or pending)
        self.samples_sent = 0  # 16 kHz samples handed to sessions
        # The latest converted frame, for the level meter. Its RMS is computed when the
        # meter is read (every few hundred ms on the script thread), not per frame on the
        # aiortc loop, which carries every stream of the process. Replaced, never mutated.
        self.level_pcm: bytes = b""

    @property
    def frames_rejected(self) -> int:
        """Frames the converter could not read."""
        return self._converter.rejected_frames

    def on_frame(self, frame: av.AudioFrame) -> None:
        """One microphone frame from the browser (aiortc loop; never blocks)."""
        pcm = self._converter.convert(frame)
        self.frames_in += 1
        live = self._stream.note_frame()
        if not pcm:
            return
        self.level_pcm = pcm
        session = self._slot.session
        if session is None or not live:
            self.frames_unsent += 1
            self._pending.clear()
            return
        if session is not self._pending_for:
            self._pending.clear()  # audio for a session that is gone
            self._pending_for = session
        self._pending += pcm
        self.frames_sent += 1
        self.samples_accepted += len(pcm) // _S16
        if len(self._pending) >= self._chunk_bytes:
            chunk = bytes(self._pending)
            self._pending.clear()
            session.send_audio(chunk, SESSION_INPUT_RATE)
            self.samples_sent += len(chunk) // _S16
