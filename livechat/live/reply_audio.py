"""Reply audio on its way to the speaker: written to the sink at 24 kHz, flushed on barge-in.

The Live service sends reply audio as ``inlineData`` parts (``audio/pcm;rate=24000`` from
native-audio models). ``ReplyAudio`` writes each to the session's sink at 24 kHz
(resampling when the service declares another rate), flushes the sink when the model is
interrupted and marks turn ends. Loop thread only; the sink does its own locking.
"""

from __future__ import annotations

from typing import Protocol

from livechat.audio.pcm import resample_pcm16

REPLY_RATE = 24_000  # what native-audio models send back


class ReplyAudioSink(Protocol):
    """Where reply audio goes (24 kHz mono PCM16). Called on the session's loop thread."""

    def write(self, pcm24k: bytes) -> None: ...

    def clear(self) -> None: ...

    def end_of_turn(self) -> None: ...


class ReplyAudio:
    """Reply audio of one session into its sink (loop thread)."""

    def __init__(self, sink: ReplyAudioSink) -> None:
        self._sink = sink

    def play(self, data: bytes, mime_type: str) -> None:
        """Queue one chunk of reply audio for playback."""
        self._sink.write(to_reply_rate(data, mime_type))

    def interrupt(self) -> None:
        """Barge-in: drop what is queued now. Later audio is written normally, so a spurious
        interruption never mutes the next reply."""
        self._sink.clear()

    def end_of_turn(self) -> None:
        self._sink.end_of_turn()


def to_reply_rate(data: bytes, mime_type: str) -> bytes:
    """Reply audio at 24 kHz: resample when the service declares another PCM rate."""
    rate = REPLY_RATE
    for param in mime_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "rate" and value.isdigit():
            rate = int(value)
    return data if rate == REPLY_RATE else resample_pcm16(data, rate, REPLY_RATE)
