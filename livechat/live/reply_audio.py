"""Reply audio on its way to the speaker: written to the sink at 24 kHz, flushed on barge-in.

The Live service sends reply audio as ``inlineData`` parts (``audio/pcm;rate=24000`` from
native-audio models). ``ReplyAudio`` writes each to the session's sink at 24 kHz
(resampling when the service declares another rate), flushes the sink on barge-in and
marks turn ends.

Barge-in has two signals. The service's ``interrupted`` is one; but preview native-audio
models do not always send it when the analyst talks over the reply
(hkjarral/AVA-AI-Voice-Agent-for-Asterisk #385), so local evidence of speech during a
reply (``local_barge_in``: sustained speech in the uplink, or a fresh input transcription)
flushes playback too, and mutes what is left of that reply until its turn ends (the
service may still be sending it). Each reply is flushed at most once, whichever signal
comes first; the next reply plays from its first chunk.

Loop thread only; the sink does its own locking.
"""

from __future__ import annotations

from collections.abc import Callable
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

    def __init__(self, sink: ReplyAudioSink, *, on_first_audio: Callable[[], None] | None = None) -> None:
        self._sink = sink
        self._on_audio = on_first_audio
        self._in_reply = False  # audio of the current turn has been written
        self._cut = False  # this reply was flushed (by either signal)
        self._muted = False  # locally cut: drop the rest of this reply until its turn ends

    @property
    def playing(self) -> bool:
        """True while a reply's audio is going out (and it was not cut)."""
        return self._in_reply and not self._cut

    def play(self, data: bytes, mime_type: str) -> bool:
        """Queue one chunk of reply audio for playback; False when it was dropped (muted)."""
        if self._muted:
            return False
        if not self._in_reply and self._on_audio is not None:
            self._on_audio()
        self._in_reply = True
        self._sink.write(to_reply_rate(data, mime_type))
        return True

    def interrupt(self) -> bool:
        """The service said ``interrupted``: drop what is queued, unless already done for this
        reply. Later audio is written normally, so a spurious interruption never mutes the next
        reply. True when playback was flushed now."""
        flushed = not self._cut
        if flushed:
            self._sink.clear()
        self._cut = False
        self._muted = False
        self._in_reply = False
        return flushed

    def local_barge_in(self) -> bool:
        """The analyst talks over the reply: flush now and mute the rest of this reply.
        True when playback was flushed now (a reply was playing and not yet cut)."""
        if not self.playing:
            return False
        self._sink.clear()
        self._cut = True
        self._muted = True
        return True

    def end_of_turn(self) -> None:
        self._sink.end_of_turn()
        self._in_reply = False
        self._cut = False
        self._muted = False


def to_reply_rate(data: bytes, mime_type: str) -> bytes:
    """Reply audio at 24 kHz: resample when the service declares another PCM rate."""
    rate = REPLY_RATE
    for param in mime_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key == "rate" and value.isdigit():
            rate = int(value)
    return data if rate == REPLY_RATE else resample_pcm16(data, rate, REPLY_RATE)
