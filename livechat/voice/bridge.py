"""The voice bridge: one browser session's audio between its WebRTC stream and a LiveSession.

``VoiceBridge`` is created once per browser session and kept in ``st.session_state`` (a
callback that closed over a module-level object would feed a stale object after a
rerun: the keyed streamlit-webrtc tracks keep the latest run's callback, and the bound
methods of the one bridge in session state are the same on every run). It holds:

- the uplink: ``on_uplink_frame`` takes each browser frame (48 kHz stereo s16 measured
  here; any layout accepted), converts it to 16 kHz mono PCM16 (``UplinkConverter``),
  updates the input level and hands it to ``LiveSession.send_audio`` (non-blocking,
  bounded; the session drops the oldest audio beyond its buffer and counts it);
- the downlink: ``next_downlink_frame`` hands the source track exactly 20 ms of 24 kHz
  mono audio from a ``PlaybackBuffer`` (silence when it is empty). The session writes
  reply audio into it and calls ``clear()`` on ``interrupted``, which flushes it at once;
- the session lifecycle: one ``LiveSession`` at a time. ``sync_stream`` starts it when
  the webrtc component starts and stops it when the component stops; a typed question
  (``send_text``) uses the running session or starts a text-only one. A dropped peer
  (``on_uplink_ended`` after frames flowed, or no frame for ``stall_timeout_s``, noticed
  by the stream's watchdog thread or ``check_stream``) and ``close()`` (tab closed) stop
  it too, within ``stop_timeout_s``. A drop is reported as an error only when the page
  has not stopped the stream within ``drop_notice_grace_s`` (STOP ends the track first);
- the last reply's audio, for playing a typed question's answer without WebRTC
  (``last_reply_wav``).

Echo: with the browser's echoCancellation on, the model does not hear itself; with it
off, it does. That is not solved here (no server-side echo cancellation).

Threads:

- the Streamlit script thread (page runs, fragment runs, widget callbacks): ``sync_stream``,
  ``ensure_session``, ``send_text``, ``stop_session``, ``check_stream``, ``poll_events``,
  ``status``, ``stats``, ``last_reply_wav``;
- aiortc's event loop thread (streamlit-webrtc runs every stream there): ``on_uplink_frame``,
  ``on_uplink_ended`` and ``next_downlink_frame``. These never block beyond short locks:
  a slow callback would stall every stream of the server process;
- the LiveSession's loop thread: the reply tap (``write``/``clear``/``end_of_turn``);
- the stream's watchdog thread (``<name>-watchdog``, one per stream, started by
  ``sync_stream`` and stopped by it or ``close``): ``_watch_uplink``;
- a SessionShutdownObserver thread (tab closed) or any thread: ``close``.

This module never imports streamlit.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import wave
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av

from livechat.audio.pcm import SESSION_INPUT_RATE, UplinkConverter, pcm_rms
from livechat.live.events import ErrorEvent, Event, SessionState
from livechat.audio.playback import PlaybackBuffer, PlaybackStats
from livechat.live.session import LiveSession, ReplyAudioSink

__all__ = [
    "BADGE_STATES",
    "BridgeClosedError",
    "BridgeConfigError",
    "BridgeStats",
    "DEFAULT_UPLINK_CHUNK_MS",
    "DOWNLINK_RATE",
    "SessionFactory",
    "TaggedEvent",
    "STREAM_DROPPED_MESSAGE",
    "STREAM_STALLED_MESSAGE",
    "VoiceBridge",
    "pcm16_wav",
]

logger = logging.getLogger(__name__)

DOWNLINK_RATE = 24_000  # the model's reply rate; aiortc's Opus encoder upsamples to 48 kHz
# Microphone audio goes to the session in 40 ms chunks, not 20 ms frames: half the
# messages (each costs ~0.3 ms of SDK and websocket work under the GIL), for at most
# 20 ms of added delay. See bench/bench_sessions.py for the measurements.
DEFAULT_UPLINK_CHUNK_MS = 40
FRAME_SECONDS = 0.02
_S16 = 2

# What the state badge may show (the Talk page's DOM contract: "Session: <state>").
BADGE_STATES = ("idle", "connecting", "listening", "responding", "reconnecting", "error", "closed")

STREAM_DROPPED_MESSAGE = (
    "The microphone stream ended, so the voice session was closed. "
    "Press STOP, then START to talk again."
)
STREAM_STALLED_MESSAGE = (
    "No audio has arrived from the microphone for {seconds:g} s, so the voice session was "
    "closed. Press STOP, then START to talk again."
)

SessionFactory = Callable[[ReplyAudioSink], LiveSession]
"""Builds a not-yet-started LiveSession that writes its reply audio to the given sink."""


@dataclass(frozen=True)
class TaggedEvent:
    """An event and the serial number (1, 2, ...) of the bridge session it came from.

    Transcript turn ids are unique within one LiveSession only; the serial keeps the
    turns of consecutive sessions apart.
    """

    session: int
    event: Event


class BridgeConfigError(ValueError):
    """A VoiceBridge was constructed with an impossible setting (the message names it)."""


class BridgeClosedError(RuntimeError):
    """The bridge was closed (its browser session ended); create a new one."""


@dataclass(frozen=True)
class BridgeStats:
    """Counters since the bridge was created (a snapshot; any thread)."""

    frames_in: int  # uplink frames received from the browser
    frames_sent: int  # uplink frames accepted for a session (sent, or in the chunk filling up)
    frames_unsent: int  # uplink frames with no live voice session to take them
    frames_rejected: int  # uplink frames the converter could not read
    samples_accepted: int  # 16 kHz samples accepted for sessions (handed or pending)
    samples_sent: int  # 16 kHz samples handed to sessions
    frames_out: int  # downlink frames handed to the source track
    sessions_started: int
    playback: PlaybackStats


def pcm16_wav(pcm: bytes, sample_rate: int = DOWNLINK_RATE) -> bytes:
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


class _ReplyTap:
    """The ReplyAudioSink of one LiveSession: feeds playback and records the reply.

    Called on that session's loop thread. Once the bridge moves on to another session
    it deactivates the tap, so a late write from a stopping session changes nothing.
    """

    def __init__(self, bridge: VoiceBridge) -> None:
        self._bridge = bridge
        self.active = True

    def write(self, pcm24k: bytes) -> None:
        if self.active:
            self._bridge._reply_write(pcm24k)

    def clear(self) -> None:
        if self.active:
            self._bridge._reply_clear()

    def end_of_turn(self) -> None:
        if self.active:
            self._bridge._reply_end()


class VoiceBridge:
    """One browser session's audio path and Live session (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str = "voice",
        playback_seconds: float = 30.0,
        max_reply_seconds: float = 60.0,
        stop_timeout_s: float = 2.0,
        stall_timeout_s: float = 1.0,
        first_frame_timeout_s: float = 15.0,
        uplink_chunk_ms: int = DEFAULT_UPLINK_CHUNK_MS,
        clock: Callable[[], float] = time.monotonic,
        watchdog_interval_s: float | None = 0.1,
        drop_notice_grace_s: float = 2.0,
    ) -> None:
        for label, value in (
            ("playback_seconds", playback_seconds),
            ("max_reply_seconds", max_reply_seconds),
            ("stop_timeout_s", stop_timeout_s),
            ("stall_timeout_s", stall_timeout_s),
            ("first_frame_timeout_s", first_frame_timeout_s),
            ("watchdog_interval_s", 1.0 if watchdog_interval_s is None else watchdog_interval_s),
            ("drop_notice_grace_s", drop_notice_grace_s),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise BridgeConfigError(f"{label} must be a positive number of seconds, got {value!r}")
        if (isinstance(uplink_chunk_ms, bool) or not isinstance(uplink_chunk_ms, int)
                or not 20 <= uplink_chunk_ms <= 100 or uplink_chunk_ms % 20):
            raise BridgeConfigError(
                f"uplink_chunk_ms must be 20, 40, 60, 80 or 100 (whole 20 ms frames), got {uplink_chunk_ms!r}"
            )
        self._name = name
        self._clock = clock
        self._stop_timeout = float(stop_timeout_s)
        self._stall_timeout = float(stall_timeout_s)
        self._first_frame_timeout = float(first_frame_timeout_s)
        # None: no watchdog thread; only check_stream() (called by the page) looks.
        self._watchdog_interval = None if watchdog_interval_s is None else float(watchdog_interval_s)
        self._drop_grace = float(drop_notice_grace_s)
        self._playback = PlaybackBuffer(sample_rate=DOWNLINK_RATE, max_seconds=playback_seconds)
        self._frame_bytes = int(round(DOWNLINK_RATE * FRAME_SECONDS)) * _S16
        self._max_reply_bytes = int(DOWNLINK_RATE * max_reply_seconds) * _S16

        # Session lifecycle: script thread (and close() from anywhere) under _lifecycle.
        self._lifecycle = threading.RLock()
        self._session: LiveSession | None = None
        self._session_key: str | None = None
        self._tap: _ReplyTap | None = None
        self._serial = 0  # serial number of the current session (0: none yet)
        self._retired: list[tuple[int, LiveSession]] = []  # stopped, events not yet drained
        self._stoppers: list[threading.Thread] = []
        self._closed = False
        # The uplink watchdog of the current stream and its stop flag (script thread, close()).
        self._watchdog: threading.Thread | None = None
        self._watchdog_stop = threading.Event()

        # Shared between threads: guarded by _lock.
        self._lock = threading.Lock()
        self._stream_active = False  # the webrtc component is signalling or playing
        self._stream_dropped = False  # the peer went away while the component still plays
        self._stream_started_at = 0.0
        self._frames_this_stream = 0
        self._last_frame_at = 0.0
        self._notices: deque[Event] = deque(maxlen=32)
        # A dropped stream's message and when it dropped. Reported by poll_events only once
        # drop_notice_grace_s passed without the page stopping the stream: STOP ends the
        # uplink track (and its frames) before the page's run sees the component stopped.
        self._pending_drop: tuple[float, str] | None = None
        self._held: list[TaggedEvent] = []  # drained by wait_for_events, not yet polled
        self._reply = bytearray()  # the reply being spoken now
        self._last_reply: bytes = b""
        self._last_reply_wav: bytes | None = None  # built on first request, per reply
        self._replies_done = 0
        self._reply_cond = threading.Condition(self._lock)
        self._sessions_started = 0

        # aiortc loop thread only (single writer; readers see whole ints under the GIL).
        self._uplink = UplinkConverter(target_rate=SESSION_INPUT_RATE)
        self._chunk_bytes = SESSION_INPUT_RATE * uplink_chunk_ms // 1000 * _S16
        self._pending = bytearray()  # converted audio waiting to fill a chunk
        self._pending_for: LiveSession | None = None
        self._frames_in = 0
        self._frames_sent = 0
        self._frames_unsent = 0
        self._samples_accepted = 0
        self._samples_sent = 0
        self._frames_out = 0
        # The latest converted frame, for the level meter. Its RMS is computed when the
        # meter is read (every few hundred ms on the script thread), not per frame on the
        # aiortc loop, which carries every stream of the process. Replaced, never mutated.
        self._level_pcm: bytes = b""

    # ------------------------------------------------------------------ properties (any thread)

    @property
    def name(self) -> str:
        """The bridge's name (its sessions are named after it)."""
        return self._name

    @property
    def playback(self) -> PlaybackBuffer:
        """The reply-audio buffer the downlink reads from."""
        return self._playback

    @property
    def session(self) -> LiveSession | None:
        """The current (possibly finished) Live session, or None before the first one."""
        return self._session

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran: the page must make a new bridge."""
        return self._closed

    @property
    def stream_active(self) -> bool:
        """True while the webrtc component is signalling or playing and its peer is alive."""
        with self._lock:
            return self._stream_active

    @property
    def input_level(self) -> float:
        """RMS level of the latest microphone frame, 0..1; 0 when no frame came for 0.5 s."""
        with self._lock:
            recent = self._stream_active and self._clock() - self._last_frame_at < 0.5
        return pcm_rms(self._level_pcm) if recent else 0.0

    @property
    def samples_accepted(self) -> int:
        """16 kHz microphone samples accepted for sessions so far (cheap; any thread)."""
        return self._samples_accepted

    @property
    def replies_completed(self) -> int:
        """How many model turns have completed since the bridge was created."""
        with self._lock:
            return self._replies_done

    def wait_for_replies(self, count: int, timeout: float) -> bool:
        """Wait until ``replies_completed >= count`` (any thread but the session's); True if so."""
        with self._reply_cond:
            return self._reply_cond.wait_for(lambda: self._replies_done >= count, timeout)

    def status(self) -> str:
        """The state badge's word, one of ``BADGE_STATES`` (any thread)."""
        session = self._session
        with self._lock:
            streaming = self._stream_active
        if session is None:
            return "connecting" if streaming else "idle"
        state = session.state
        if state is SessionState.READY:
            return "listening" if streaming else "idle"
        return {
            SessionState.CONNECTING: "connecting",
            SessionState.LISTENING: "listening",
            SessionState.RESPONDING: "responding",
            SessionState.RECONNECTING: "reconnecting",
            SessionState.ERROR: "error",
            SessionState.CLOSED: "closed",
        }[state]

    def stats(self) -> BridgeStats:
        """Counters for diagnostics and the benchmark (any thread)."""
        return BridgeStats(
            frames_in=self._frames_in,
            frames_sent=self._frames_sent,
            frames_unsent=self._frames_unsent,
            frames_rejected=self._uplink.rejected_frames,
            samples_accepted=self._samples_accepted,
            samples_sent=self._samples_sent,
            frames_out=self._frames_out,
            sessions_started=self._sessions_started,
            playback=self._playback.stats(),
        )

    def last_reply_wav(self) -> bytes | None:
        """The last completed reply as a WAV file, or None when there is none yet.

        Built once per reply: the page asks for it on every fragment run.
        """
        with self._lock:
            wav, pcm = self._last_reply_wav, self._last_reply
        if wav is not None or not pcm:
            return wav
        wav = pcm16_wav(pcm)  # outside the lock: the media thread takes it every 20 ms
        with self._lock:
            if self._last_reply is pcm:
                self._last_reply_wav = wav
        return wav

    # ------------------------------------------------------------------ session lifecycle (script thread)

    def ensure_session(self, factory: SessionFactory, key: str) -> LiveSession:
        """The running session for ``key``, or a new one started with ``factory``.

        A rerun never starts a second session: while the current one is alive and was made
        for the same ``key`` (dataset, budget, endpoint), it is returned as it is. A session
        that ended, or one made for another key, is stopped and replaced.
        Raises ``BridgeClosedError`` after ``close()``; whatever ``factory`` raises.
        """
        with self._lifecycle:
            if self._closed:
                raise BridgeClosedError(f"voice bridge {self._name!r} is closed; create a new one")
            current = self._session
            if current is not None and self._session_key == key and not current.state.is_final:
                return current
            self._retire_locked(wait=True)
            tap = _ReplyTap(self)
            session = factory(tap)
            self._session, self._session_key, self._tap = session, key, tap
            self._serial += 1
            with self._lock:
                self._sessions_started += 1
                self._reply.clear()
            self._playback.clear()
            session.start()
            logger.info("voice bridge %s: started session %s", self._name, session.name)
            return session

    def send_text(self, text: str, factory: SessionFactory, key: str) -> LiveSession:
        """Send a typed question to the running session, starting a text-only one if needed."""
        session = self.ensure_session(factory, key)
        session.send_text(text)
        return session

    def stop_session(self) -> bool:
        """Stop the current session within ``stop_timeout_s`` (script thread); True if it ended."""
        with self._lifecycle:
            session = self._session
            if session is None:
                return True
            if self._tap is not None:
                self._tap.active = False
            self._playback.clear()
            return session.stop(self._stop_timeout)

    def sync_stream(self, *, playing: bool, signalling: bool, factory: SessionFactory, key: str) -> None:
        """Reconcile with the webrtc component's state (script thread, every Talk-page run).

        Signalling or playing: make sure a session runs (started as early as signalling,
        so minting and connecting overlap with ICE). Neither: the stream stopped; stop the
        session. After a dropped peer nothing restarts until the component stops.

        A stop seen here is the user's (or the component's own): a drop detected just
        before it (STOP ends the uplink track first) is not reported as an error.
        """
        active = playing or signalling
        with self._lock:
            starting = active and not self._stream_active and not self._stream_dropped
            stopping = not active and (self._stream_active or self._stream_dropped)
            if starting:
                self._stream_active = True
                self._stream_started_at = self._clock()
                self._frames_this_stream = 0
            elif stopping:
                was_active = self._stream_active
                self._stream_active = False
                self._stream_dropped = False
                if self._pending_drop is not None:
                    logger.info("voice bridge %s: the stream was stopped by the page; "
                                "not reporting it as dropped", self._name)
                self._pending_drop = None
        if starting:
            try:
                self.ensure_session(factory, key)
            except BaseException:
                with self._lock:
                    self._stream_active = False
                raise
            self._start_watchdog()
        elif stopping:
            self._stop_watchdog()
            if was_active:
                self.stop_session()

    def check_stream(self) -> str | None:
        """Stop the session when the peer stopped sending audio (script thread, e.g. a fragment).

        Browsers send frames continuously, silence and muted tracks included, so no frame
        for ``stall_timeout_s`` (or none at all ``first_frame_timeout_s`` after the start)
        means the peer is gone. Returns the message it will report, or None. The bridge's
        own watchdog thread does the same while the page is gone (a closed tab).
        """
        message = self._detect_stall()
        if message is not None:
            self.stop_session()
        return message

    def _detect_stall(self) -> str | None:
        """Mark the stream dropped when its uplink stalled (any thread); the message, or None."""
        now = self._clock()
        with self._lock:
            if not self._stream_active:
                return None
            if self._frames_this_stream:
                idle, limit = now - self._last_frame_at, self._stall_timeout
            else:
                idle, limit = now - self._stream_started_at, self._first_frame_timeout
            if idle < limit:
                return None
            self._stream_active = False
            self._stream_dropped = True
            message = STREAM_STALLED_MESSAGE.format(seconds=round(limit, 1))
            self._pending_drop = (now, message)
        logger.info("voice bridge %s: no uplink audio for %.1f s; stopping the session", self._name, idle)
        return message

    def _start_watchdog(self) -> None:
        """Start the uplink watchdog of a new stream (script thread).

        The page's fragment stops running when the tab closes, and Streamlit keeps a
        disconnected session for minutes, so the bridge watches the uplink itself.
        """
        if self._watchdog_interval is None:
            return
        self._stop_watchdog()
        stop = threading.Event()
        thread = threading.Thread(target=self._watch_uplink, args=(stop,),
                                  name=f"{self._name}-watchdog", daemon=True)
        self._watchdog, self._watchdog_stop = thread, stop
        thread.start()

    def _stop_watchdog(self) -> None:
        """Stop and join the current watchdog, if any (script thread, or close())."""
        thread, self._watchdog = self._watchdog, None
        self._watchdog_stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._stop_timeout)
            if thread.is_alive():
                logger.warning("voice bridge %s: watchdog still running after %.1f s",
                               self._name, self._stop_timeout)

    def _watch_uplink(self, stop: threading.Event) -> None:
        """Watchdog thread body: end the session once the stream's uplink stalls.

        Runs until ``stop`` is set or the stream is no longer active. Stopping is handed
        to a stopper thread (``_stop_async``), so this never waits on the lifecycle lock.
        """
        interval = self._watchdog_interval or 0.1
        while not stop.wait(interval):
            if self._detect_stall() is not None:
                self._stop_async()
                return
            with self._lock:
                if not self._stream_active:
                    return

    def poll_events(self) -> list[TaggedEvent]:
        """Session events since the last call (retired sessions first), then bridge notices."""
        with self._lifecycle:
            events: list[TaggedEvent] = []
            keep: list[tuple[int, LiveSession]] = []
            for serial, old in self._retired:
                alive = old.running  # read before draining: its last events come before it ends
                events.extend(TaggedEvent(serial, e) for e in old.poll_events())
                if alive:
                    keep.append((serial, old))
            self._retired = keep
            if self._session is not None:
                events.extend(TaggedEvent(self._serial, e) for e in self._session.poll_events())
            serial = self._serial
        with self._lock:
            events[:0] = self._held
            self._held = []
            if self._pending_drop is not None and self._clock() - self._pending_drop[0] >= self._drop_grace:
                # The page did not stop the stream meanwhile: it died while still on.
                self._notices.append(ErrorEvent(self._pending_drop[1], None, recoverable=False))
                self._pending_drop = None
            events.extend(TaggedEvent(serial, e) for e in self._notices)
            self._notices.clear()
        return events

    def wait_for_events(self, timeout: float) -> bool:
        """Block up to ``timeout`` s until events are waiting; they stay for ``poll_events``.

        Any thread but a session's own. True when there is something to poll.
        """
        with self._lock:
            if self._held or self._notices:
                return True
        session, serial = self._session, self._serial
        if session is None:
            return False
        got = session.poll_events(timeout)
        if not got:
            return False
        with self._lock:
            self._held.extend(TaggedEvent(serial, e) for e in got)
        return True

    def close(self, timeout: float | None = None) -> None:
        """End everything for good (any thread; idempotent): tab closed or session expired."""
        limit = self._stop_timeout if timeout is None else timeout
        with self._lock:
            self._stream_active = False  # the watchdog exits rather than stop anything
        self._stop_watchdog()
        with self._lifecycle:
            if not self._closed:
                self._closed = True
                self._retire_locked(wait=True)
        with self._lock:
            stoppers = list(self._stoppers)
        for thread in stoppers:
            thread.join(limit)
            if thread.is_alive():
                logger.warning("voice bridge %s: stopper %s still running after %.1f s",
                               self._name, thread.name, limit)
        logger.info("voice bridge %s closed", self._name)

    def _retire_locked(self, *, wait: bool) -> None:
        """Stop the current session and keep it until its last events are drained."""
        session = self._session
        if session is None:
            return
        if self._tap is not None:
            self._tap.active = False
        self._playback.clear()
        if wait:
            session.stop(self._stop_timeout)
        self._retired.append((self._serial, session))
        self._session, self._session_key, self._tap = None, None, None

    def _stop_async(self) -> None:
        """Stop the current session without blocking the caller (aiortc loop thread).

        Deliberately does not take ``_lifecycle``: the script thread may hold it for up to
        ``stop_timeout_s`` while it replaces a session, and the aiortc loop must not wait.
        """
        session, tap = self._session, self._tap
        if session is None or not session.running:
            return
        if tap is not None:
            tap.active = False
        thread = threading.Thread(
            target=session.stop, args=(self._stop_timeout,),
            name=f"{self._name}-stopper", daemon=True,
        )
        with self._lock:
            self._stoppers = [t for t in self._stoppers if t.is_alive()]
            self._stoppers.append(thread)
        thread.start()
        self._playback.clear()

    # ------------------------------------------------------------------ media callbacks (aiortc loop)

    def on_uplink_frame(self, frame: av.AudioFrame) -> None:
        """One microphone frame from the browser (aiortc loop; never blocks).

        Converted audio is handed to the session in chunks of ``uplink_chunk_ms``.
        """
        pcm = self._uplink.convert(frame)
        self._frames_in += 1
        with self._lock:
            self._last_frame_at = self._clock()
            self._frames_this_stream += 1
            live = self._stream_active
        if not pcm:
            return
        self._level_pcm = pcm
        session = self._session
        if session is None or not live:
            self._frames_unsent += 1
            self._pending.clear()
            return
        if session is not self._pending_for:
            self._pending.clear()  # audio for a session that is gone
            self._pending_for = session
        self._pending += pcm
        self._frames_sent += 1
        self._samples_accepted += len(pcm) // _S16
        if len(self._pending) >= self._chunk_bytes:
            chunk = bytes(self._pending)
            self._pending.clear()
            session.send_audio(chunk, SESSION_INPUT_RATE)
            self._samples_sent += len(chunk) // _S16

    def on_uplink_ended(self) -> None:
        """The sink track ended (aiortc loop): a dropped peer ends the session, without blocking.

        A late call from a previous stream arrives before any frame of the next one: only
        a stream that is active and has carried frames counts as dropped. STOP ends the
        track too, during the page run that then sees the component stopped
        (``sync_stream``), so the error is only reported after ``drop_notice_grace_s``.
        """
        with self._lock:
            if not self._stream_active or not self._frames_this_stream:
                return
            self._stream_active = False
            self._stream_dropped = True
            self._pending_drop = (self._clock(), STREAM_DROPPED_MESSAGE)
        logger.info("voice bridge %s: the uplink track ended; stopping the session", self._name)
        self._stop_async()

    def next_downlink_frame(self, pts: int, time_base: Fraction) -> av.AudioFrame:
        """The next 20 ms of reply audio, 24 kHz mono s16 (aiortc loop; silence when none)."""
        pcm = self._playback.read(self._frame_bytes)
        # Filling a fresh frame's plane costs half of from_ndarray (measured 1.4 vs 3.1 us);
        # this runs 50 times a second per stream on the shared aiortc loop.
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // _S16)
        frame.planes[0].update(pcm)
        frame.sample_rate = DOWNLINK_RATE
        frame.pts = pts
        frame.time_base = time_base
        self._frames_out += 1
        return frame

    # ------------------------------------------------------------------ reply tap (session loop)

    def _reply_write(self, pcm: bytes) -> None:
        with self._lock:
            streaming = self._stream_active
            room = self._max_reply_bytes - len(self._reply)
            if room > 0:
                self._reply += pcm[:room]
        if streaming:
            # Without a stream nobody reads the buffer: filling it would only delay the
            # next voice reply by stale audio.
            self._playback.write(pcm)

    def _reply_clear(self) -> None:
        self._playback.clear()
        with self._lock:
            self._reply.clear()

    def _reply_end(self) -> None:
        self._playback.end_of_turn()
        with self._lock:
            if self._reply:
                self._last_reply = bytes(self._reply)
                self._last_reply_wav = None
                self._reply.clear()
            self._replies_done += 1
            self._reply_cond.notify_all()

