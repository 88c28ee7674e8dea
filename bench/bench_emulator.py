"""Benchmark the Live API emulator; prints figures (never asserts).

    .venv/bin/python bench/bench_emulator.py [--quick]

Figures, each with a baseline measured in the same run:
  * start+stop of a server;
  * token mint through the SDK vs a plain GET on the same server (REST overhead);
  * Live connect to setupComplete through the SDK vs a raw websockets client;
  * a text turn (realtime=False): time to first audio and to turnComplete;
  * received-audio processing (resample 48 kHz -> 16 kHz, envelope, VAD) as x real time;
  * reply synthesis: uncached vs cached;
  * real-time pacing: wall time of a paced reply vs its audio duration.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import ssl
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from google import genai  # noqa: E402
from google.genai import types  # noqa: E402

from livechat.emulator import EmulatorOptions, EmulatorServer  # noqa: E402
from livechat.emulator.audio import EnvelopeMeter, StreamResampler  # noqa: E402
from livechat.emulator.vad import EnergyVad  # noqa: E402
from livechat.emulator.voice import Synthesizer  # noqa: E402

warnings.filterwarnings("ignore")
MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
KEY = "bench-key"


def client_for(server: EmulatorServer, key: str) -> genai.Client:
    context = ssl.create_default_context(cafile=server.ca_file)
    return genai.Client(api_key=key, http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1alpha", client_args={"verify": context},
        async_client_args={"ssl": context}))


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.1f} ms  (min {min(values) * 1000:.1f}, n={len(values)})"


def bench_start_stop(n: int) -> None:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        EmulatorServer(KEY).start().stop()
        times.append(time.perf_counter() - t0)
    print(f"server start+stop          {ms(times)}")


def bench_mint(server: EmulatorServer, n: int) -> None:
    client = client_for(server, KEY)
    now = dt.datetime.now(dt.timezone.utc)
    config = {"uses": 1, "expire_time": now + dt.timedelta(minutes=30),
              "live_connect_constraints": {"model": MODEL, "config": {
                  "system_instruction": "x" * 2000, "response_modalities": ["AUDIO"]}}}
    client.auth_tokens.create(config=config)  # warm the connection pool
    mint_times = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.auth_tokens.create(config=config)
        mint_times.append(time.perf_counter() - t0)
    import httpx2
    http = httpx2.Client(verify=ssl.create_default_context(cafile=server.ca_file))
    http.get(server.base_url + "/emulator/tokens")
    base_times = []
    for _ in range(n):
        t0 = time.perf_counter()
        http.post(server.base_url + "/v1alpha/nothing", json={})  # 404 path: routing + TLS, no work
        base_times.append(time.perf_counter() - t0)
    http.close()
    print(f"mint via SDK               {ms(mint_times)}")
    print(f"  baseline: POST 404       {ms(base_times)}  ratio {statistics.median(mint_times) / statistics.median(base_times):.2f}x")


async def bench_connect(server: EmulatorServer, n: int) -> None:
    import websockets
    client = client_for(server, KEY)
    sdk_times, raw_times = [], []
    uri = server.base_url.replace("https://", "wss://") + \
        "/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent"
    context = ssl.create_default_context(cafile=server.ca_file)
    for _ in range(n):
        t0 = time.perf_counter()
        async with client.aio.live.connect(model=MODEL):
            sdk_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        async with websockets.connect(uri, ssl=context, additional_headers={"x-goog-api-key": KEY}) as ws:
            await ws.send(json.dumps({"setup": {"model": f"models/{MODEL}"}}))
            await ws.recv()
            raw_times.append(time.perf_counter() - t0)
    print(f"connect->setupComplete SDK {ms(sdk_times)}")
    print(f"  baseline: raw websockets {ms(raw_times)}  ratio {statistics.median(sdk_times) / statistics.median(raw_times):.2f}x")


async def bench_text_turn(server: EmulatorServer, n: int) -> None:
    client = client_for(server, KEY)
    first_audio, complete = [], []
    async with client.aio.live.connect(model=MODEL, config={"system_instruction": "Bench"}) as session:
        for index in range(n):
            t0 = time.perf_counter()
            await session.send_realtime_input(text=f"question {index % 3}")  # 3 texts: mostly cached audio
            got_audio = False
            async for message in session.receive():
                if message.data and not got_audio:
                    first_audio.append(time.perf_counter() - t0)
                    got_audio = True
            complete.append(time.perf_counter() - t0)
    print(f"text turn: first audio     {ms(first_audio)}")
    print(f"text turn: turnComplete    {ms(complete)}")


def bench_audio_in(seconds: float) -> None:
    rate = 48000
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.2 * np.sin(2 * np.pi * 200 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
    chunks = np.array_split(signal, int(seconds / 0.02))  # 20 ms, like the browser
    resampler, meter = StreamResampler(rate), EnvelopeMeter()
    vad = EnergyVad(threshold_dbfs=-45, min_speech_ms=200, silence_ms=600)
    t0 = time.perf_counter()
    events = 0
    for chunk in chunks:
        events += len(vad.feed(meter.feed(resampler.process(chunk))))
    elapsed = time.perf_counter() - t0
    baseline_t0 = time.perf_counter()
    for chunk in chunks:
        np.frombuffer(chunk.tobytes(), dtype=np.float64).copy()  # baseline: touch the bytes only
    baseline = time.perf_counter() - baseline_t0
    print(f"audio in (48k->16k+VAD)    {seconds / elapsed:9.0f}x real time  ({len(chunks)} chunks, {events} VAD events)"
          f"  vs copy-only baseline {elapsed / baseline:.1f}x slower")


def bench_synthesis(n: int) -> None:
    synth = Synthesizer()
    texts = [f'You said: "question number {i}". My instructions begin: "Bench" (5 characters).' for i in range(n)]
    t0 = time.perf_counter()
    audio = [synth.synthesize(text) for text in texts]
    cold = (time.perf_counter() - t0) / n
    t0 = time.perf_counter()
    for text in texts:
        synth.synthesize(text)
    warm = (time.perf_counter() - t0) / n
    seconds = statistics.mean(len(a) / 48000 for a in audio)
    print(f"synthesis ({synth.engine})     uncached {cold * 1000:.1f} ms per reply of {seconds:.1f} s audio; "
          f"cached {warm * 1e6:.1f} us ({cold / warm:.0f}x faster)")


async def bench_pacing() -> None:
    with EmulatorServer(KEY, options=EmulatorOptions(realtime=True)) as server:
        client = client_for(server, KEY)
        async with client.aio.live.connect(model=MODEL) as session:
            await session.send_realtime_input(text="pace me")
            first = last = None
            audio = 0
            async for message in session.receive():
                if message.data:
                    now = time.perf_counter()
                    first = first or now
                    last = now
                    audio += len(message.data)
    duration = audio / 48000
    wall = (last or 0) - (first or 0)
    print(f"real-time pacing           {wall:.2f} s wall for {duration:.2f} s audio "
          f"(ratio {wall / duration:.3f}; 0.2 s lead by design)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    n = 5 if args.quick else 30
    bench_start_stop(3 if args.quick else 10)
    with EmulatorServer(KEY, options=EmulatorOptions(realtime=False)) as server:
        bench_mint(server, n)
        asyncio.run(bench_connect(server, n))
        asyncio.run(bench_text_turn(server, n))
    bench_audio_in(20.0 if args.quick else 120.0)
    bench_synthesis(3 if args.quick else 10)
    if not args.quick:
        asyncio.run(bench_pacing())


if __name__ == "__main__":
    main()
