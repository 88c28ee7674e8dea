"""How the server messages of a turn are cut and grouped: the frame shapes the service sends.

Pure functions from what the model says to the list of messages that carry it,
so each reported shape is unit-testable (sources: ``shared/LIVE_PROTOCOL.md`` 8.5):

* input transcription in one piece (the emulator's default), or a few characters
  at a time, as 2.5 native audio sends it;
* output transcription in its own messages (default) or in the same message as
  the audio it belongs to ("several parts in one message on 3.x");
* frequent empty ``{"serverContent":{}}`` messages;
* ``usageMetadata`` on the last message (default) or at generation start, with an
  empty one on ``turnComplete``.
"""

from __future__ import annotations

from . import wire

INCREMENTAL_PIECE_CHARS = 4  # "a few characters at a time" (2.5 native audio, LIVE_PROTOCOL 8.5)
EMPTY_FRAME_EVERY = 3  # one {"serverContent":{}} after every third audio chunk


def input_transcription_messages(text: str, *, incremental: bool) -> list[dict]:
    """The ``inputTranscription`` messages of ``text``; ``finished`` only on the last piece."""
    if not incremental or len(text) <= INCREMENTAL_PIECE_CHARS:
        return [wire.input_transcription(text)]
    pieces = [text[i:i + INCREMENTAL_PIECE_CHARS] for i in range(0, len(text), INCREMENTAL_PIECE_CHARS)]
    return [wire.input_transcription(piece, finished=index == len(pieces) - 1) for index, piece in enumerate(pieces)]


def chunk_messages(index: int, audio: dict, transcript: str | None, *, multipart: bool, empty_frames: bool,
                   first_extra: dict | None = None) -> list[dict]:
    """The messages for audio chunk ``index`` (``audio`` from ``wire.audio_chunk``) and its transcript piece."""
    messages: list[dict] = []
    if transcript is not None:
        if multipart:
            audio["serverContent"]["outputTranscription"] = {"text": transcript}
        else:
            messages.append(wire.output_transcription(transcript))
    messages.append(audio)
    if index == 0 and first_extra:
        messages[0].update(first_extra)  # e.g. usageMetadata at generation start
    if empty_frames and index % EMPTY_FRAME_EVERY == EMPTY_FRAME_EVERY - 1:
        messages.append(wire.empty_content())
    return messages
