"""Fixtures for the browser end-to-end tests (real app, emulator, headless Chromium).

These tests run only inside the private network namespace (``scripts/run-tests`` sets
``LIVECHAT_NETNS=isolated``) with ``/usr/bin/chromium``, espeak-ng and sox installed.
Otherwise every test fails when ``CI=true`` (CI must not pass without running them) and
skips with the reason elsewhere.

* ``e2e_stack`` (module): an in-process emulator (real-time pacing, a random API key)
  and the app (``streamlit run app.py``) configured for it. Tests tell their sessions
  apart by the ids they did not see before, so one stack (``shared_e2e_stack``, session
  scope) serves every module that keeps the default environment. A module that adds to
  the app's environment overrides ``app_extra_env`` (module scope; ``{}`` by default) and
  gets its own stack; a test that must own the emulator's options restores them.
* ``browser_factory(wav)`` (function): Chromium with a fresh profile and a fake
  microphone looping ``wav``; all closed after the test (screenshots first if it failed).
* ``speech_wav`` (session): the spoken question, 48 kHz mono, 0.5 s silence before and
  1.0 s after; ``speech_envelope``: its RMS per 20 ms at 16 kHz.
* ``single_question_wav`` (session): the same words with 2.0 s of silence before and
  ``QUIET_AFTER_S`` after: one question, then an analyst listening to the whole reply.
  The lead-in is longer because the first frame reaches the server 0.8-1.5 s after
  START. (Chromium's ``%noloop`` is no substitute: at the end of the file the fake
  microphone stops producing frames, and the app rightly ends a session whose uplink
  stalls for 3 s.)

On a failed test the app's log tail and the emulator's sessions are printed, and any
stale-context reset by streamlit-webrtc (the race the compat shim removes) is reported
as a warning.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest

from livechat.emulator import EmulatorServer
from tests.e2e import harness
from tests.requirements_gate import unavailable


class StaleContextResetWarning(UserWarning):
    """streamlit-webrtc reset a context it thought stale (the shim should prevent this)."""


@dataclass
class E2EStack:
    """One app server and the emulator it talks to."""

    api_key: str
    emulator: EmulatorServer
    app: harness.AppServer

    def session_ids(self) -> set[str]:
        return {s["id"] for s in self.emulator.sessions()}


@pytest.fixture(scope="session", autouse=True)
def _e2e_environment() -> None:
    reason = harness.e2e_unavailable_reason()
    if reason is not None:
        unavailable(f"the browser tests cannot run: {reason}")


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an asyncio loop running in the
    # main thread while it is open, and every later test that calls asyncio.run() (the SDK
    # tests in tests/integration) would fail with "cannot be called from a running event loop".
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def e2e_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-assets")


@pytest.fixture(scope="session")
def speech_wav(e2e_assets: Path) -> Path:
    return harness.make_speech_wav(e2e_assets, harness.SPEECH_TEXT, name="speech.wav",
                                   pad_before=0.5, pad_after=1.0)


@pytest.fixture(scope="session")
def speech_envelope(speech_wav: Path) -> np.ndarray:
    return harness.wav_envelope(speech_wav)


@pytest.fixture(scope="session")
def single_question_wav(e2e_assets: Path) -> Path:
    return harness.make_speech_wav(e2e_assets, harness.SPEECH_TEXT, name="speech-single.wav",
                                   pad_before=2.0, pad_after=harness.QUIET_AFTER_S)


@pytest.fixture(scope="module")
def app_extra_env() -> dict[str, str]:
    """Extra environment of the module's app (a module overrides this fixture to add some)."""
    return {}


@contextlib.contextmanager
def _started_stack(logs: Path, name: str, extra_env: dict[str, str]) -> Iterator[E2EStack]:
    api_key = harness.random_api_key()
    emulator = harness.start_emulator(api_key)
    app = harness.AppServer.for_emulator(emulator, api_key, log_path=logs / f"{name}.log", extra_env=extra_env)
    try:
        app.start()
        yield E2EStack(api_key=api_key, emulator=emulator, app=app)
    finally:
        app.stop()
        emulator.stop()


@pytest.fixture(scope="session")
def shared_e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EStack]:
    """The app and emulator of every module that adds nothing to the app's environment.

    Starting an app (and warming its first page) costs seconds on this machine; the
    modules tell their sessions apart by the ids they did not see before, so one stack
    serves them all.
    """
    with _started_stack(tmp_path_factory.mktemp("e2e-app"), "shared", {}) as stack:
        yield stack


@pytest.fixture(scope="module")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest,
              app_extra_env: dict[str, str]) -> Iterator[E2EStack]:
    if not app_extra_env:
        yield request.getfixturevalue("shared_e2e_stack")
        return
    module = request.module.__name__.rsplit(".", 1)[-1]
    with _started_stack(tmp_path_factory.mktemp("e2e-app"), module, app_extra_env) as stack:
        yield stack


@pytest.fixture
def browser_factory(playwright_instance: Any, tmp_path: Path,
                    request: pytest.FixtureRequest) -> Iterator[Callable[..., harness.Browser]]:
    browsers: list[harness.Browser] = []

    def factory(wav: Path) -> harness.Browser:
        profile = tmp_path / f"profile-{len(browsers)}"
        profile.mkdir()
        browser = harness.Browser(playwright_instance, profile_dir=profile, wav=wav)
        browsers.append(browser)
        return browser

    yield factory
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.failed:
        for number, browser in enumerate(browsers):
            for index, page in enumerate(browser.context.pages):
                shot = tmp_path / f"failure-browser{number}-page{index}.png"
                try:
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot of {page.url}: {shot}")
                except Exception as exc:  # a closed or crashed page
                    print(f"no screenshot of browser {number} page {index}: {exc}")
    for browser in browsers:
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"e2e_report_{report.when}", report)


@pytest.fixture(autouse=True)
def _explain_failures(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a failed test: print the app log tail and the emulator sessions; warn on stale resets."""
    stack: E2EStack | None = None
    if "e2e_stack" in request.fixturenames:
        stack = request.getfixturevalue("e2e_stack")
        log_size = len(stack.app.log_text())
    yield
    if stack is None:
        return
    new_log = stack.app.log_text()[log_size:]
    if harness.STALE_RESET_MESSAGE in new_log:
        lines = [line for line in new_log.splitlines() if harness.STALE_RESET_MESSAGE in line]
        warnings.warn(StaleContextResetWarning(
            f"{request.node.nodeid}: streamlit-webrtc reset a context as stale: {lines[:3]}"))
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.failed:
        # The voice lifecycle first (bridges, sessions, page-navigation closes, errors): CI
        # excerpts keep the head and tail of long output, and these lines explain most failures.
        key = [line for line in new_log.splitlines()
               if any(word in line for word in ("voice bridge", "navigat", "shutdown detected", "ERROR",
                                                "WARNING", "Traceback"))]
        print(f"\n--- voice lifecycle in the app log ({len(key)} lines) ---\n" + "\n".join(key[-40:]))
        print(f"\n--- app log tail ({stack.app.log_path}) ---\n{stack.app.log_tail(120)}")
        print(f"--- emulator sessions ---\n{harness.sessions_summary(stack.emulator.sessions())}")
