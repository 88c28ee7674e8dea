"""The voice bridge: one browser session's audio between its WebRTC stream and a LiveSession.

``VoiceBridge`` is created once per browser session and kept in the session state (a
callback that closed over a module-level object would feed a stale object after a
rerun: the keyed streamlit-webrtc tracks keep the latest run's callback, and the bound
methods of the one bridge in session state are the same on every run). It is the face
of the voice package and joins its parts, each a module with one job:

- the uplink (:mod:`livechat.voice.uplink`): ``on_uplink_frame`` converts each browser
  frame to 16 kHz mono PCM16, keeps it for the level meter (``input_level``) and hands it
  to ``LiveSession.send_audio`` in chunks of ``uplink_chunk_ms``;
- the downlink (:mod:`livechat.voice.downlink`, :mod:`livechat.voice.track`): ``source_track``
  is the page's outgoing audio track; at each 20 ms deadline it takes exactly 20 ms of
  48 kHz mono audio from a ``PlaybackBuffer`` (``next_downlink_frame``; silence when it is
  empty) and hands it straight to aiortc's sender; the reply path
  (:mod:`livechat.voice.reply`) queues the session's 24 kHz audio, which the track's
  thread resamples once to 48 kHz into that buffer before each read; it flushes both at
  once on ``interrupted`` and keeps the last reply (``last_reply_wav``);
- the stream (:mod:`livechat.voice.stream`), the browser's presence
  (:mod:`livechat.voice.presence`) and the watchdog (:mod:`livechat.voice.watchdog`):
  ``sync_stream`` follows the webrtc component. A closed tab and a late frame are told
  apart (docs/voice-lifecycle.md): the browser gone (its Streamlit connection dropped
  with no frame since, for ``reconnect_grace_s``; the peer connection failed or closed;
  ``on_uplink_ended`` after frames flowed) stops the session at once; a gap in frames
  while the browser is there pauses the uplink and is counted (:mod:`livechat.voice.gaps`,
  per call, per turn, per server); only no frame for ``stall_timeout_s`` (15 s) ends the
  call for a gap. The watchdog thread or ``check_stream`` notices; ``close()`` (session
  end) stops it too. A drop is reported as an error only when the page has not stopped
  the stream within ``drop_notice_grace_s`` (STOP ends the track first);
- the session lifecycle (:mod:`livechat.voice.sessions`): one ``LiveSession`` at a time,
  started when the component starts and stopped when it stops; a typed question
  (``send_text``) uses the running session or starts a text-only one.

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
  ``sync_stream`` and stopped by it or ``close``);
- a SessionShutdownObserver thread (tab closed) or any thread: ``close``.

This module never imports streamlit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av

from livechat.audio.pcm import REPLY_RATE, pcm_rms
from livechat.audio.playback import PlaybackBuffer, PlaybackStats
from livechat.live import ErrorEvent, LiveSession, SessionState
from livechat.voice.downlink import DOWNLINK_RATE, Downlink
from livechat.voice.errors import BridgeClosedError, BridgeConfigError
from livechat.voice.gaps import UplinkGaps, VoiceLedger, voice_ledger
from livechat.voice.presence import BrowserPresence, BrowserSignals
from livechat.voice.reply import ReplyPath
from livechat.voice.sessions import SessionFactory, SessionSlot, TaggedEvent
from livechat.voice.trace import ReplyStages, ReplyTrace, reply_trace
from livechat.voice.track import ReplyTrack
from livechat.voice.stream import (
    STREAM_DROPPED_MESSAGE,
    STREAM_GONE_MESSAGE,
    STREAM_STALLED_MESSAGE,
    Drop,
    StreamState,
)
from livechat.voice.uplink import DEFAULT_UPLINK_CHUNK_MS, Uplink
from livechat.voice.watchdog import UplinkWatchdog
from livechat.voice.wav import pcm16_wav

__all__ = [
    "BADGE_STATES",
    "BridgeClosedError",
    "BridgeConfigError",
    "BridgeStats",
    "BrowserSignals",
    "DEFAULT_UPLINK_CHUNK_MS",
    "DOWNLINK_RATE",
    "SessionFactory",
    "TaggedEvent",
    "STREAM_DROPPED_MESSAGE",
    "STREAM_GONE_MESSAGE",
    "STREAM_STALLED_MESSAGE",
    "UplinkGaps",
    "VoiceBridge",
    "pcm16_wav",
]

logger = logging.getLogger(__name__)

_S16 = 2  # bytes per PCM16 sample
# The level meter shows 0 when no microphone frame came for this long.
_LEVEL_HOLD_S = 0.5

# What the state badge may show (the Talk page's DOM contract: "Session: <state>").
BADGE_STATES = ("idle", "connecting", "listening", "responding", "reconnecting", "error", "closed")
_BADGE = {
    SessionState.CONNECTING: "connecting",
    SessionState.LISTENING: "listening",
    SessionState.RESPONDING: "responding",
    SessionState.RECONNECTING: "reconnecting",
    SessionState.ERROR: "error",
    SessionState.CLOSED: "closed",
}


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
    uplink_gaps: int = 0  # microphone gaps over 1 s in the current (or last) call
    longest_gap_s: float = 0.0


class VoiceBridge:
    """One browser session's audio path and Live session (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str = "voice",
        playback_seconds: float = 30.0,
        max_reply_seconds: float = 60.0,
        stop_timeout_s: float = 2.0,
        stall_timeout_s: float = 15.0,
        first_frame_timeout_s: float = 15.0,
        uplink_chunk_ms: int = DEFAULT_UPLINK_CHUNK_MS,
        clock: Callable[[], float] = time.monotonic,
        watchdog_interval_s: float | None = 0.1,
        drop_notice_grace_s: float = 2.0,
        reconnect_grace_s: float = 0.5,
        ledger: VoiceLedger | None = None,
    ) -> None:
        for label, value in (
            ("playback_seconds", playback_seconds),
            ("max_reply_seconds", max_reply_seconds),
            ("stop_timeout_s", stop_timeout_s),
            ("stall_timeout_s", stall_timeout_s),
            ("first_frame_timeout_s", first_frame_timeout_s),
            ("watchdog_interval_s", 1.0 if watchdog_interval_s is None else watchdog_interval_s),
            ("drop_notice_grace_s", drop_notice_grace_s),
            ("reconnect_grace_s", reconnect_grace_s),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
                raise BridgeConfigError(f"{label} must be a positive number of seconds, got {value!r}")
        if (isinstance(uplink_chunk_ms, bool) or not isinstance(uplink_chunk_ms, int)
                or not 20 <= uplink_chunk_ms <= 100 or uplink_chunk_ms % 20):
            raise BridgeConfigError(
                f"uplink_chunk_ms must be 20, 40, 60, 80 or 100 (whole 20 ms frames), got {uplink_chunk_ms!r}"
            )
        self._name = name
        self._stop_timeout = float(stop_timeout_s)
        self._playback = PlaybackBuffer(sample_rate=DOWNLINK_RATE, max_seconds=playback_seconds)
        self._ledger = ledger or voice_ledger()
        self._stream = StreamState(
            name=name,
            clock=clock,
            stall_timeout_s=float(stall_timeout_s),
            first_frame_timeout_s=float(first_frame_timeout_s),
            drop_notice_grace_s=float(drop_notice_grace_s),
            ledger=self._ledger,
        )
        self._presence = BrowserPresence(name=name, clock=clock, reconnect_grace_s=float(reconnect_grace_s))
        self._replies = ReplyPath(
            self._playback,
            streaming=lambda: self._stream.active,
            max_reply_bytes=int(REPLY_RATE * max_reply_seconds) * _S16,
        )
        self._slot = SessionSlot(
            name=name, stop_timeout_s=self._stop_timeout, replies=self._replies
        )
        self._watchdog = UplinkWatchdog(
            name=name,
            interval_s=None if watchdog_interval_s is None else float(watchdog_interval_s),
            join_timeout_s=self._stop_timeout,
            tick=self._watch_tick,
        )
        self._uplink = Uplink(chunk_ms=uplink_chunk_ms, stream=self._stream, slot=self._slot)
        self._downlink = Downlink(self._playback, before_read=self._replies.deliver)
        self._track = ReplyTrack(self._downlink.next_frame, sample_rate=DOWNLINK_RATE,
                                 samples_per_frame=self._downlink.samples_per_frame)
        self._trace_stages(reply_trace())
        # Events wait_for_events drained from the session, kept for the next poll_events.
        self._held_lock = threading.Lock()
        self._held: list[TaggedEvent] = []

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
    def reply_queued(self) -> bool:
        """Reply audio is queued for the track's thread to resample into ``playback``."""
        return self._replies.queued_bytes > 0

    @property
    def source_track(self) -> ReplyTrack:
        """The outgoing audio track to hand the webrtc component (one per bridge, every call)."""
        return self._track

    @property
    def session(self) -> LiveSession | None:
        """The current (possibly finished) Live session, or None before the first one."""
        return self._slot.session

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran: the page must make a new bridge."""
        return self._slot.closed

    @property
    def stream_active(self) -> bool:
        """True while the webrtc component is signalling or playing and its peer is alive."""
        return self._stream.active

    @property
    def uplink_paused(self) -> bool:
        """True while microphone frames are late (a gap over 1 s is open; the call goes on)."""
        return self._stream.paused

    @property
    def input_level(self) -> float:
        """RMS level of the latest microphone frame, 0..1; 0 when no frame came for 0.5 s."""
        recent = self._stream.heard_within(_LEVEL_HOLD_S)
        return pcm_rms(self._uplink.level_pcm) if recent else 0.0

    @property
    def samples_accepted(self) -> int:
        """16 kHz microphone samples accepted for sessions so far (cheap; any thread)."""
        return self._uplink.samples_accepted

    @property
    def replies_completed(self) -> int:
        """How many model turns have completed since the bridge was created."""
        return self._replies.replies_completed

    def wait_for_replies(self, count: int, timeout: float) -> bool:
        """Wait until ``replies_completed >= count`` (any thread but the session's); True if so."""
        return self._replies.wait_for_replies(count, timeout)

    def status(self) -> str:
        """The state badge's word, one of ``BADGE_STATES`` (any thread)."""
        session = self._slot.session
        streaming = self._stream.active
        if session is None:
            return "connecting" if streaming else "idle"
        state = session.state
        if state is SessionState.READY:
            return "listening" if streaming else "idle"
        return _BADGE[state]

    def stats(self) -> BridgeStats:
        """Counters for diagnostics and the benchmark (any thread)."""
        uplink = self._uplink
        gaps, longest = self._stream.call_gaps()
        return BridgeStats(
            frames_in=uplink.frames_in,
            frames_sent=uplink.frames_sent,
            frames_unsent=uplink.frames_unsent,
            frames_rejected=uplink.frames_rejected,
            samples_accepted=uplink.samples_accepted,
            samples_sent=uplink.samples_sent,
            frames_out=self._downlink.frames_out,
            sessions_started=self._slot.sessions_started,
            playback=self._playback.stats(),
            uplink_gaps=gaps,
            longest_gap_s=round(longest, 2),
        )

    def last_reply_wav(self) -> bytes | None:
        """The last completed reply as a WAV file, or None when there is none yet.

        Built once per reply: the page asks for it on every fragment run.
        """
        return self._replies.last_reply_wav()

    # ------------------------------------------------------------------ session lifecycle (script thread)

    def ensure_session(self, factory: SessionFactory, key: str) -> LiveSession:
        """The running session for ``key``, or a new one started with ``factory``.

        A rerun never starts a second session: while the current one is alive and was made
        for the same ``key`` (dataset, budget, endpoint), it is returned as it is. A session
        that ended, or one made for another key, is stopped and replaced.
        Raises ``BridgeClosedError`` after ``close()``; whatever ``factory`` raises.
        """
        return self._slot.ensure(factory, key)

    def send_text(self, text: str, factory: SessionFactory, key: str) -> LiveSession:
        """Send a typed question to the running session, starting a text-only one if needed."""
        session = self.ensure_session(factory, key)
        session.send_text(text)
        return session

    def stop_session(self) -> bool:
        """Stop the current session within ``stop_timeout_s`` (script thread); True if it ended."""
        return self._slot.stop()

    def sync_stream(self, *, playing: bool, signalling: bool, factory: SessionFactory, key: str) -> None:
        """Reconcile with the webrtc component's state (script thread, every Talk-page run).

        Signalling or playing: make sure a session runs (started as early as signalling,
        so minting and connecting overlap with ICE). Neither: the stream stopped; stop the
        session. After a dropped peer nothing restarts until the component stops.

        A stop seen here is the user's (or the component's own): a drop detected just
        before it (STOP ends the uplink track first) is not reported as an error.
        """
        starting, stopping, was_active = self._stream.sync(playing or signalling)
        if starting:
            self._presence.reset()
            try:
                self.ensure_session(factory, key)
            except BaseException:
                self._stream.deactivate()
                raise
            self._ledger.call_started()
            self._watchdog.start()
        elif stopping:
            self._watchdog.stop()
            if was_active:
                self._ledger.call_ended("stopped")
                self.stop_session()

    def watch_browser(self, signals: BrowserSignals) -> None:
        """Probes of the browser's presence (script thread; the Talk page sets them each run)."""
        self._presence.watch(signals)

    def page_connected(self) -> bool | None:
        """Whether this bridge's page is still connected to the server (None: unknown; any thread)."""
        return self._presence.page_connected()

    def check_stream(self) -> str | None:
        """Stop the session when the browser is gone or its audio stalled (script thread).

        See the module docstring: a gap alone pauses the uplink and goes on; the browser
        gone ends the call at once, no frame for ``stall_timeout_s`` (or none at all
        ``first_frame_timeout_s`` after the start) ends it too. Returns the message it
        will report, or None. The watchdog thread does the same while the page is gone.
        """
        drop = self._inspect()
        if drop is not None:
            self.stop_session()
        return None if drop is None else drop.message

    def _inspect(self) -> Drop | None:
        """Look at the stream and the browser's signals; a drop is counted on the ledger."""
        if not self._stream.active:
            return None
        drop = self._stream.inspect(self._presence.gone(self._stream.last_frame_at))
        if drop is not None:
            self._ledger.call_ended(drop.reason)
        return drop

    def _watch_tick(self) -> bool:
        """One look of the watchdog thread; False when there is nothing left to watch.

        A drop hands the stop to a stopper thread, so the watchdog never waits on the
        lifecycle lock.
        """
        if self._inspect() is not None:
            self._slot.stop_async()
            return False
        return self._stream.active

    def poll_events(self) -> list[TaggedEvent]:
        """Session events since the last call (retired sessions first), then bridge notices:
        ``UplinkGaps`` when microphone gaps over 1 s ended (the next reply's figures show
        them), and a dropped stream's error.
        """
        events, serial = self._slot.poll_events()
        with self._held_lock:
            events[:0] = self._held
            self._held = []
        gaps = self._stream.take_new_gaps()
        if gaps is not None:
            events.append(TaggedEvent(serial, gaps))
        dropped = self._stream.take_due_drop()
        if dropped is not None:
            # The page did not stop the stream meanwhile: it died while still on.
            events.append(TaggedEvent(serial, ErrorEvent(dropped, None, recoverable=False)))
        return events

    def wait_for_events(self, timeout: float) -> bool:
        """Block up to ``timeout`` s until events are waiting; they stay for ``poll_events``.

        Any thread but a session's own. True when there is something to poll.
        """
        with self._held_lock:
            if self._held:
                return True
        session, serial = self._slot.current()
        if session is None:
            return False
        got = session.poll_events(timeout)
        if not got:
            return False
        with self._held_lock:
            self._held.extend(TaggedEvent(serial, e) for e in got)
        return True

    def close(self, timeout: float | None = None) -> None:
        """End everything for good (any thread; idempotent): tab closed or session expired."""
        limit = self._stop_timeout if timeout is None else timeout
        if self._stream.active:
            self._ledger.call_ended("closed")
        self._stream.deactivate()  # the watchdog exits rather than stop anything
        self._watchdog.stop()
        self._slot.close(limit)
        self._track.stop()  # a sender still reading it gets MediaStreamError and stops
        logger.info("voice bridge %s closed", self._name)

    # ------------------------------------------------------------------ media callbacks (aiortc loop)

    def on_uplink_frame(self, frame: av.AudioFrame) -> None:
        """One microphone frame from the browser (aiortc loop; never blocks).

        Converted audio is handed to the session in chunks of ``uplink_chunk_ms``.
        """
        self._uplink.on_frame(frame)

    def on_uplink_ended(self) -> None:
        """The sink track ended (aiortc loop): a dropped peer ends the session, without blocking.

        A late call from a previous stream arrives before any frame of the next one: only
        a stream that is active and has carried frames counts as dropped. STOP ends the
        track too, during the page run that then sees the component stopped
        (``sync_stream``), so the error is only reported after ``drop_notice_grace_s``.
        """
        if self._stream.peer_ended():
            self._ledger.call_ended("track ended")
            self._slot.stop_async()

    def next_downlink_frame(self, pts: int, time_base: Fraction) -> av.AudioFrame:
        """The next 20 ms of reply audio, 48 kHz mono s16 (aiortc loop; silence when none)."""
        return self._downlink.next_frame(pts, time_base)

    # ------------------------------------------------------------------ latency trace (bench only)

    def _trace_stages(self, trace: ReplyTrace | None) -> None:
        """With ``LIVECHAT_VOICE_TRACE`` set, mark each reply's way out (``livechat.voice.trace``)."""
        if trace is None:
            return
        stages = ReplyStages(trace, rate=DOWNLINK_RATE)
        self._replies.stages = stages
        read_before = [0]

        def on_read(pts: int, pcm: bytes) -> None:
            read = self._playback.stats().read_bytes
            stages.frame(pts, pcm, read - read_before[0])
            read_before[0] = read

        self._downlink.on_read = on_read
        self._track.on_stall = stages.stall
        self._track.on_subscribe = trace.new_call
