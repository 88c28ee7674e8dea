"""Browser end-to-end harness: the real app, the Live API emulator and headless Chromium.

Used by ``tests/e2e`` and ``bench/bench_e2e.py``. Everything here follows the recipe in
``shared/E2E.md`` (Chromium flags, fake microphone from a WAV, frame locator, getStats
recorder) and the Talk page's DOM contract:

- the Talk page at ``/talk``; ``webrtc_streamer(key="voice")`` in an iframe whose title
  contains ``streamlit_webrtc``, with the library's START/STOP buttons;
- a container with key ``session-state`` holding ``Session: <state>``;
- a container with key ``transcript`` holding ``st.chat_message`` entries, tool-call
  expanders labelled ``Tool: <name>`` and ``st.altair_chart`` charts;
- ``st.chat_input`` with the placeholder "Ask about your data";
- ``LIVECHAT_AUDIO_PROCESSING=off`` turns the browser's echo cancellation, noise
  suppression and gain control off, so the received envelope keeps the WAV's shape.

Pieces:

* ``e2e_unavailable_reason()``: why browser tests cannot run here (or None).
* ``make_speech_wav``: espeak-ng + sox speech for the fake microphone (48 kHz mono).
* ``wav_envelope`` / ``envelope_match``: RMS per 20 ms at 16 kHz (the emulator's
  ``audio_in_envelope`` measure) and the best normalised cross-correlation of a received
  envelope against the looping WAV's.
* ``start_emulator``: the emulator in-process, real-time pacing, a random API key.
* ``AppServer``: ``streamlit run app.py`` on 127.0.0.1 and a free port, its log in a file.
* ``Browser``: one Chromium with a fresh profile and a fake microphone; ``TalkPage``:
  helpers over one tab of the app (navigation, START/STOP, getStats samples, transcript).
* ``TrafficRecorder``: every HTTP response body and WebSocket frame a page receives.

Threads: everything here runs on the test's (or benchmark's) main thread; Playwright's sync
API must not be used from any other thread. The emulator runs on its own server thread and
is read through ``EmulatorServer.sessions()``/``wait_for`` (thread-safe).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from livechat.emulator import EmulatorOptions, EmulatorServer

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SPEECH_TEXT = "How many storm nights did each keeper log?"
SAMPLE_NAME = "lighthouse_logs.csv"
INSTRUCTION_PREFIX = "You are Live Data Chat"
CHAT_PLACEHOLDER = "Ask about your data"
WEBRTC_IFRAME = "iframe[title*='streamlit_webrtc']"
# The app's navigation labels the page "Talk"; Streamlit's legacy pages/ links say "talk".
_APP_TALK_LINK = re.compile(r"Talk$")  # case-sensitive

FRAME_S = 0.02  # the emulator's envelope frame (20 ms at 16 kHz)
START_WAIT_S = 8.0  # E2E.md: wait this long for STOP after a START click, then retry once
_HEALTH_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 10.0

# Logged by streamlit-webrtc (DEBUG) when it resets a context it thinks went stale: the
# race the compat shim removes. The app is launched with that logger at DEBUG to see it.
STALE_RESET_MESSAGE = "not rendered for"

CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
)

# Runs in every frame before the page's own scripts. Records each RTCPeerConnection
# (E2E.md) and samples the newest one's inbound audio every 50 ms, so energy over time can
# be compared with the emulator's events on the shared wall clock (Date.now()).
# window.__energy rows: [epoch ms, connection index, totalAudioEnergy, packetsReceived,
# jitterBufferDelay (s, cumulative), jitterBufferEmittedCount].
_INIT_SCRIPT = """(() => {
  if (window.__livechatE2E) return;
  window.__livechatE2E = true;
  window.__pcs = [];
  window.__energy = [];
  const Original = window.RTCPeerConnection;
  if (!Original) return;
  function Recorded(...args) { const pc = new Original(...args); window.__pcs.push(pc); return pc; }
  Recorded.prototype = Original.prototype;
  Object.setPrototypeOf(Recorded, Original);
  window.RTCPeerConnection = Recorded;
  let busy = false;
  setInterval(async () => {
    if (busy || window.__pcs.length === 0) return;
    busy = true;
    try {
      const index = window.__pcs.length - 1;
      const stats = await window.__pcs[index].getStats();
      stats.forEach((v) => {
        if (v.type === 'inbound-rtp' && v.kind === 'audio') {
          window.__energy.push([Date.now(), index, v.totalAudioEnergy || 0, v.packetsReceived || 0,
                                v.jitterBufferDelay || 0, v.jitterBufferEmittedCount || 0]);
        }
      });
      if (window.__energy.length > 12000) window.__energy.splice(0, 2000);
    } catch (e) { /* a closed connection: keep the samples we have */ } finally { busy = false; }
  }, 50);
})();"""


class HarnessError(AssertionError):
    """An end-to-end step did not happen; the message says which step and what was seen."""


# --------------------------------------------------------------------------- environment


def e2e_unavailable_reason(env: dict[str, str] | None = None) -> str | None:
    """Why browser tests cannot run here, or None when they can.

    They need the private network namespace (``scripts/run-tests`` sets
    ``LIVECHAT_NETNS=isolated`` inside it), Debian's Chromium, espeak-ng and sox.
    """
    env = dict(os.environ) if env is None else env
    netns = env.get("LIVECHAT_NETNS")
    if netns != "isolated":
        return ("browser tests need the private network namespace: run them through scripts/run-tests "
                f"(or scripts/isolated-net env LIVECHAT_NETNS=isolated ...); LIVECHAT_NETNS={netns!r}")
    if not os.access(CHROMIUM, os.X_OK):
        return f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        return f"browser tests need {' and '.join(missing)} for the fake microphone (apt-get install espeak-ng sox)"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (Streamlit cannot bind port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- speech


def make_speech_wav(directory: Path, text: str = SPEECH_TEXT, *, name: str = "speech.wav",
                    pad_before: float = 0.5, pad_after: float = 1.0, voice_speed: int | None = None) -> Path:
    """Speak ``text`` with espeak-ng into a 48 kHz mono PCM16 WAV with silence around it.

    Returns the absolute path (Chromium needs one for ``--use-file-for-fake-audio-capture``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = (directory / name).resolve()
    raw = target.with_suffix(".espeak.wav")
    command = ["espeak-ng", "-w", str(raw)]
    if voice_speed is not None:
        command += ["-s", str(voice_speed)]
    subprocess.run([*command, text], check=True, capture_output=True, timeout=60)
    subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(target),
                    "pad", str(pad_before), str(pad_after)], check=True, capture_output=True, timeout=60)
    raw.unlink(missing_ok=True)
    return target


def read_wav_mono(path: Path) -> tuple[np.ndarray, int]:
    """Float samples (full scale 1.0) and the rate of a mono PCM16 WAV."""
    with wave.open(str(path)) as wav:
        if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
            raise HarnessError(f"{path} must be mono PCM16, got {wav.getnchannels()} channels, "
                               f"{8 * wav.getsampwidth()} bits")
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data.astype(np.float64) / 32768.0, rate


def wav_envelope(path: Path) -> np.ndarray:
    """RMS per 20 ms frame of ``path`` at 16 kHz: the emulator's ``audio_in_envelope`` measure."""
    from livechat.emulator.audio import EnvelopeMeter, StreamResampler

    samples, rate = read_wav_mono(path)
    return np.asarray(EnvelopeMeter().feed(StreamResampler(rate).process(samples)), dtype=np.float64)


def wav_seconds(path: Path) -> float:
    with wave.open(str(path)) as wav:
        return wav.getnframes() / wav.getframerate()


def envelope_match(received: Iterable[float], reference: np.ndarray, *, looping: bool = True,
                   max_frames: int = 500) -> float:
    """Best Pearson correlation of ``received`` against the WAV envelope ``reference``, over all lags.

    Chromium plays the WAV from the moment capture starts, and the server's first frame
    arrives at an unknown point of it, so every phase is tried: against the reference
    tiled (``looping=True``, Chromium's default) or followed by silence (``%noloop``).
    Only the first ``max_frames`` frames (10 s) are compared: the capture clock and the
    file's nominal rate drift apart slowly, which would blur a long comparison.
    Returns a value in [-1, 1]; 0.0 when either side is constant.
    """
    r = np.asarray(list(received), dtype=np.float64)[:max_frames]
    w = np.asarray(reference, dtype=np.float64)
    if r.size < 2 or w.size < 2:
        return 0.0
    if looping:
        extended = np.tile(w, int(math.ceil((r.size + w.size) / w.size)) + 1)
    else:
        extended = np.concatenate([w, np.zeros(r.size)])
    r_centred = r - r.mean()
    r_norm = np.sqrt(np.sum(r_centred * r_centred))
    if r_norm == 0:
        return 0.0
    best = -1.0
    for lag in range(w.size):
        window = extended[lag:lag + r.size]
        centred = window - window.mean()
        norm = np.sqrt(np.sum(centred * centred))
        if norm == 0:
            continue
        best = max(best, float(np.dot(r_centred, centred) / (r_norm * norm)))
    return best


# --------------------------------------------------------------------------- emulator


def random_api_key() -> str:
    """A fresh test API key (never a real one); tests then search traffic and logs for it."""
    return "e2e-key-" + secrets.token_urlsafe(24)


def start_emulator(api_key: str, **option_fields: Any) -> EmulatorServer:
    """An in-process emulator with real-time pacing (what a browser hears), started."""
    option_fields.setdefault("realtime", True)
    return EmulatorServer(api_key, options=EmulatorOptions(**option_fields)).start()


def instruction_text(setup: dict | None) -> str:
    """The system instruction text of a (normalised, camelCase) setup, or ''."""
    if not setup:
        return ""
    instruction = setup.get("systemInstruction") or {}
    parts = instruction.get("parts") or []
    return "".join(part.get("text", "") for part in parts if isinstance(part, dict))


def voice_sessions(sessions: list[dict]) -> list[dict]:
    """The sessions the app opened with a token on the constrained endpoint."""
    return [s for s in sessions if s.get("endpoint") == "constrained" and s.get("auth") == "token"]


def sessions_summary(sessions: list[dict]) -> str:
    """A short, secret-free description of session records for failure messages."""
    lines = []
    for s in sessions:
        first = instruction_text(s.get("effective_setup")).split("\n", 1)[0][:100]
        lines.append(
            f"{s.get('id')}: endpoint={s.get('endpoint')} auth={s.get('auth')} "
            f"audio_in={s.get('audio_in_seconds')}s@{s.get('audio_in_rate')} "
            f"audio_out={s.get('audio_out_seconds')}s turns={len(s.get('turns') or [])} "
            f"tools={len(s.get('tool_calls') or [])} interruptions={s.get('interruptions')} "
            f"ended={s.get('ended')} instruction={first!r}")
    return "\n".join(lines) or "(no sessions)"


# --------------------------------------------------------------------------- the app


class AppServer:
    """``streamlit run app.py`` on 127.0.0.1:PORT, cwd = repo root, output to ``log_path``.

    The process is the same CLI as ``streamlit run``, started through ``python -c`` only to
    raise one logger (``streamlit_webrtc.component``) to DEBUG, so the stale-context reset
    (``STALE_RESET_MESSAGE``) shows up in the log when it happens.
    """

    def __init__(self, *, log_path: Path, env: dict[str, str], port: int | None = None,
                 repo_root: Path = REPO_ROOT) -> None:
        self.log_path = log_path
        self._env = env
        self._port = port
        self._repo_root = repo_root
        self._proc: subprocess.Popen | None = None
        self._log_file = None

    @classmethod
    def for_emulator(cls, emulator: EmulatorServer, api_key: str, *, log_path: Path,
                     extra_env: dict[str, str] | None = None) -> "AppServer":
        """An app configured for ``emulator`` the way the tests need it."""
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("GEMINI_", "GOOGLE_", "STREAMLIT_"))}
        env.update({
            "GEMINI_API_KEY": api_key, "GEMINI_BASE_URL": emulator.base_url,
            "GEMINI_CA_FILE": emulator.ca_file, "LIVECHAT_AUDIO_PROCESSING": "off",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra_env or {})
        return cls(log_path=log_path, env=env)

    @property
    def port(self) -> int:
        if self._port is None:
            raise HarnessError("AppServer.port needs start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise HarnessError("AppServer.pid needs start() first")
        return self._proc.pid

    def start(self, timeout: float = _HEALTH_TIMEOUT_S) -> "AppServer":
        """Start the server and wait for ``/_stcore/health``; raise ``HarnessError`` with the log tail."""
        for attempt in range(3):  # a free port can be taken between free_port() and bind
            port = self._port if (self._port is not None and attempt == 0) else free_port()
            self._port = port
            self._launch(port)
            if self._wait_healthy(timeout):
                return self
            in_use = "already in use" in self.log_text()
            self.stop()
            if not in_use:
                break
        raise HarnessError(f"the app did not become healthy at {self.url} within {timeout:.0f} s; "
                           f"log tail:\n{self.log_tail()}")

    def _launch(self, port: int) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.log_path, "ab")
        bootstrap = ("import logging, runpy; "
                     "logging.getLogger('streamlit_webrtc.component').setLevel(logging.DEBUG); "
                     "runpy.run_module('streamlit', run_name='__main__', alter_sys=True)")
        command = [sys.executable, "-c", bootstrap, "run", "app.py",
                   "--server.address", "127.0.0.1", "--server.port", str(port),
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        # Own process group: stop() ends the app and any worker it spawned (SQL sandbox).
        self._proc = subprocess.Popen(command, cwd=self._repo_root, env=self._env, stdout=self._log_file,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_healthy(self, timeout: float) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.1)  # polling interval of a readiness probe, not a timing assumption
        return False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = _STOP_TIMEOUT_S) -> int | None:
        """SIGTERM the app's process group, wait (bounded), SIGKILL if needed; return the exit code."""
        proc, self._proc = self._proc, None
        code = None
        if proc is not None:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    code = proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    logger.warning("app pid %d did not exit within %.0f s of SIGTERM; killing it", proc.pid, timeout)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    code = proc.wait(timeout=5)
            else:
                code = proc.returncode
            # Workers the app left behind in its group (they should be gone already).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def threads_and_fds(self) -> tuple[int, int]:
        """(thread count, open file descriptors) of the app process, from /proc."""
        return len(os.listdir(f"/proc/{self.pid}/task")), len(os.listdir(f"/proc/{self.pid}/fd"))


# --------------------------------------------------------------------------- the browser


@dataclass
class EnergySample:
    """One getStats reading of the newest peer connection's inbound audio (browser clock, s)."""

    t: float
    connection: int
    energy: float
    packets: int
    jitter_delay: float = 0.0  # cumulative jitterBufferDelay (s)
    jitter_emitted: int = 0  # cumulative jitterBufferEmittedCount (samples)


class Browser:
    """One headless Chromium with a fresh profile whose microphone plays ``wav``.

    ``loop=False`` appends Chromium's ``%noloop`` so the file plays once, then silence.
    Close it with ``close()`` (idempotent).
    """

    def __init__(self, playwright: Any, *, profile_dir: Path, wav: Path, loop: bool = True) -> None:
        if not wav.is_absolute():
            raise HarnessError(f"the fake microphone needs an absolute WAV path, got {wav}")
        capture = str(wav) if loop else f"{wav}%noloop"
        self.context = playwright.chromium.launch_persistent_context(
            str(profile_dir), headless=True, executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={capture}"],
            viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(_INIT_SCRIPT)
        self._closed = False

    def new_page(self) -> "TalkPage":
        return TalkPage(self.context.new_page())

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(Exception):  # a crashed browser is already gone
                self.context.close()


class TalkPage:
    """Helpers over one tab of the app (Data page at ``/``, Talk page at ``/talk``)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.start_retries = 0

    # ---- navigation

    def goto(self, base_url: str, path: str = "/") -> None:
        self.page.goto(base_url.rstrip("/") + path, wait_until="domcontentloaded")
        self.page.locator('[data-testid="stAppViewContainer"]').wait_for(state="visible", timeout=30_000)

    def open_talk(self, base_url: str) -> None:
        """Open the app at ``/`` and go to the Talk page through the sidebar, as an analyst does."""
        self.goto(base_url, "/")
        self.navigate_to_talk()

    def deep_link_talk(self, base_url: str) -> None:
        """Load ``/talk`` directly in this tab (a new Streamlit session) and wait for START."""
        self.goto(base_url, "/talk")
        self.wait_for_component()

    def navigate_to_talk(self) -> None:
        """Go to the Talk page through the sidebar (same Streamlit session, dataset kept).

        Waits for the app's own navigation (``Talk``) first: until app.py has run once,
        Streamlit may show its legacy ``pages/`` links (lower-case file names).
        """
        link = self.page.locator('[data-testid="stSidebarNav"] a').filter(has_text=_APP_TALK_LINK)
        link.first.wait_for(state="visible", timeout=30_000)
        self.page.get_by_role("tab", name="What the model sees").wait_for(timeout=30_000)
        link.first.click()
        self.page.wait_for_url("**/talk", timeout=15_000)
        self.wait_for_component()

    def wait_for_component(self, timeout_s: float = 30.0) -> None:
        self.page.locator(WEBRTC_IFRAME).wait_for(state="visible", timeout=timeout_s * 1000)
        self.frame_locator().get_by_role("button", name="START").wait_for(timeout=timeout_s * 1000)

    def frame_locator(self) -> Any:
        return self.page.frame_locator(WEBRTC_IFRAME)

    def webrtc_frame(self) -> Any:
        handle = self.page.locator(WEBRTC_IFRAME).element_handle(timeout=10_000)
        frame = handle.content_frame() if handle is not None else None
        if frame is None:
            raise HarnessError("the streamlit_webrtc iframe has no content frame")
        return frame

    # ---- data page

    def model_view_instruction(self, dataset: str) -> str:
        """The instruction in the Data page's "What the model sees" tab, once it names ``dataset``.

        Streamlit keeps the previous run's elements on screen until the new run replaces
        them, so the text is read only once its first line names the expected dataset.
        """
        self.page.get_by_role("tab", name="What the model sees").click()
        code = self.page.locator('[data-testid="stTabs"] [role="tabpanel"]:visible [data-testid="stCode"] code')
        needle = f'dataset "{dataset}"'
        deadline = time.monotonic() + 30.0
        text = ""
        while time.monotonic() < deadline:
            if code.count():
                text = code.first.inner_text()
                if needle in text.split("\n", 1)[0]:
                    return text
            self.page.wait_for_timeout(200)  # DOM poll while the rerun replaces the block
        raise HarnessError(f"'What the model sees' did not name {dataset!r} within 30 s; it starts: {text[:200]!r}")

    def upload(self, path: Path) -> None:
        """Upload ``path`` through the Data page's file uploader; wait until it is the dataset."""
        self.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
        self.page.locator('[data-testid="stHeading"]', has_text=path.name).first.wait_for(timeout=30_000)

    # ---- voice

    def start_voice(self, wait_s: float = START_WAIT_S) -> int:
        """Click START, wait for STOP; retry the click once (E2E.md). Return the retries used."""
        frame = self.frame_locator()
        retries = 0
        for attempt in range(2):
            frame.get_by_role("button", name="START").click(timeout=10_000)
            try:
                frame.get_by_role("button", name="STOP").wait_for(timeout=wait_s * 1000)
                self.start_retries += retries
                return retries
            except Exception:  # playwright TimeoutError: no STOP yet
                if attempt == 1:
                    break
                retries += 1
                with contextlib.suppress(Exception):
                    frame.get_by_role("button", name="START").wait_for(timeout=2_000)
        self.start_retries += retries
        raise HarnessError(f"STOP never appeared after {retries + 1} START clicks ({wait_s:.0f} s each)")

    def stop_voice(self) -> None:
        """Click STOP and wait for the START button to return."""
        frame = self.frame_locator()
        frame.get_by_role("button", name="STOP").click(timeout=10_000)
        frame.get_by_role("button", name="START").wait_for(timeout=15_000)

    def energy_samples(self) -> list[EnergySample]:
        """The 50 ms getStats samples recorded so far in the component's frame."""
        rows = self.webrtc_frame().evaluate("() => window.__energy || []")
        return [EnergySample(t=row[0] / 1000.0, connection=int(row[1]), energy=float(row[2]), packets=int(row[3]),
                             jitter_delay=float(row[4]), jitter_emitted=int(row[5]))
                for row in rows]

    def peer_connection_count(self) -> int:
        return int(self.webrtc_frame().evaluate("() => (window.__pcs || []).length"))

    # ---- transcript and chat

    def state_text(self) -> str:
        return self.page.locator(".st-key-session-state").first.inner_text(timeout=10_000).strip()

    def transcript_text(self) -> str:
        locator = self.page.locator(".st-key-transcript")
        return locator.first.inner_text(timeout=10_000) if locator.count() else ""

    def wait_for_transcript(self, needle: str, timeout_s: float) -> str:
        """Wait until the transcript contains ``needle``; return the transcript text."""
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.transcript_text()
            if needle in _squash(text):
                return text
            self.page.wait_for_timeout(200)  # poll the DOM; the page updates every 0.3-0.5 s
        raise HarnessError(f"the transcript did not show {needle!r} within {timeout_s:.0f} s; it shows:\n{text[-2000:]}")

    def ask(self, text: str) -> None:
        """Type ``text`` into the chat input and send it."""
        box = self.page.get_by_placeholder(CHAT_PLACEHOLDER)
        box.wait_for(state="visible", timeout=15_000)
        box.fill(text)
        box.press("Enter")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.page.close()


def _squash(text: str) -> str:
    """Collapse whitespace (the DOM wraps and splits lines) for substring checks."""
    return " ".join(text.split())


def squash(text: str) -> str:
    return _squash(text)


# --------------------------------------------------------------------------- energy analysis


def energy_rate(samples: list[EnergySample], start: float, end: float) -> float | None:
    """Mean received audio power (d totalAudioEnergy / dt) between ``start`` and ``end`` (epoch s).

    Uses the samples nearest inside the window on the newest connection; None when the
    window holds fewer than two samples.
    """
    inside = [s for s in samples if start <= s.t <= end]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    if last.t <= first.t or last.connection != first.connection:
        return None
    return (last.energy - first.energy) / (last.t - first.t)


def first_energy_rise(samples: list[EnergySample], after: float, threshold: float = 1e-6) -> float | None:
    """Epoch time of the first sample after ``after`` whose energy exceeds the value at ``after``."""
    base = None
    for s in samples:
        if s.t < after:
            base = s
            continue
        reference = base.energy if base is not None and base.connection == s.connection else 0.0
        if s.energy - reference > threshold:
            return s.t
    return None


# --------------------------------------------------------------------------- traffic


@dataclass
class TrafficRecorder:
    """Records every HTTP response body and WebSocket frame received by a page (and its iframes)."""

    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    _responses: list[Any] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("response", self._responses.append)
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, websocket: Any) -> None:
        url = websocket.url

        def received(payload: str | bytes) -> None:
            self.frames.append((url, payload.encode() if isinstance(payload, str) else bytes(payload)))

        websocket.on("framereceived", received)

    def collect_bodies(self) -> None:
        """Read the bodies of the responses seen so far (call while the page is open)."""
        pending, self._responses = self._responses, []
        for response in pending:
            try:
                self.bodies.append((response.url, response.body()))
            except Exception as exc:  # redirects and aborted requests have no body
                self.unread.append(f"{response.status} {response.url}: {exc}")

    def find(self, needles: Iterable[str]) -> list[str]:
        """Where any needle occurs: ``'<needle> in <url>'`` lines (bodies and frames)."""
        found = []
        for needle in needles:
            raw = needle.encode()
            for kind, items in (("response", self.bodies), ("websocket frame", self.frames)):
                for url, data in items:
                    if raw in data:
                        found.append(f"{needle[:12]}… in {kind} from {url}")
        return found


def poll_until(predicate: Callable[[], Any], timeout_s: float, interval_s: float = 0.1,
               message: str = "condition") -> Any:
    """Call ``predicate`` until it returns a truthy value; raise ``HarnessError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError(f"{message} not met within {timeout_s:.1f} s")
        time.sleep(interval_s)


@contextlib.contextmanager
def app_failure_context(app: AppServer, emulator: EmulatorServer | None = None) -> Iterator[None]:
    """Re-raise any failure inside with the app's log tail and the emulator's sessions attached."""
    try:
        yield
    except BaseException as exc:
        extra = f"\n--- app log tail ({app.log_path}) ---\n{app.log_tail()}"
        if emulator is not None:
            extra += f"\n--- emulator sessions ---\n{sessions_summary(emulator.sessions())}"
        raise HarnessError(f"{exc}{extra}") from exc


def dump_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=1, default=str))
