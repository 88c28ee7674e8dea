"""Benchmark: per-20 ms-frame cost of livechat.audio.pcm against bare PyAV, in the same run.

Uplink: a 48 kHz stereo s16 browser frame (960 samples) → 16 kHz mono PCM16 bytes.
Downlink: 20 ms of 24 kHz mono PCM16 read from a PlaybackBuffer → one 48 kHz stereo
s16 frame of exactly 960 samples. The baseline does the same conversions on the same
input with nothing but ``av.AudioResampler`` calls (and the minimum needed to get
bytes out / a frame in). Figures are medians over repeats; the real-time factor is
20 ms divided by the cost of one frame.

    .venv/bin/python bench/bench_audio.py            # 5,000 frames x 7 repeats
    .venv/bin/python bench/bench_audio.py --quick    # 1,000 frames x 3 repeats
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livechat.audio.pcm import DownlinkConverter, UplinkConverter  # noqa: E402
from livechat.audio.playback import PlaybackBuffer  # noqa: E402

FRAME_US = 20_000.0
LIMIT = 1.3  # acceptance: our up+down ≤ 1.3 × bare PyAV of the same run


def _browser_frames(n: int) -> list[av.AudioFrame]:
    """n 20 ms frames as Chromium delivers them: s16 packed, 48 kHz, stereo, speech-like noise."""
    rng = np.random.default_rng(0)
    t = np.arange(960 * n) / 48_000
    left = 8_000 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 1_500, t.size)
    right = 6_000 * np.sin(2 * np.pi * 330 * t) + rng.normal(0, 1_500, t.size)
    inter = np.stack([left, right], axis=1).round().clip(-32768, 32767).astype("<i2")
    frames = []
    for i in range(n):
        f = av.AudioFrame.from_ndarray(
            inter[i * 960 : (i + 1) * 960].reshape(1, -1), format="s16", layout="stereo"
        )
        f.sample_rate = 48_000
        f.pts = i * 960
        f.time_base = Fraction(1, 48_000)
        frames.append(f)
    return frames


def _reply_pcm(n: int) -> bytes:
    """n × 20 ms of 24 kHz mono reply audio."""
    rng = np.random.default_rng(1)
    t = np.arange(480 * n) / 24_000
    x = 9_000 * np.sin(2 * np.pi * 180 * t) + rng.normal(0, 1_000, t.size)
    return x.round().clip(-32768, 32767).astype("<i2").tobytes()


def _time(fn: Callable[[], int]) -> float:
    """Run fn once with the collector off; returns µs per frame (fn returns its frame count)."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        n = fn()
        elapsed = time.perf_counter_ns() - t0
    finally:
        gc.enable()
    return elapsed / 1_000 / n


def ours_up(frames: list[av.AudioFrame]) -> Callable[[], int]:
    def run() -> int:
        conv = UplinkConverter()
        sink = []
        for f in frames:
            sink.append(conv.convert(f))
        return len(frames)

    return run


def bare_up(frames: list[av.AudioFrame]) -> Callable[[], int]:
    def run() -> int:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        sink = []
        for f in frames:
            for out in resampler.resample(f):
                sink.append(bytes(out.planes[0]))
        return len(frames)

    return run


def ours_down(pcm: bytes, n: int) -> Callable[[], int]:
    def run() -> int:
        buf = PlaybackBuffer(sample_rate=24_000, max_seconds=len(pcm) / 48_000 + 1)
        buf.write(pcm)
        conv = DownlinkConverter()
        sink = []
        for i in range(n):
            sink.append(
                conv.to_frame(buf.read(960), rate=48_000, layout="stereo", samples=960, pts=i * 960)
            )
        return n

    return run


def bare_down(pcm: bytes, n: int) -> Callable[[], int]:
    def run() -> int:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=48_000)
        view = memoryview(pcm)
        sink = []
        for i in range(n):
            f = av.AudioFrame(format="s16", layout="mono", samples=480)
            f.planes[0].update(view[i * 960 : (i + 1) * 960])
            f.sample_rate = 24_000
            sink.extend(resampler.resample(f))
        return n

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 frames x 3 repeats")
    parser.add_argument("--frames", type=int, default=None, help="frames per run")
    parser.add_argument("--repeats", type=int, default=None, help="runs per figure (median)")
    parser.add_argument(
        "--strict", action="store_true", help=f"exit 1 if up+down exceeds {LIMIT}x bare PyAV"
    )
    args = parser.parse_args(argv)
    n = args.frames or (1_000 if args.quick else 5_000)
    repeats = args.repeats or (3 if args.quick else 7)

    frames = _browser_frames(n)
    pcm = _reply_pcm(n)
    cases = {
        "ours_up": ours_up(frames),
        "bare_up": bare_up(frames),
        "ours_down": ours_down(pcm, n),
        "bare_down": bare_down(pcm, n),
    }
    for run in cases.values():  # warm-up: imports, allocator, FFmpeg filter registry
        run()
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeats):
        # Interleave so both sides see the same machine load.
        for name, run in cases.items():
            samples[name].append(_time(run))
    med = {k: statistics.median(v) for k, v in samples.items()}

    print(f"audio conversion cost per 20 ms frame ({n} frames, median of {repeats} runs)")
    print(f"{'path':<34}{'ours µs':>10}{'bare µs':>10}{'ratio':>8}{'RTF ours':>10}{'RTF bare':>10}")
    rows = [
        ("uplink   48k stereo s16 → 16k mono", med["ours_up"], med["bare_up"]),
        ("downlink buffer 24k → 48k stereo", med["ours_down"], med["bare_down"]),
        (
            "up + down",
            med["ours_up"] + med["ours_down"],
            med["bare_up"] + med["bare_down"],
        ),
    ]
    for label, ours, bare in rows:
        print(
            f"{label:<34}{ours:>10.1f}{bare:>10.1f}{ours / bare:>8.2f}"
            f"{FRAME_US / ours:>10.0f}{FRAME_US / bare:>10.0f}"
        )
    ratio = rows[-1][1] / rows[-1][2]
    verdict = "PASS" if ratio <= LIMIT else "FAIL"
    print(f"acceptance: up+down ours/bare = {ratio:.2f} (limit {LIMIT:.2f}) {verdict}")
    spread = {k: (min(v), max(v)) for k, v in samples.items()}
    print(
        "spread (min-max µs): "
        + ", ".join(f"{k} {lo:.1f}-{hi:.1f}" for k, (lo, hi) in spread.items())
    )
    return 1 if args.strict and verdict == "FAIL" else 0


if __name__ == "__main__":
    sys.exit(main())
