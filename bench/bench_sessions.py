"""Concurrent voice sessions: VoiceBridge + LiveSession + the emulator, audio in real time.

For each N (1, 10, 25, 50; ``--quick``: 1, 10) it runs N browser sessions in one process,
as the app would: per session a VoiceBridge with a LiveSession (real google-genai SDK,
TLS websocket, per-connection tokens) talking to an in-process emulator that paces its
replies in real time. A feeder thread per session pushes 20 ms ``av.AudioFrame``s of
48 kHz stereo speech-like audio into ``on_uplink_frame`` at real-time pace (an utterance,
then silence until the reply has played, then the next); a reader thread per session
pulls 20 ms downlink frames from ``next_downlink_frame`` at real-time pace, the way
streamlit-webrtc's AudioSourceTrack does.

It prints, per N:

- replies, and underruns during replies (PlaybackBuffer: ran dry while a reply played);
- dropped audio: uplink chunks the session dropped (its 2 s buffer overflowed) and
  downlink bytes the playback buffer dropped (overflow);
- uplink added latency: a frame handed to the bridge → the emulator received the
  message holding its last sample (measured at the emulator's websocket handler);
- downlink added latency: the emulator sent a reply chunk → its first sample left the
  bridge in a frame, minus the wait the audio queued ahead of it imposes (a sample can
  not play before the one before it). "first" = the first chunk of each reply (the
  latency a listener notices); "all" = every chunk;
- the process's CPU use (user+system seconds per wall second; 2.0 = both cores).

Measurement hooks wrap three emulator methods in this process only (``Conversation.__init__``,
``Conversation._realtime_input``, ``Channel.send``) to timestamp arrivals and sends; the
emulator itself is unchanged. All sessions share one instruction first line, so the
emulator's reply text, and its synthesis, is the same for each (cached): the CPU spent
is the product's path, not espeak's. Timings use ``time.monotonic`` in one process.

Run: ``.venv/bin/python bench/bench_sessions.py [--quick] [--sessions 1,10] [--seconds 20]``.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import logging
import os
import socket
import statistics
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat.bridge import VoiceBridge  # noqa: E402
from livechat.config import ServiceConfig  # noqa: E402
from livechat.emulator import EmulatorOptions, EmulatorServer  # noqa: E402
from livechat.emulator import channel as emulator_channel  # noqa: E402
from livechat.emulator import conversation as emulator_conversation  # noqa: E402
from livechat.events import SessionState  # noqa: E402
from livechat.session import LiveSession  # noqa: E402
from livechat.tokens import LiveSettings  # noqa: E402

warnings.filterwarnings("ignore", message=".*experimental.*")

MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
API_KEY = "bench-key"
FRAME_S = 0.02
IN_RATE = 48_000
OUT_RATE = 24_000
SPEECH_S = 1.2
GAP_S = 0.4  # silence after a reply has played, before the next utterance
SETUP_TIMEOUT_S = 60.0


# ----------------------------------------------------------------------------- emulator hooks


@dataclass
class _Marks:
    """Per-session timestamps recorded by the emulator hooks (server loop thread)."""

    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (t, cumulative 16 kHz samples)
    sends: list[tuple[float, int, int]] = field(default_factory=list)  # (t, start byte, bytes)
    first_of_reply: set[int] = field(default_factory=set)  # indices into sends
    in_samples: int = 0
    out_bytes: int = 0
    new_reply: bool = True


_MARKS: dict[str, _Marks] = {}
_CHANNEL_TAGS: dict[int, str] = {}


# The emulator binds its listening socket with proto 0, so asyncio's _set_nodelay (which
# checks sock.proto == IPPROTO_TCP) skips its connections: Nagle then holds each reply
# message until the client's next uplink packet carries the ACK (up to 20 ms here, 40 ms
# with no uplink traffic). The Live service does not do that; by default the bench turns
# Nagle off on the emulator's connections (--emulator-nagle keeps it, to see the effect).
_NODELAY = True


def _set_nodelay(channel: Any) -> None:
    try:
        protocol = channel._ws.scope["extensions"]["livechat.emulator"]["abort"].__self__
        sock = protocol.transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, KeyError, OSError) as exc:
        print(f"warning: could not turn Nagle off on an emulator connection: {exc!r}", file=sys.stderr)


def _tag_of(instruction: str) -> str:
    return instruction.rsplit("\n", 1)[-1]


def _install_hooks() -> None:
    conv = emulator_conversation.Conversation
    chan = emulator_channel.Channel
    if getattr(conv, "_bench_hooked", False):
        return
    orig_init, orig_input, orig_send = conv.__init__, conv._realtime_input, chan.send

    def init(self: Any, **kwargs: Any) -> None:
        orig_init(self, **kwargs)
        if _NODELAY:
            _set_nodelay(kwargs["channel"])
        tag = _tag_of(self._instruction)
        _CHANNEL_TAGS[id(kwargs["channel"])] = tag
        _MARKS.setdefault(tag, _Marks())

    async def realtime_input(self: Any, body: dict) -> None:
        now = time.monotonic()
        audio = body.get("audio")
        if isinstance(audio, dict):
            data = audio.get("data") or ""
            n_bytes = len(data) * 3 // 4 - data[-2:].count("=")
            marks = _MARKS[_tag_of(self._instruction)]
            marks.in_samples += n_bytes // 2
            marks.arrivals.append((now, marks.in_samples))
        await orig_input(self, body)

    async def send(self: Any, message: dict) -> None:
        content = message.get("serverContent") or {}
        tag = _CHANNEL_TAGS.get(id(self))
        if tag is not None:
            marks = _MARKS[tag]
            parts = (content.get("modelTurn") or {}).get("parts") or []
            for part in parts:
                data = (part.get("inlineData") or {}).get("data")
                if data:
                    n = len(base64.b64decode(data))
                    if marks.new_reply:
                        marks.first_of_reply.add(len(marks.sends))
                        marks.new_reply = False
                    marks.sends.append((time.monotonic(), marks.out_bytes, n))
                    marks.out_bytes += n
            if content.get("turnComplete") or content.get("interrupted"):
                marks.new_reply = True
        await orig_send(self, message)

    conv.__init__ = init  # type: ignore[method-assign]
    conv._realtime_input = realtime_input  # type: ignore[method-assign]
    chan.send = send  # type: ignore[method-assign]
    conv._bench_hooked = True  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- audio


def _speech_like(seconds: float, seed: int) -> np.ndarray:
    """Voiced, syllable-modulated harmonics at about -20 dBFS, 48 kHz mono int16."""
    n = int(IN_RATE * seconds)
    t = np.arange(n) / IN_RATE
    f0 = 120 + 10 * seed % 60
    voice = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 8))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t) ** 2
    signal = voice * syllables
    signal *= 0.1 / np.sqrt(np.mean(signal ** 2))
    return (signal * 32767).astype("<i2")


def _frames(mono: np.ndarray) -> list[av.AudioFrame]:
    spf = int(IN_RATE * FRAME_S)
    out = []
    for start in range(0, len(mono) - spf + 1, spf):
        frame = av.AudioFrame.from_ndarray(np.repeat(mono[start:start + spf], 2).reshape(1, -1),
                                           format="s16", layout="stereo")
        frame.sample_rate = IN_RATE
        out.append(frame)
    return out


# ----------------------------------------------------------------------------- one session


class _Client:
    """One simulated browser session: a bridge, its feeder and its reader."""

    def __init__(self, index: int, config: ServiceConfig, stop: threading.Event) -> None:
        self.tag = f"bench-{index:03d}"
        self.bridge = VoiceBridge(name=self.tag)
        settings = LiveSettings(model=MODEL, system_instruction=f"You are a benchmark voice session.\n{self.tag}")
        self.factory = lambda sink: LiveSession(config=config, settings=settings, audio_sink=sink,
                                                name=f"live-{self.tag}")
        self.stop = stop
        self.speech = _frames(_speech_like(SPEECH_S, index))
        self.silence = _frames(np.zeros(int(IN_RATE * FRAME_S), dtype="<i2"))[0]
        self.fed: list[tuple[float, int]] = []  # (t handed to the bridge, cumulative samples sent after)
        self.ticks: list[tuple[float, int, int]] = []  # (t, read bytes before, read bytes after)
        self.utterances = 0
        self.late_ticks = 0
        self.threads: list[threading.Thread] = []

    def connect(self) -> None:
        self.bridge.sync_stream(playing=False, signalling=True, factory=self.factory, key="bench")

    def ready(self) -> bool:
        session = self.bridge.session
        return session is not None and session.state is SessionState.READY

    def start(self, t0: float) -> None:
        self.threads = [threading.Thread(target=self._feed, args=(t0,), name=f"{self.tag}-feed", daemon=True),
                        threading.Thread(target=self._read, args=(t0,), name=f"{self.tag}-read", daemon=True)]
        for thread in self.threads:
            thread.start()

    def _feed(self, t0: float) -> None:
        bridge = self.bridge
        speaking, position = True, 0
        next_utterance_after = -1
        done_replies = 0
        i = 0
        while not self.stop.is_set():
            due = t0 + i * FRAME_S
            delay = due - time.monotonic()
            if delay > 0 and self.stop.wait(delay):
                break
            if speaking:
                frame = self.speech[position]
                position += 1
                if position == len(self.speech):
                    speaking, position = False, 0
                    self.utterances += 1
            else:
                frame = self.silence
                replies = bridge.replies_completed
                if replies > done_replies and bridge.playback.buffered_seconds == 0.0:
                    done_replies = replies
                    next_utterance_after = i + int(GAP_S / FRAME_S)
                if next_utterance_after >= 0 and i >= next_utterance_after:
                    speaking, next_utterance_after = True, -1
            t = time.monotonic()
            bridge.on_uplink_frame(frame)
            self.fed.append((t, bridge.stats().samples_sent))
            if i % 25 == 0:
                bridge.poll_events()  # what the page's fragment does; keeps queues short
            i += 1

    def _read(self, t0: float) -> None:
        # Like streamlit-webrtc's AudioSourceTrack: frame k is due at start + k * 20 ms.
        bridge = self.bridge
        tb = Fraction(1, OUT_RATE)
        k = 0
        while not self.stop.is_set():
            delay = t0 + k * FRAME_S - time.monotonic()
            if delay > 0:
                if self.stop.wait(delay):
                    break
            elif delay < -FRAME_S:
                self.late_ticks += 1
            before = bridge.playback.stats().read_bytes
            t = time.monotonic()
            bridge.next_downlink_frame(k * 480, tb)
            self.ticks.append((t, before, bridge.playback.stats().read_bytes))
            k += 1

    def join(self, timeout: float) -> None:
        for thread in self.threads:
            thread.join(timeout)


# ----------------------------------------------------------------------------- analysis


def _uplink_latencies(client: _Client, marks: _Marks) -> list[float]:
    times = [t for t, _ in marks.arrivals]
    counts = [c for _, c in marks.arrivals]
    out, previous = [], 0
    for t_fed, cumulative in client.fed:
        if cumulative <= previous:
            continue  # nothing new left the bridge with this frame (resampler start-up)
        previous = cumulative
        j = bisect.bisect_left(counts, cumulative)
        if j < len(times):
            out.append(times[j] - t_fed)
    return out


def _downlink_latencies(client: _Client, marks: _Marks) -> tuple[list[float], list[float]]:
    """(first chunk of each reply, every chunk) added latencies in seconds."""
    ticks = [(t, before, after) for t, before, after in client.ticks if after > before]
    afters = [after for _, _, after in ticks]

    def play_time(byte: int) -> float | None:
        j = bisect.bisect_right(afters, byte)
        if j >= len(ticks):
            return None
        t, before, _ = ticks[j]
        return t + (byte - before) / 2 / OUT_RATE

    first, every = [], []
    for index, (t_send, start, _n) in enumerate(marks.sends):
        played = play_time(start)
        if played is None:
            continue
        ideal = t_send
        if start > 0:
            previous = play_time(start - 2)
            if previous is not None:
                ideal = max(ideal, previous + 1 / OUT_RATE)
        added = max(0.0, played - ideal)
        every.append(added)
        if index in marks.first_of_reply:
            first.append(added)
    return first, every


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


@dataclass
class Result:
    n: int
    replies: int
    underruns: int
    up_dropped: int
    down_dropped_bytes: int
    up: list[float]
    down_first: list[float]
    down_all: list[float]
    late_ticks: int
    cpu: float
    connect_s: float


def run(n: int, seconds: float) -> Result:
    _MARKS.clear()
    _CHANNEL_TAGS.clear()
    server = EmulatorServer(API_KEY, options=EmulatorOptions(realtime=True))
    server.start()
    stop = threading.Event()
    config = ServiceConfig(api_key=API_KEY, base_url=server.base_url, ca_file=server.ca_file, model=MODEL)
    clients = [_Client(i, config, stop) for i in range(n)]
    try:
        t_connect = time.monotonic()
        for client in clients:
            client.connect()
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        for client in clients:
            while not client.ready():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{client.tag} not ready: {client.bridge.status()}")
                client.bridge.wait_for_events(0.5)
        connect_s = time.monotonic() - t_connect
        cpu0, wall0 = os.times(), time.monotonic()
        t0 = time.monotonic() + 0.1
        for client in clients:
            client.start(t0)
        stop.wait(seconds)
        cpu1, wall1 = os.times(), time.monotonic()
    finally:
        stop.set()
        for client in clients:
            client.join(5.0)
        for client in clients:
            client.bridge.close()
        server.stop()
    cpu = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / (wall1 - wall0)
    up, first, every = [], [], []
    replies = underruns = up_dropped = down_dropped = late = 0
    for client in clients:
        marks = _MARKS.get(client.tag, _Marks())
        up += _uplink_latencies(client, marks)
        f, e = _downlink_latencies(client, marks)
        first += f
        every += e
        stats = client.bridge.stats()
        replies += client.bridge.replies_completed
        underruns += stats.playback.underruns
        down_dropped += stats.playback.dropped_bytes
        session = client.bridge.session
        last = session.stats() if session is not None else {}
        up_dropped += int(last.get("audio_chunks_dropped", 0))
        late += client.late_ticks
    return Result(n, replies, underruns, up_dropped, down_dropped, up, first, every, late, cpu, connect_s)


def _row(r: Result) -> str:
    return (f"{r.n:>4} {r.replies:>7} {r.underruns:>9} {r.up_dropped:>7} {r.down_dropped_bytes:>9} "
            f"{_pct(r.up, .5):>7.1f} {_pct(r.up, .95):>7.1f} {_pct(r.down_first, .5):>8.1f} "
            f"{_pct(r.down_first, .95):>8.1f} {_pct(r.down_all, .95):>8.1f} {r.late_ticks:>5} "
            f"{r.cpu:>5.2f} {r.connect_s:>7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 10 and shorter runs")
    parser.add_argument("--sessions", default=None, help="comma-separated N values (default 1,10,25,50)")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds per N (default 20; quick 12)")
    parser.add_argument("--emulator-nagle", action="store_true",
                        help="keep Nagle's algorithm on the emulator's connections (its default)")
    args = parser.parse_args()
    global _NODELAY
    _NODELAY = not args.emulator_nagle
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sizes = [int(x) for x in (args.sessions or ("1,10" if args.quick else "1,10,25,50")).split(",")]
    seconds = args.seconds or (12.0 if args.quick else 20.0)
    _install_hooks()
    print(f"bench_sessions: {seconds:g} s of real-time audio per N, {os.cpu_count()} CPUs, "
          f"uplink 48 kHz stereo 20 ms frames, downlink 24 kHz mono 20 ms frames")
    header = ("   N replies underruns up_drop down_drop  up_p50  up_p95 dn1st_50 dn1st_95 dnall_95 late "
              "  cpu connect")
    print(header)
    print("                                   (bytes)    (ms)    (ms)     (ms)     (ms)     (ms) ticks "
          "(cores)    (s)")
    results = []
    for n in sizes:
        result = run(n, seconds)
        results.append(result)
        print(_row(result), flush=True)
    worst = results[-1]
    ok = (worst.underruns == 0 and _pct(worst.up, .95) <= 40 and _pct(worst.down_first, .95) <= 40)
    print(f"acceptance at N={worst.n} (zero underruns, p95 <= 40 ms each way): {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
