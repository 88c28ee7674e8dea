"""What the analyst sends to the model: queued microphone audio and typed questions,
and the rules for when each may go out on the current connection.

The callers' threads (Streamlit script, WebRTC media worker) put input in without ever
blocking (``InputQueue``); the session's loop thread takes it out and sends it
(``InputSender``). Hold rules:

- finished tool calls' responses go first, always;
- before setup completes, during a reconnection and after ``goAway``, everything else waits
  for the next connection;
- while a *blocking* tool call is unanswered, typed questions and microphone audio wait
  (non-blocking calls, 3.8's default, let the conversation go on);
- at most ``audio_buffer_seconds`` of audio wait; beyond that the oldest chunks are
  dropped and counted. Up to 32 typed questions wait; beyond that the oldest is dropped.

Threads: ``put_*``, ``wake`` and ``buffered_seconds`` from any thread (one lock, and
``loop.call_soon_threadsafe`` to wake the loop, at most one wake pending); the rest of
``InputQueue`` and all of ``InputSender`` on the loop thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Literal

import numpy as np

import websockets
from google.genai import types

from livechat.audio.pcm import PcmStreamResampler
from livechat.live.link import Link, Outcome
from livechat.live.metrics import Counter, SessionCounters
from livechat.live.questions import TypedQuestions
from livechat.live.seeding import TranscriptTracker
from livechat.live.tool_calls import ToolRunner

INPUT_RATE = 16_000  # what the Live API expects from the microphone
_INPUT_MIME = f"audio/pcm;rate={INPUT_RATE}"
# Queued microphone chunks are sent in messages of up to 100 ms (the recommended size),
# so a backlog after a reconnection goes out in a few messages, not hundreds.
_MAX_MESSAGE_US = 100_000
_MAX_TEXTS = 32
# Local evidence of speech in the uplink (for barge-in and the end-of-speech time): a
# batch louder than this is speech; this much of it in a row is the analyst talking. A
# little stricter than the emulator's VAD (-45 dBFS, 200 ms) so a reply is never cut for
# less than the service itself would hear.
SPEECH_DBFS = -40.0
SUSTAINED_SPEECH_S = 0.3

InputKind = Literal["typed", "speech", "sustained_speech"]


class SpeechGate:
    """Is the uplink carrying speech? RMS per batch, sustained over ``SUSTAINED_SPEECH_S``."""

    def __init__(self, *, threshold_dbfs: float = SPEECH_DBFS,
                 sustained_s: float = SUSTAINED_SPEECH_S) -> None:
        self._threshold = 32768.0 * 10 ** (threshold_dbfs / 20)
        self._sustained_s = sustained_s
        self._run_s = 0.0

    def feed(self, pcm16: bytes, seconds: float) -> InputKind | None:
        """``"sustained_speech"``, ``"speech"`` or None (silence) for one batch of 16-bit PCM."""
        samples = np.frombuffer(pcm16, dtype=np.int16)
        if samples.size == 0:
            return None
        rms = float(np.sqrt(np.mean(samples.astype(np.float32) ** 2)))
        if rms < self._threshold:
            self._run_s = 0.0
            return None
        self._run_s += seconds
        return "sustained_speech" if self._run_s >= self._sustained_s else "speech"


class InputQueue:
    """Bounded queues of microphone audio and typed questions for one session."""

    def __init__(self, *, audio_buffer_seconds: float, counters: SessionCounters) -> None:
        self._counters = counters
        # Whole microseconds, so 100 chunks of 20 ms add up to exactly 2 s (floats drift).
        self._audio_cap_us = round(audio_buffer_seconds * 1_000_000)
        self._lock = threading.Lock()
        self._audio: deque[tuple[bytes, int]] = deque()
        self._audio_us = 0
        self._texts: deque[str] = deque(maxlen=_MAX_TEXTS)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_pending = False
        # Loop thread only.
        self._wake_evt: asyncio.Event | None = None
        self._resamplers: dict[int, PcmStreamResampler] = {}

    # ------------------------------------------------------------------ any thread

    @property
    def buffered_seconds(self) -> float:
        """Seconds of microphone audio waiting to be sent."""
        with self._lock:
            return self._audio_us / 1_000_000

    def put_audio(self, chunk: bytes, sample_rate: int) -> None:
        """Queue mono PCM16 at ``sample_rate`` (validated by the caller); drops the oldest beyond the cap."""
        with self._lock:
            self._audio.append((chunk, sample_rate))
            self._audio_us += _duration_us(chunk, sample_rate)
            while self._audio_us > self._audio_cap_us and len(self._audio) > 1:
                old, rate = self._audio.popleft()
                self._audio_us -= _duration_us(old, rate)
                self._counters.add(Counter.AUDIO_CHUNKS_DROPPED)
        self.wake()

    def put_text(self, text: str) -> None:
        """Queue a typed question (validated by the caller); drops the oldest beyond 32."""
        with self._lock:
            if len(self._texts) == self._texts.maxlen:
                self._counters.add(Counter.TEXTS_DROPPED)
            self._texts.append(text)
        self.wake()

    def wake(self) -> None:
        """Ask the loop thread to look at the queues (at most one wake pending)."""
        with self._lock:
            loop = self._loop
            if loop is None or self._wake_pending:
                return
            self._wake_pending = True
        try:
            loop.call_soon_threadsafe(self._on_wake)
        except RuntimeError:  # the loop closed between the check and the call
            with self._lock:
                self._wake_pending = False

    def _on_wake(self) -> None:
        with self._lock:
            self._wake_pending = False
        self.wake_now()

    # ------------------------------------------------------------------ loop thread

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start taking wakes on ``loop`` (called on that loop's thread)."""
        self._wake_evt = asyncio.Event()
        with self._lock:
            self._loop = loop

    def detach(self) -> None:
        """Stop waking the loop (the session's run is over)."""
        with self._lock:
            self._loop = None

    def wake_now(self) -> None:
        """Wake the sender (loop thread): something it held back may go now."""
        if self._wake_evt is not None:
            self._wake_evt.set()

    async def wait(self) -> None:
        """Wait for a wake (loop thread), then clear it."""
        assert self._wake_evt is not None, "attach() first"
        await self._wake_evt.wait()
        self._wake_evt.clear()

    def peek_text(self) -> str | None:
        """The oldest typed question still to send, if any (it stays queued)."""
        with self._lock:
            return self._texts[0] if self._texts else None

    def text_sent(self, text: str) -> None:
        """``text`` (from ``peek_text``) went out: drop it from the queue."""
        with self._lock:
            if self._texts and self._texts[0] is text:
                self._texts.popleft()
        self._counters.add(Counter.TEXTS_SENT)

    def take_audio(self) -> tuple[bytes, float] | None:
        """Dequeue up to 100 ms of same-rate audio and resample it to 16 kHz (loop thread)."""
        parts: list[bytes] = []
        taken_us = 0
        rate = 0
        with self._lock:
            while self._audio:
                chunk, chunk_rate = self._audio[0]
                if parts and (chunk_rate != rate or taken_us >= _MAX_MESSAGE_US):
                    break
                self._audio.popleft()
                duration = _duration_us(chunk, chunk_rate)
                self._audio_us -= duration
                taken_us += duration
                rate = chunk_rate
                parts.append(chunk)
        if not parts:
            return None
        pcm = b"".join(parts)
        if rate != INPUT_RATE:
            resampler = self._resamplers.get(rate)
            if resampler is None:
                resampler = self._resamplers[rate] = PcmStreamResampler(rate, INPUT_RATE)
            pcm = resampler.convert(pcm)
        return pcm, taken_us / 1_000_000


class InputSender:
    """Sends one session's queued input on the current connection, by the hold rules (loop thread)."""

    def __init__(
        self,
        *,
        queue: InputQueue,
        tools: ToolRunner,
        transcript: TranscriptTracker,
        counters: SessionCounters,
        questions: TypedQuestions | None = None,
        input_after_tool_response: str | None = None,
        on_input: Callable[[InputKind], None] | None = None,
    ) -> None:
        self._queue = queue
        self._tools = tools
        self._transcript = transcript
        self._counters = counters
        self._questions = questions if questions is not None else TypedQuestions()
        self._again: deque[str] = deque()  # typed questions a lost connection left unanswered
        self._after_response = input_after_tool_response
        self.on_input: Callable[[InputKind], None] = on_input or (lambda kind: None)
        self._speech = SpeechGate()

    async def pump(self, link: Link) -> Outcome:
        """Send tool responses, questions and microphone audio on ``link`` until it closes."""
        # Questions the last connection took down with it go first (livechat.live.questions).
        self._again.extend(self._questions.take_unanswered())
        self._queue.wake_now()  # flush whatever queued up before this connection
        try:
            while True:
                await self._queue.wait()
                await self._flush(link)
        except websockets.ConnectionClosed:
            # The receiver sees the same close and classifies it; wait to be cancelled.
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

    async def _flush(self, link: Link) -> None:
        while True:
            # Tool responses first, even after goAway (the turn waits for them): the
            # service wants the toolResponse before any other client message while a
            # call is pending (BerriAI/litellm PR #26590 review).
            if link.ready and await self._tools.send_ready(link):
                if self._after_response is not None and not link.blocking_call_pending:
                    # 3.x runs no inference after a tool response until some realtime
                    # input follows; pipecat's workaround (pipecat-ai/pipecat PR #4366).
                    await link.session.send_realtime_input(text=self._after_response)
                    self._counters.add(Counter.INPUTS_AFTER_TOOL_RESPONSE)
                continue
            if link.go_away:
                return  # after goAway, hold input for the next connection
            if link.blocking_call_pending:
                # Nothing but the toolResponse while a blocking call is unanswered: the
                # service closes with 1008 on realtimeInput then (autonomous-ai/autonomous-os
                # #231, PR #237; livekit/agents #4545). Questions and audio wait (bounded).
                return
            again = self._again[0] if self._again else None
            text = again if again is not None else self._queue.peek_text()
            if text is not None:
                # realtimeInput.text, not clientContent: mixing clientContent with streamed
                # audio has been reported to end sessions (LIVE_PROTOCOL 2.4).
                await link.session.send_realtime_input(text=text)
                if again is not None:
                    self._again.popleft()  # already in the transcript once
                    self._counters.add(Counter.TEXTS_ASKED_AGAIN)
                else:
                    self._queue.text_sent(text)
                    self._transcript.add_complete("user", text)
                self._questions.sent(text)
                link.awaiting_reply = True
                link.typed_echoes.append(text)
                self.on_input("typed")
                continue
            batch = self._queue.take_audio()
            if batch is None:
                return
            pcm, seconds = batch
            await link.session.send_realtime_input(
                audio=types.Blob(data=pcm, mime_type=_INPUT_MIME)
            )
            self._counters.add(Counter.AUDIO_MESSAGES_SENT)
            self._counters.add(Counter.AUDIO_SECONDS_SENT, seconds)
            kind = self._speech.feed(pcm, seconds)
            if kind is not None:
                self.on_input(kind)


def _duration_us(pcm: bytes, rate: int) -> int:
    """Duration of mono PCM16 ``pcm`` at ``rate`` Hz in whole microseconds."""
    return len(pcm) * 500_000 // rate
