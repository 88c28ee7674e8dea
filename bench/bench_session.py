"""Benchmark: what LiveSession costs on top of the bare SDK, against the local emulator.

Figures (medians over repeats; the baseline is measured in the same run):

* connect: ``LiveSession.start()`` → READY, against the bare SDK doing the same work
  (mint a locked token, ``client.aio.live.connect``) on one asyncio loop;
* turn: a typed question → the final model transcript, LiveSession against the bare SDK;
* reconnect gap: goAway at a turn boundary → READY on the next connection (resumed);
* send_audio: cost of one 20 ms 48 kHz frame hand-off from the caller's thread, against a
  bare lock + deque append; and the uplink throughput (seconds of 48 kHz audio the session
  resampled and delivered per wall-clock second).

    .venv/bin/python bench/bench_session.py           # 15 repeats
    .venv/bin/python bench/bench_session.py --quick   # 4 repeats
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import threading
import time
import warnings
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from google.genai import types  # noqa: E402

from livechat.config import ServiceConfig, make_client  # noqa: E402
from livechat.emulator import EmulatorOptions, EmulatorServer  # noqa: E402
from livechat.live.events import SessionState, StateChanged, TranscriptUpdate  # noqa: E402
from livechat.live.session import LiveSession, SessionOptions  # noqa: E402
from livechat.live.tokens import LiveSettings, amint_live_token  # noqa: E402

warnings.filterwarnings("ignore", message=".*experimental.*")
KEY = "bench-key"
SETTINGS = LiveSettings(model="gemini-2.5-flash-native-audio-preview-12-2025",
                        system_instruction="You are a benchmark.\nAnswer briefly.")


def _wait(session: LiveSession, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        for event in session.poll_events(0.2):
            if predicate(event):
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark condition not met; state {session.state}")


def _ready(event) -> bool:
    return isinstance(event, StateChanged) and event.state is SessionState.READY


def _answered(event) -> bool:
    return isinstance(event, TranscriptUpdate) and event.final and event.role == "model"


def bench_session(config: ServiceConfig, repeats: int) -> tuple[list[float], list[float]]:
    connect, turn = [], []
    for index in range(repeats):
        session = LiveSession(config=config, settings=SETTINGS, options=SessionOptions(name=f"bench-{index}"))
        t0 = time.perf_counter()
        session.start()
        _wait(session, _ready)
        connect.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        session.send_text(f"Live question {index:03d}?")
        _wait(session, _answered)
        turn.append(time.perf_counter() - t0)
        session.stop()
    return connect, turn


def bench_bare_sdk(config: ServiceConfig, repeats: int, prefix: str = "Bare") -> tuple[list[float], list[float]]:
    async def one(index: int, prefix: str) -> tuple[float, float]:
        t0 = time.perf_counter()
        key_client = make_client(config, api_key=KEY)
        token = await amint_live_token(key_client, SETTINGS)
        client = make_client(config, api_key=token)
        async with client.aio.live.connect(model=SETTINGS.model,
                                           config=types.LiveConnectConfig()) as live:
            connected = time.perf_counter() - t0
            t0 = time.perf_counter()
            await live.send_realtime_input(text=f"{prefix} question {index:03d}?")
            async for message in live.receive():
                pass
            answered = time.perf_counter() - t0
        for c in (client, key_client):
            await c.aio.aclose()
            c.close()
        return connected, answered

    connect, turn = [], []
    for index in range(repeats):
        c, t = asyncio.run(one(index, prefix))
        connect.append(c)
        turn.append(t)
    return connect, turn


def bench_reconnect_gap(server: EmulatorServer, config: ServiceConfig, repeats: int) -> list[float]:
    server.set_options(go_away_after_s=0.05, go_away_time_left_s=5.0)
    gaps: list[float] = []
    session = LiveSession(config=config, settings=SETTINGS, options=SessionOptions(name="bench-reconnect"))
    session.start()
    _wait(session, _ready)
    session.send_text("Seed a handle?")
    _wait(session, _answered)
    started: float | None = None
    deadline = time.monotonic() + 60
    while len(gaps) < repeats and time.monotonic() < deadline:
        for event in session.poll_events(0.2):
            if isinstance(event, StateChanged) and event.state is SessionState.RECONNECTING:
                started = event.at
            elif _ready(event) and started is not None:
                gaps.append(event.at - started)
                started = None
    resumed = session.stats()["resumed"]
    session.stop()
    server.set_options(go_away_after_s=None)
    if resumed < len(gaps):
        print(f"  note: {len(gaps) - resumed} of {len(gaps)} reconnections were not resumptions")
    return gaps


def bench_send_audio(server: EmulatorServer, config: ServiceConfig, frames: int) -> tuple[float, float, float]:
    frame = bytes(1920)  # 20 ms of 48 kHz mono PCM16 (silence: no turns)
    lock, baseline_q = threading.Lock(), deque()
    t0 = time.perf_counter()
    for _ in range(frames):
        with lock:
            baseline_q.append((bytes(frame), 48_000))
    baseline_us = (time.perf_counter() - t0) / frames * 1e6

    session = LiveSession(config=config, settings=SETTINGS, options=SessionOptions(name="bench-audio", audio_buffer_seconds=frames * 0.02 + 1))
    session.start()
    _wait(session, _ready)
    t0 = time.perf_counter()
    for _ in range(frames):
        session.send_audio(frame, 48_000)
    ours_us = (time.perf_counter() - t0) / frames * 1e6
    total_s = frames * 0.02
    server.wait_for(lambda s: s and s[-1]["audio_in_seconds"] >= total_s - 0.05, timeout=120)
    throughput = total_s / (time.perf_counter() - t0)
    dropped = session.stats()["audio_chunks_dropped"]
    session.stop()
    if dropped:
        print(f"  note: {dropped} frames dropped")
    return ours_us, baseline_us, throughput


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run")
    args = parser.parse_args()
    repeats = 4 if args.quick else 15
    frames = 500 if args.quick else 3000
    with EmulatorServer(KEY, options=EmulatorOptions(realtime=False)) as server:
        config = ServiceConfig(api_key=KEY, base_url=server.base_url, ca_file=server.ca_file)
        bench_bare_sdk(config, 1, prefix="Warm")  # imports, TLS; distinct texts: no speech-cache hits
        bare_connect, bare_turn = bench_bare_sdk(config, repeats)
        ours_connect, ours_turn = bench_session(config, repeats)
        gaps = bench_reconnect_gap(server, config, repeats)
        ours_us, base_us, throughput = bench_send_audio(server, config, frames)

    print(f"LiveSession vs bare SDK, {repeats} repeats (median)")
    print(f"  connect (mint + setup): {_ms(ours_connect):7.1f} ms vs {_ms(bare_connect):7.1f} ms"
          f"  ratio {statistics.median(ours_connect) / statistics.median(bare_connect):.2f}")
    print(f"  typed turn:             {_ms(ours_turn):7.1f} ms vs {_ms(bare_turn):7.1f} ms"
          f"  ratio {statistics.median(ours_turn) / statistics.median(bare_turn):.2f}")
    print(f"  goAway reconnect gap:   {_ms(gaps):7.1f} ms (RECONNECTING → READY, {len(gaps)} samples)")
    print(f"  send_audio per frame:   {ours_us:7.2f} µs vs {base_us:5.2f} µs (lock + deque)"
          f"  ratio {ours_us / base_us:.1f}")
    print(f"  uplink throughput:      {throughput:7.1f} × real time "
          f"({frames} frames of 48 kHz resampled to 16 kHz and delivered)")


if __name__ == "__main__":
    main()
