"""The Talk page looks and works like a voice app, at desktop and phone width (issue 20).

In a real browser, at 1400×1000 and at 390×844, through idle → listening → responding:

- the voice component shows no video area: no visible ``<video>``, no receive placeholder
  (the library's grey box with a monitor icon), and its frame is only as tall as its
  buttons; its device button reads ``Microphone: <device> ▾``;
- the state pill's class (``st-key-pill-<state>`` inside ``session-state``) and its text
  ``Session: <state>`` match what the emulator recorded for the session at that moment:
  no session while idle; an open session receiving audio and sending none while
  listening; reply audio sent while responding, with "the model is speaking" shown
  (driven by playback) and the microphone meter still;
- nothing is wider than the screen (no horizontal scrolling), and at phone width START/STOP,
  the pill, the latest exchange and the chat input are within the screen's width.

Screenshots of each state are taken for both sizes; on a failure they are copied to
``$LIVECHAT_E2E_ARTIFACTS`` (default ``.e2e-artifacts/`` in the repository) and their
paths printed, so CI can keep them.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e import harness
from tests.e2e.harness import REPO_ROOT, squash

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": (1400, 1000), "phone": (390, 844)}
MAX_COMPONENT_HEIGHT_PX = 100  # START + microphone picker; the placeholder alone was ~115 px
OVERFLOW_SLACK_PX = 1  # sub-pixel rounding
MIC_PICKER = re.compile(r"^Microphone: .+ \u25BE$")
SCROLLERS = ('html', 'body', '[data-testid="stApp"]', '[data-testid="stAppViewContainer"]',
             '[data-testid="stMain"]', '[data-testid="stMainBlockContainer"]')


class Shots:
    """Screenshots of one test; copied to the artifacts directory if the test fails."""

    def __init__(self, directory: Path, prefix: str) -> None:
        self.directory = directory
        self.prefix = prefix
        self.paths: list[Path] = []

    def take(self, tab: harness.TalkPage, state: str) -> Path:
        path = self.directory / f"talk-{self.prefix}-{state}.png"
        tab.page.screenshot(path=str(path), full_page=False)
        self.paths.append(path)
        return path

    def keep(self, test_name: str) -> None:
        target = Path(os.environ.get("LIVECHAT_E2E_ARTIFACTS") or REPO_ROOT / ".e2e-artifacts") / test_name
        target.mkdir(parents=True, exist_ok=True)
        for path in self.paths:
            shutil.copy2(path, target / path.name)
            print(f"screenshot kept: {target / path.name}")


@pytest.fixture(scope="module")
def slow_question_wav(e2e_assets: Path) -> Path:
    """The question after 6 s of silence: a listening state long enough to photograph on a busy machine."""
    return harness.make_speech_wav(e2e_assets, harness.SPEECH_TEXT, name="speech-after-6s.wav",
                                   pad_before=6.0, pad_after=harness.QUIET_AFTER_S)


@pytest.fixture
def shots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shots]:
    size = request.node.callspec.params.get("size", "page")
    taken = Shots(tmp_path, size)
    yield taken
    report = getattr(request.node, "e2e_report_call", None)
    if report is not None and report.failed:
        taken.keep(re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name))


def _wait_pill(tab: harness.TalkPage, state: str, timeout_s: float) -> None:
    """Wait until the pill shows ``state``: its class and its text say the same."""
    pill = tab.page.locator(f".st-key-session-state .st-key-pill-{state}")
    pill.first.wait_for(state="visible", timeout=timeout_s * 1000)
    assert tab.state_text() == f"Session: {state}"


def _pill_colour(tab: harness.TalkPage) -> str:
    return tab.page.locator('.st-key-session-state [class*="st-key-pill-"]').first.evaluate(
        "el => getComputedStyle(el).backgroundColor")


def _assert_voice_only(tab: harness.TalkPage) -> None:
    """No video area in the component: no visible <video>, no placeholder, a short frame."""
    frame = tab.webrtc_frame()
    found = frame.evaluate("""() => {
      const shown = (el) => el.getClientRects().length > 0 && el.offsetWidth > 0 && el.offsetHeight > 0;
      return {
        videos: [...document.querySelectorAll('video')].filter(shown).length,
        placeholders: [...document.querySelectorAll('[data-testid="VideoLabelIcon"],'
                        + ' [data-testid="VideocamOffIcon"], .MuiCircularProgress-root')].filter(shown).length,
        skinned: !!document.getElementById('livechat-voice-skin'),
      };
    }""")
    assert found == {"videos": 0, "placeholders": 0, "skinned": True}, found
    height = tab.page.locator(harness.WEBRTC_IFRAME).first.bounding_box()["height"]
    assert height <= MAX_COMPONENT_HEIGHT_PX, f"the voice component is {height:.0f} px tall: a media area is left"


def _mic_picker_text(tab: harness.TalkPage) -> str:
    picker = tab.frame_locator().locator("button.livechat-mic-picker")
    picker.wait_for(state="visible", timeout=15_000)
    deadline = time.monotonic() + 10.0
    text = picker.inner_text()
    while not MIC_PICKER.match(text.strip()) and time.monotonic() < deadline:
        tab.page.wait_for_timeout(100)  # the skin fills in the device name after enumerateDevices()
        text = picker.inner_text()
    return text.strip()


def _horizontal_overflow(tab: harness.TalkPage) -> dict[str, int]:
    """How far each page scroller is wider than its box (0 everywhere: no horizontal scrolling)."""
    return tab.page.evaluate("""(selectors) => {
      const out = {};
      for (const s of selectors) {
        const el = document.querySelector(s);
        if (el) out[s] = Math.max(0, el.scrollWidth - el.clientWidth);
      }
      out.window = Math.max(0, document.documentElement.scrollWidth - window.innerWidth);
      return out;
    }""", list(SCROLLERS))


def _assert_no_horizontal_overflow(tab: harness.TalkPage) -> None:
    overflow = _horizontal_overflow(tab)
    assert all(v <= OVERFLOW_SLACK_PX for v in overflow.values()), f"horizontal overflow: {overflow}"


def _assert_within_width(tab: harness.TalkPage, locator: Any, what: str, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None, f"{what} is not rendered"
    assert box["x"] >= -OVERFLOW_SLACK_PX and box["x"] + box["width"] <= width + OVERFLOW_SLACK_PX, (
        f"{what} does not fit the {width} px wide screen: {box}")


def _new_voice_session(stack: Any, known: set[str], timeout_s: float = 30.0) -> dict:
    stack.emulator.wait_for(lambda ss: any(s["id"] not in known for s in harness.voice_sessions(ss)),
                            timeout=timeout_s)
    new = [s for s in harness.voice_sessions(stack.emulator.sessions()) if s["id"] not in known]
    assert len(new) == 1, harness.sessions_summary(new)
    return new[0]


def _record(stack: Any, session_id: str) -> dict:
    return next(s for s in stack.emulator.sessions() if s["id"] == session_id)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_talk_page_reads_as_a_voice_app(size: str, e2e_stack, browser_factory, slow_question_wav,
                                            shots: Shots) -> None:
    width, height = VIEWPORTS[size]
    tab = browser_factory(slow_question_wav).new_page()
    tab.page.set_viewport_size({"width": width, "height": height})
    known = e2e_stack.session_ids()
    tab.deep_link_talk(e2e_stack.app.url)  # at phone width the sidebar starts collapsed

    # -- idle: no session at the emulator; a short component with START and the picker.
    _wait_pill(tab, "idle", 30)
    _assert_voice_only(tab)
    assert MIC_PICKER.match(_mic_picker_text(tab)), _mic_picker_text(tab)
    assert tab.page.get_by_placeholder(harness.CHAT_PLACEHOLDER).is_visible()
    idle_colour = _pill_colour(tab)
    _assert_no_horizontal_overflow(tab)
    shots.take(tab, "idle")
    assert e2e_stack.session_ids() == known, "a session was opened before START"

    # -- listening: an open session that receives audio and has sent none.
    tab.start_voice()
    _wait_pill(tab, "listening", 30)
    session = _new_voice_session(e2e_stack, known)
    e2e_stack.emulator.wait_for(lambda ss: _record(e2e_stack, session["id"])["audio_in_seconds"] > 0,
                                timeout=15)
    record = _record(e2e_stack, session["id"])
    assert record["ended"] is None and record["audio_out_seconds"] == 0, harness.sessions_summary([record])
    assert _pill_colour(tab) != idle_colour
    _assert_voice_only(tab)
    tab.page.locator(".st-key-mic-level").get_by_text(re.compile(r"Microphone: (-?\d+ dBFS|no input)")).wait_for(
        timeout=10_000)
    _assert_no_horizontal_overflow(tab)
    shots.take(tab, "listening")

    # -- responding: the emulator is sending the reply; the page shows the model speaking.
    _wait_pill(tab, "responding", 60)
    speaking = tab.page.locator(".st-key-model-speaking")
    speaking.first.wait_for(state="visible", timeout=10_000)
    record = _record(e2e_stack, session["id"])
    assert record["ended"] is None and record["audio_out_seconds"] > 0, harness.sessions_summary([record])
    assert tab.page.locator(".st-key-mic-level").inner_text().strip().startswith(
        "Microphone: paused while the model answers")
    _assert_no_horizontal_overflow(tab)
    shots.take(tab, "responding")

    # -- the latest exchange, START/STOP and the chat input fit the screen's width.
    tab.wait_for_transcript(squash('You said: "'), timeout_s=60)
    last = tab.page.locator('.st-key-transcript [data-testid="stChatMessage"]').last
    _assert_within_width(tab, last, "the latest message", width)
    _assert_within_width(tab, tab.page.locator(harness.WEBRTC_IFRAME).first, "the voice component", width)
    _assert_within_width(tab, tab.page.locator(".st-key-session-state").first, "the state pill", width)
    _assert_within_width(tab, tab.page.get_by_placeholder(harness.CHAT_PLACEHOLDER), "the chat input", width)
    assert tab.page.get_by_placeholder(harness.CHAT_PLACEHOLDER).is_visible()
    _assert_no_horizontal_overflow(tab)
    assert "Traceback" not in tab.page.inner_text("body")
    tab.stop_voice()


def test_the_chosen_microphone_is_remembered_in_this_browser(e2e_stack, browser_factory, slow_question_wav) -> None:
    """Pick another microphone with the picker; a reload of the page still shows (and uses) it."""
    browser = browser_factory(slow_question_wav)
    tab = browser.new_page()
    tab.deep_link_talk(e2e_stack.app.url)
    # Device names are only readable once the browser granted the microphone: one START/STOP.
    tab.start_voice()
    tab.stop_voice()
    default_text = _mic_picker_text(tab)
    assert MIC_PICKER.match(default_text), default_text

    tab.frame_locator().locator("button.livechat-mic-picker").click()
    select = tab.frame_locator().locator("select#device-select-audio-input")
    select.wait_for(timeout=15_000)
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("el => el.options[el.selectedIndex].text")
    others = [name for name in options if name != current]
    assert others, f"the fake media device offers one microphone only: {options}"
    select.select_option(label=others[0])
    tab.frame_locator().get_by_role("button", name="Done").click()
    chosen = f"Microphone: {others[0]} \u25BE"
    tab.frame_locator().locator("button.livechat-mic-picker").wait_for(timeout=15_000)
    deadline = time.monotonic() + 10.0
    while _mic_picker_text(tab) != chosen and time.monotonic() < deadline:
        tab.page.wait_for_timeout(100)  # the skin reads the stored choice after the form closes
    assert _mic_picker_text(tab) == chosen

    # A new page load in the same browser (a new Streamlit session) remembers it.
    tab.deep_link_talk(e2e_stack.app.url)
    deadline = time.monotonic() + 10.0
    while _mic_picker_text(tab) != chosen and time.monotonic() < deadline:
        tab.page.wait_for_timeout(100)
    assert _mic_picker_text(tab) == chosen
