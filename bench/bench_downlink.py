"""CPU of the reply downlink per second of reply audio, counted in CPU time (not wall time).

``bench_sessions`` reports CPU per wall second, which a shared, loaded machine distorts (a
starved process does less work and so uses less CPU). This counts ``time.process_time()`` for a
fixed amount of work, so runs at different loads compare. Three parts of the path a reply takes
from the Live session to aiortc's sender:

- **ours**: 24 kHz reply chunks (40 ms, as the emulator sends them) written through the bridge's
  ``ReplyPath`` into its ``PlaybackBuffer``, and 20 ms frames read through ``Downlink.next_frame``
  (what ``bench_sessions`` exercises). Runs on whichever branch it is started from, so the
  before/after comparison is: this script on main, then on the change.
- **encoder**: aiortc's ``OpusEncoder.encode`` per 20 ms frame, fed 24 kHz mono frames (before:
  it resampled them to 48 kHz) or 48 kHz mono frames (now).
- **relay**: handing frames from a source track to a consumer through streamlit-webrtc's two
  buffered ``MediaRelay`` proxies (before) or directly (now), on one asyncio loop.

    .venv/bin/python bench/bench_downlink.py [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from livechat.audio.pcm import resample_pcm16  # noqa: E402
from livechat.audio.playback import PlaybackBuffer  # noqa: E402
from livechat.voice.downlink import DOWNLINK_RATE, Downlink  # noqa: E402
from livechat.voice.reply import ReplyPath  # noqa: E402


def _reply(seconds: float) -> bytes:
    t = np.arange(int(24_000 * seconds)) / 24_000
    voice = sum(np.sin(2 * np.pi * 140 * h * t) / h for h in range(1, 6)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
    return (voice / np.abs(voice).max() * 8000).astype("<i2").tobytes()


def ours(seconds: float) -> float:
    """CPU µs per 20 ms of reply audio through ReplyPath -> PlaybackBuffer -> Downlink."""
    playback = PlaybackBuffer(sample_rate=DOWNLINK_RATE, max_seconds=30.0)
    path = ReplyPath(playback, streaming=lambda: True, max_reply_bytes=24_000 * 2 * 60)
    tap, downlink = path.new_tap(), Downlink(playback, before_read=path.deliver)
    reply = _reply(10.0)
    chunk = 1920  # 40 ms at 24 kHz
    spf = int(DOWNLINK_RATE * 0.02)
    tb = Fraction(1, DOWNLINK_RATE)
    frames = 0
    start = time.process_time()
    for _ in range(max(1, int(seconds / 10))):
        for i in range(0, len(reply), chunk):
            tap.write(reply[i:i + chunk])
            for _ in range(2):
                downlink.next_frame(frames * spf, tb)
                frames += 1
        tap.end_of_turn()
    return (time.process_time() - start) / frames * 1e6


def _frames(rate: int, n: int) -> list[av.AudioFrame]:
    reply = _reply(n * 0.02 + 0.1)
    # The same audio at either rate (resampled like the reply path does, not sample-doubled:
    # the images doubling adds would cost the encoder more and skew the comparison).
    pcm = np.frombuffer(reply if rate == 24_000 else resample_pcm16(reply, 24_000, rate), dtype="<i2")
    spf = int(rate * 0.02)
    out = []
    for k in range(n):
        frame = av.AudioFrame.from_ndarray(pcm[k * spf:(k + 1) * spf].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, k * spf, Fraction(1, rate)
        out.append(frame)
    return out


def encoder(rate: int, n: int) -> float:
    """CPU µs per 20 ms frame in aiortc's Opus encoder, fed mono frames at ``rate``."""
    from aiortc.codecs.opus import OpusEncoder

    frames, enc = _frames(rate, n), OpusEncoder()
    start = time.process_time()
    for frame in frames:
        enc.encode(frame)
    return (time.process_time() - start) / n * 1e6


def relay(direct: bool, n: int) -> float:
    """CPU µs per frame handed from a source track to its consumer (relayed twice, or directly)."""
    from aiortc.contrib.media import MediaRelay
    from aiortc.mediastreams import MediaStreamTrack

    frame = _frames(48_000, 1)[0]

    class Source(MediaStreamTrack):
        kind = "audio"

        async def recv(self) -> av.AudioFrame:
            await asyncio.sleep(0)  # a real source yields to the loop between frames
            return frame

    async def run() -> float:
        source: MediaStreamTrack = Source()
        if not direct:
            relay_ = MediaRelay()
            source = relay_.subscribe(relay_.subscribe(source))  # what streamlit-webrtc does
        start = time.process_time()
        for _ in range(n):
            await source.recv()
        return (time.process_time() - start) / n * 1e6

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of reply audio per case (default 60)")
    args = parser.parse_args()
    n = int(args.seconds / 0.02)
    print(f"bench_downlink: CPU time per 20 ms frame ({args.seconds:g} s of reply audio per case)")
    print(f"  ours (ReplyPath + PlaybackBuffer + Downlink at {DOWNLINK_RATE} Hz): {ours(args.seconds):6.1f} µs")
    # Interleaved, best of three: the encoder dominates and the machine may be shared.
    enc24 = min(encoder(24_000, n // 3) for _ in range(3))
    enc48 = min(encoder(48_000, n // 3) for _ in range(3))
    print(f"  aiortc OpusEncoder, 24 kHz mono frames (before):    {enc24:6.1f} µs")
    print(f"  aiortc OpusEncoder, 48 kHz mono frames (now):       {enc48:6.1f} µs")
    print(f"  two buffered MediaRelay proxies (before):           {relay(False, n):6.1f} µs")
    print(f"  direct to the sender (now):                         {relay(True, n):6.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
