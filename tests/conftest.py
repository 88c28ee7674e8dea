"""Shared fixtures: the Live API emulator, SDK clients pointed at it, and test speech.

* ``emulator``: a started ``EmulatorServer`` (api_key "test-key", realtime=False),
  stopped after the test.
* ``emulator_factory(**EmulatorOptions fields, clock=None)``: more servers, all
  stopped at teardown.
* ``make_genai_client(server, api_key)``: a google-genai client that trusts the
  emulator's CA (verification stays on) and speaks v1alpha.
* ``speech_pcm(text, rate=16000)``: PCM16 mono speech made with espeak-ng (and sox
  or PyAV for the rate), cached per session; ``speech_wav_16k``: a WAV of it.
  Without espeak-ng the fixtures fail when CI=true and skip locally, with the reason.
* ``ManualClock``: a settable wall clock for token/handle expiry tests
  (``emulator_factory(clock=clock)``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Callable, Iterator

import pytest

from livechat.emulator import EmulatorOptions, EmulatorServer
from tests.requirements_gate import unavailable

pytest_plugins = ["tests.store_fixtures"]

# The app (AppTest runs, browser tests' servers) keeps conversations under
# LIVECHAT_DATA_DIR: one private directory per test run, never the repo's .livechat/.
if "LIVECHAT_DATA_DIR" not in os.environ:
    import tempfile

    os.environ["LIVECHAT_DATA_DIR"] = tempfile.mkdtemp(prefix="livechat-test-data-")

TEST_API_KEY = "test-key"
LIVE_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
DEFAULT_SPEECH = "How many storm nights did each keeper log?"


def make_genai_client(server: EmulatorServer, api_key: str):  # -> google.genai.Client
    """A google-genai client for ``server`` (REST and Live), trusting only its CA."""
    from google import genai
    from google.genai import types

    context = ssl.create_default_context(cafile=server.ca_file)
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(
        base_url=server.base_url, api_version="v1alpha",
        client_args={"verify": context}, async_client_args={"ssl": context}))


class ManualClock:
    """A wall clock (epoch seconds) that only moves when told to; thread-safe."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., EmulatorServer]]:
    servers: list[EmulatorServer] = []

    def factory(*, api_key: str = TEST_API_KEY, clock: Callable[[], float] | None = None,
                cert_dir: str | Path | None = None, **option_fields) -> EmulatorServer:
        option_fields.setdefault("realtime", False)
        server = EmulatorServer(api_key, options=EmulatorOptions(**option_fields), clock=clock, cert_dir=cert_dir)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def emulator(emulator_factory) -> EmulatorServer:
    return emulator_factory()


def _need_speech_tools() -> str:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        reason = "espeak-ng is not installed (apt-get install espeak-ng); speech fixtures need it"
        unavailable(reason)
    return espeak


def _resample_wav(source: Path, target: Path, rate: int, pad_before: float, pad_after: float) -> None:
    sox = shutil.which("sox")
    if sox:
        subprocess.run([sox, str(source), "-r", str(rate), "-c", "1", "-b", "16", str(target),
                        "pad", str(pad_before), str(pad_after)], check=True, capture_output=True, timeout=60)
        return
    import av  # PyAV fallback when sox is missing
    import numpy as np

    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    chunks = []
    with av.open(str(source)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
    for out in resampler.resample(None):
        chunks.append(out.to_ndarray().reshape(-1))
    samples = np.concatenate([np.zeros(int(pad_before * rate), np.int16), *chunks,
                              np.zeros(int(pad_after * rate), np.int16)]).astype("<i2")
    with wave.open(str(target), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


@pytest.fixture(scope="session")
def speech_wav_factory(tmp_path_factory) -> Callable[..., Path]:
    """``factory(text, rate=16000, pad_before=0.3, pad_after=1.0) -> Path`` of a mono PCM16 WAV."""
    cache = tmp_path_factory.mktemp("speech")

    def factory(text: str = DEFAULT_SPEECH, rate: int = 16000, pad_before: float = 0.3,
                pad_after: float = 1.0) -> Path:
        espeak = _need_speech_tools()
        key = hashlib.sha256(f"{text}|{rate}|{pad_before}|{pad_after}".encode()).hexdigest()[:16]
        target = cache / f"speech-{key}-{rate}.wav"
        if not target.exists():
            raw = cache / f"raw-{key}.wav"
            subprocess.run([espeak, "-w", str(raw), text], check=True, capture_output=True, timeout=60)
            _resample_wav(raw, target, rate, pad_before, pad_after)
        return target

    return factory


@pytest.fixture(scope="session")
def speech_pcm(speech_wav_factory) -> Callable[..., bytes]:
    """``speech_pcm(text, rate=16000, ...) -> bytes``: raw PCM16 mono little-endian speech."""

    def factory(text: str = DEFAULT_SPEECH, rate: int = 16000, **padding: float) -> bytes:
        with wave.open(str(speech_wav_factory(text, rate, **padding))) as wav:
            return wav.readframes(wav.getnframes())

    return factory


@pytest.fixture
def speech_wav_16k(speech_wav_factory) -> Path:
    """A 16 kHz mono WAV of ``DEFAULT_SPEECH`` with silence around it."""
    return speech_wav_factory(DEFAULT_SPEECH, 16000)


@pytest.fixture
def emulator_client() -> Callable[..., object]:
    """The ``make_genai_client(server, api_key)`` helper, as a fixture."""
    return make_genai_client
