"""Browser end-to-end harness: the one import for ``tests/e2e`` and ``bench/bench_e2e.py``.

The real app, the Live API emulator and headless Chromium, following the recipe in
``shared/E2E.md``. The Talk page's DOM contract these tests rely on:

- the Talk page at ``/talk``; ``webrtc_streamer(key="voice")`` in an iframe whose title
  contains ``streamlit_webrtc``, with the library's START/STOP buttons;
- a container with key ``session-state`` holding ``Session: <state>``, and inside it the
  pill, a container keyed ``pill-<state>`` (class ``st-key-pill-<state>``); a container keyed
  ``model-speaking`` while reply audio plays; the meter in a container keyed ``mic-level``;
- a container with key ``transcript`` holding ``st.chat_message`` entries, tool-call
  expanders labelled ``Tool: <name>`` and ``st.altair_chart`` charts;
- ``st.chat_input`` with the placeholder "Ask about your data";
- ``LIVECHAT_AUDIO_PROCESSING=off`` turns the browser's echo cancellation, noise
  suppression and gain control off, so the received envelope keeps the WAV's shape.

Modules (each one job), re-exported here:

* ``audio_signals``: the fake microphone's speech, envelopes, the browser's energy series;
* ``emulator_records``: the in-process emulator and reading its session records;
* ``app_server``: ``streamlit run app.py`` on 127.0.0.1 and a free port;
* ``browser``: Chromium with a fake microphone, and ``TalkPage`` helpers over one tab;
* ``traffic``: every response body and WebSocket frame a page receives.

Here: ``e2e_unavailable_reason`` (may browser tests run here?) and
``app_failure_context`` (attach the app's log to a failure).

Threads: the test's (or benchmark's) main thread; Playwright's sync API must not be used
from any other thread.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Iterator

from livechat.emulator import EmulatorServer
from tests.e2e.app_server import REPO_ROOT, STALE_RESET_MESSAGE, AppServer, free_port
from tests.e2e.audio_signals import (
    QUIET_AFTER_S,
    SPEECH_TEXT,
    EnergySample,
    energy_rate,
    envelope_match,
    first_energy_rise,
    jitter_buffer_delay,
    make_speech_wav,
    read_wav_mono,
    wav_envelope,
)
from tests.e2e.browser import CHAT_PLACEHOLDER, CHROMIUM, START_WAIT_S, WEBRTC_IFRAME, Browser, TalkPage, squash
from tests.e2e.emulator_records import (
    instruction_text,
    random_api_key,
    sessions_summary,
    start_emulator,
    voice_sessions,
)
from tests.e2e.errors import HarnessError
from tests.e2e.traffic import TrafficRecorder

__all__ = [
    "CHAT_PLACEHOLDER", "CHROMIUM", "INSTRUCTION_PREFIX", "QUIET_AFTER_S", "REPO_ROOT", "SAMPLE_NAME",
    "SPEECH_TEXT", "STALE_RESET_MESSAGE", "START_WAIT_S", "WEBRTC_IFRAME", "AppServer", "Browser",
    "EnergySample", "HarnessError", "TalkPage", "TrafficRecorder", "app_failure_context",
    "e2e_unavailable_reason", "energy_rate", "envelope_match", "first_energy_rise", "free_port", "jitter_buffer_delay",
    "instruction_text", "make_speech_wav", "random_api_key", "read_wav_mono", "sessions_summary",
    "squash", "start_emulator", "voice_sessions", "wav_envelope",
]

SAMPLE_NAME = "lighthouse_logs.csv"
INSTRUCTION_PREFIX = "You are Live Data Chat"


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
