"""Benchmark: how reliably voice starts in a real browser, and how soon the first reply is heard.

Each run starts everything fresh: an emulator (in this process, real-time pacing, a new
random key), the app (``streamlit run app.py``), and headless Chromium with a new profile
whose microphone loops the spoken question. It opens ``/talk``, clicks START (once more
if STOP has not appeared within 8 s, as ``shared/E2E.md`` allows) and counts a run as a
success when voice carried speech both ways:

- up: the emulator received >= 1 s of 16 kHz audio on a token session whose energy
  envelope matches the WAV's (correlation >= 0.6 over >= 4 s, one whole loop);
- down: the browser's inbound ``totalAudioEnergy`` (getStats, sampled every 50 ms in the
  component's frame) rose after the emulator started sending a reply.

It prints the success rate, the START retries needed, the time from the START click to
the first reply audio in the browser (p50, p95) and every failure with its cause; the
app log of each failed run is kept. Acceptance: >= 49 of 50.

The click-to-reply time includes the question itself: the WAV's speech ends ~2.8 s after
capture starts and the emulator's VAD waits 0.6 s of silence, so ~3.4 s of it is the
analyst talking. The script also prints the two system parts: START click to the first
audio at the emulator, and the emulator's first reply chunk to audio in the browser.

Stage by stage (issue 32, ``bench/e2e_stages.py``, ``docs/reply-latency.md``): the app runs with
``LIVECHAT_VOICE_TRACE`` and marks its first reply's way out (received, in the playback buffer,
taken by the track at its deadline, RTP sent); the emulator's send is stamped in this process;
the browser's ``getSynchronizationSources()`` gives when that RTP timestamp was played out, and
``getStats`` NetEq's target and jitter-buffer delay during the reply. Each run prints the old
measure (energy rise, 50 ms polling) and the new one (first chunk sent -> its first sample played
out); the summary prints each stage's p50/p95 for the same runs.

    .venv/bin/python bench/bench_e2e.py              # 50 runs
    .venv/bin/python bench/bench_e2e.py --n 20
    .venv/bin/python bench/bench_e2e.py --quick      # 5 runs
    .venv/bin/python bench/bench_e2e.py --n 10 --load 6   # with 6 busy loops on the host

``--load N`` keeps N bounded busy-loop processes running (each in its own session, like
other programs on the host) for the whole benchmark, to measure calls on a starved host
(issue 33); it prints the 1-minute load average at each run and the microphone gaps over
1 s the apps logged (a late frame pauses a call; it must not end it).

Browser runs need the private network namespace (``scripts/isolated-net``): the script
re-executes itself inside it when it is not already there.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from livechat.voice.stream import GAP_LOG  # noqa: E402  (after the path is set)
try:
    from livechat.voice.trace import TRACE_ENV  # noqa: E402
except ImportError:  # an app from before the trace (to compare NetEq's figures with it)
    TRACE_ENV = "LIVECHAT_VOICE_TRACE"

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e2e_stages  # noqa: E402  (bench/ helper)

MIN_CORRELATION = 0.6
ENVELOPE_SECONDS = 4.0  # one loop of the WAV (0.5 + ~2.3 + 1.0 s) and then some
UPLINK_TIMEOUT_S = 30.0
REPLY_TIMEOUT_S = 20.0


@dataclass
class RunResult:
    index: int
    ok: bool = False
    retries: int = 0
    first_reply_s: float | None = None
    first_uplink_s: float | None = None
    downlink_s: float | None = None  # emulator's first reply chunk -> energy in the browser
    correlation: float | None = None
    cause: str = ""
    stale_reset: bool = False
    load: float = 0.0  # 1-minute load average when the run started
    gaps: int = 0  # microphone gaps over 1 s the app logged
    log: Path | None = None
    stages: e2e_stages.Stages | None = None  # issue 32: the first reply, stage by stage
    extra: dict = field(default_factory=dict)


def _reexec_inside_isolated_net(argv: list[str]) -> None:
    if os.environ.get("LIVECHAT_NETNS") == "isolated":
        return
    wrapper = REPO / "scripts" / "isolated-net"
    probe = os.spawnv(os.P_WAIT, str(wrapper), [str(wrapper), "true"])
    if probe != 0:
        print(f"bench_e2e: scripts/isolated-net cannot create a private network namespace here "
              f"(exit {probe}); browser runs are not possible", file=sys.stderr)
        sys.exit(3)
    os.execv(str(wrapper), [str(wrapper), "env", "LIVECHAT_NETNS=isolated", sys.executable,
                            str(Path(__file__).resolve()), *argv])


def _one_run(index: int, playwright, wav: Path, envelope, work: Path,
             sends: e2e_stages.EmulatorSends) -> RunResult:
    from tests.e2e import harness

    result = RunResult(index, load=os.getloadavg()[0])
    api_key = harness.random_api_key()
    sends.reset()
    emulator = harness.start_emulator(api_key, speech_wpm=190)  # the natural rate, as in earlier figures
    trace = work / f"trace-{index:03d}.jsonl"
    app = harness.AppServer.for_emulator(emulator, api_key, log_path=work / f"run-{index:03d}.log",
                                         extra_env={TRACE_ENV: str(trace)})
    browser = None
    profile = Path(tempfile.mkdtemp(prefix="bench-e2e-profile-", dir=work))
    stage = "app start"
    try:
        app.start()
        stage = "browser start"
        browser = harness.Browser(playwright, profile_dir=profile, wav=wav)
        browser.context.add_init_script(e2e_stages.INIT_SCRIPT)  # after the harness's (it records __pcs)
        tab = browser.new_page()
        stage = "page load"
        tab.open_talk(app.url)
        stage = "START"
        clicked = time.time()
        try:
            result.retries = tab.start_voice()
        except harness.HarnessError:
            result.retries = tab.start_retries
            raise
        stage = "uplink"

        def voice(sessions):
            return harness.voice_sessions(sessions)

        try:
            emulator.wait_for(lambda ss: any(s["audio_in_seconds"] > 0 for s in voice(ss)), timeout=UPLINK_TIMEOUT_S)
            result.first_uplink_s = time.time() - clicked
        except TimeoutError as exc:
            opened = voice(getattr(exc, "sessions", []))
            raise harness.HarnessError("no session opened" if not opened else
                                       f"no audio reached the emulator: {harness.sessions_summary(opened)}") from None
        stage = "reply"
        try:
            # The VAD ends the question ~0.6 s after the speech, before a whole loop has played.
            emulator.wait_for(lambda ss: any(s["audio_out_seconds"] > 0 for s in voice(ss)), timeout=REPLY_TIMEOUT_S)
            reply_sent = time.time()
        except TimeoutError as exc:
            raise harness.HarnessError(
                f"the emulator sent no reply: {harness.sessions_summary(voice(getattr(exc, 'sessions', [])))}") from None
        stage = "uplink shape"
        try:
            sessions = emulator.wait_for(
                lambda ss: any(s["audio_in_seconds"] >= ENVELOPE_SECONDS for s in voice(ss)), timeout=UPLINK_TIMEOUT_S)
        except TimeoutError as exc:
            raise harness.HarnessError(
                f"too little audio reached the emulator: {harness.sessions_summary(voice(getattr(exc, 'sessions', [])))}"
            ) from None
        session = next(s for s in voice(sessions) if s["audio_in_seconds"] >= ENVELOPE_SECONDS)
        if session["audio_in_rate"] != 16000:
            raise harness.HarnessError(f"uplink rate {session['audio_in_rate']} Hz, expected 16000")
        result.correlation = harness.envelope_match(session["audio_in_envelope"], envelope)
        if result.correlation < MIN_CORRELATION:
            raise harness.HarnessError(f"uplink audio not speech-shaped: correlation {result.correlation:.2f}")
        stage = "downlink"
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        rise = None
        while rise is None and time.monotonic() < deadline:
            rise = harness.first_energy_rise(tab.energy_samples(), after=clicked)
            if rise is None:
                tab.page.wait_for_timeout(100)  # poll the page's 50 ms samples
        if rise is None:
            raise harness.HarnessError("the browser's inbound audio energy never rose after the reply started")
        result.downlink_s = rise - reply_sent
        result.first_reply_s = rise - clicked
        result.ok = True
        stage = "stages"
        tab.page.wait_for_timeout(2500)  # the reply's first 2 s for NetEq's figures
        ssrc, neteq = tab.webrtc_frame().evaluate("() => [window.__ssrc || [], window.__neteq || []]")
        (work / f"browser-{index:03d}.json").write_text(json.dumps({"ssrc": ssrc, "neteq": neteq}))
        result.stages = e2e_stages.stages(e2e_stages.read_trace(trace), sends.first_audio[0] if sends.first_audio
                                          else None, ssrc, neteq, heard=rise)
    except Exception as exc:  # every failure is a finding: keep its cause
        if stage == "stages":  # the run passed; only its stage figures are missing
            result.extra["stages_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        else:
            result.cause = f"{stage}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        result.extra["traceback"] = traceback.format_exc(limit=3)
    finally:
        if browser is not None:
            browser.close()
        app.stop()
        emulator.stop()
        shutil.rmtree(profile, ignore_errors=True)
        log = app.log_text()
        result.stale_reset = harness.STALE_RESET_MESSAGE in log
        result.gaps = log.count(GAP_LOG)
        if result.ok and not result.stale_reset:
            app.log_path.unlink(missing_ok=True)
        else:
            result.log = app.log_path
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q
    low, high = int(position), min(int(position) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50, help="fresh runs (default 50)")
    parser.add_argument("--quick", action="store_true", help="5 runs")
    parser.add_argument("--logs", type=Path, default=None, help="keep logs here (default: a temp dir)")
    parser.add_argument("--load", type=int, default=0, help="busy-loop processes to run meanwhile (default 0)")
    args = parser.parse_args(argv)
    _reexec_inside_isolated_net(argv)
    # SIGTERM unwinds like Ctrl-C, so the busy loops, apps and browsers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    from playwright.sync_api import sync_playwright

    from tests.e2e import harness

    reason = harness.e2e_unavailable_reason()
    if reason is not None:
        print(f"bench_e2e: {reason}", file=sys.stderr)
        return 3
    runs = 5 if args.quick else args.n
    work = args.logs or Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    wav = harness.make_speech_wav(work, harness.SPEECH_TEXT, pad_before=0.5, pad_after=1.0)
    envelope = harness.wav_envelope(wav)
    print(f"bench_e2e: {runs} fresh runs (app + emulator + Chromium each); logs in {work}", flush=True)

    from tests.e2e import host_stress

    sends = e2e_stages.EmulatorSends()
    sends.install()
    results: list[RunResult] = []
    started = time.monotonic()
    # Bounded: at most 3 min a run; stopped when the benchmark ends.
    with sync_playwright() as playwright, host_stress.busy_loops(args.load, 180.0 * runs):
        if args.load:
            print(f"bench_e2e: {args.load} busy loops running; load average {os.getloadavg()[0]:.1f}", flush=True)
        for index in range(1, runs + 1):
            result = _one_run(index, playwright, wav, envelope, work, sends)
            results.append(result)
            status = "ok  " if result.ok else "FAIL"
            reply = f"{result.first_reply_s:.2f} s" if result.first_reply_s is not None else "-"
            corr = f"{result.correlation:.2f}" if result.correlation is not None else "-"
            old = f"{result.downlink_s * 1000:.0f}" if result.downlink_s is not None else "-"
            total = result.stages.deltas()["TOTAL first chunk -> played"] if result.stages else None
            new = f"{total * 1000:.0f}" if total is not None else "-"
            print(f"  run {index:3d}: {status} load {result.load:4.1f} gaps {result.gaps} "
                  f"retries={result.retries} first reply {reply} corr {corr} "
                  f"reply chunk->ear old {old} ms new {new} ms"
                  + (f"  [{result.cause}]" if result.cause else "")
                  + ("  [stale-context reset in log]" if result.stale_reset else ""), flush=True)

    ok = [r for r in results if r.ok]
    replies = [r.first_reply_s for r in ok if r.first_reply_s is not None]
    uplinks = [r.first_uplink_s for r in results if r.first_uplink_s is not None]
    downlinks = [r.downlink_s for r in ok if r.downlink_s is not None]
    retries = [r.retries for r in results]
    print()
    print(f"voice started and carried speech both ways: {len(ok)} of {runs} "
          f"({100.0 * len(ok) / runs:.0f}%)   acceptance: >= {math.ceil(0.98 * runs)} of {runs}")
    print(f"START retries: {sum(1 for r in retries if r)} runs needed one "
          f"({sum(retries)} retries in all)")
    if replies:
        print(f"START click -> first reply audio in the browser: p50 {_percentile(replies, 0.5):.2f} s, "
              f"p95 {_percentile(replies, 0.95):.2f} s (n={len(replies)})")
    if uplinks:
        print(f"START click -> first audio at the emulator:      p50 {_percentile(uplinks, 0.5):.2f} s, "
              f"p95 {_percentile(uplinks, 0.95):.2f} s (n={len(uplinks)})")
    if downlinks:
        print(f"emulator's first reply chunk -> audio in the browser: p50 {_percentile(downlinks, 0.5):.2f} s, "
              f"p95 {_percentile(downlinks, 0.95):.2f} s (n={len(downlinks)})")
    staged = [r.stages for r in ok if r.stages is not None]
    if staged:
        print(f"emulator's first reply chunk -> audio in the browser, the same {len(staged)} runs:")
        olds = [r.downlink_s for r in ok if r.stages is not None and r.downlink_s is not None]
        print(f"  old measure (energy rise, 50 ms getStats polling): p50 {_percentile(olds, 0.5) * 1000:.0f} ms, "
              f"p95 {_percentile(olds, 0.95) * 1000:.0f} ms")
        for line in e2e_stages.summary_lines(staged):
            print(line)
        for r in ok:
            if r.stages is not None and r.stages.notes:
                print(f"  run {r.index}: {'; '.join(r.stages.notes)}")
    stage_errors = [(r.index, r.extra["stages_error"]) for r in results if "stages_error" in r.extra]
    for index, error in stage_errors:
        print(f"  run {index}: stage figures missing: {error}")
    correlations = [r.correlation for r in results if r.correlation is not None]
    if correlations:
        print(f"uplink envelope correlation: min {min(correlations):.2f}, median {statistics.median(correlations):.2f}")
    loads = [r.load for r in results]
    print(f"load average at the runs' start: min {min(loads):.1f}, median {statistics.median(loads):.1f}, "
          f"max {max(loads):.1f} ({args.load} busy loops of ours)")
    print(f"microphone gaps over 1 s logged by the apps: {sum(r.gaps for r in results)} in {runs} runs "
          f"(runs with any: {sum(1 for r in results if r.gaps)})")
    stale = [r.index for r in results if r.stale_reset]
    print(f"stale-context resets in the app log: {len(stale)} runs {stale if stale else ''}")
    failures = [r for r in results if not r.ok]
    if failures:
        print("failures:")
        for r in failures:
            print(f"  run {r.index}: {r.cause} (log: {r.log})")
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
