"""Headless Chromium with a fake microphone, and helpers over one tab of the app.

Follows ``shared/E2E.md``: Debian's Chromium, fake media devices fed from a WAV (an
absolute path), the streamlit-webrtc iframe located by its title, START clicked again
once if STOP has not appeared within 8 s, and every RTCPeerConnection recorded before the
page loads so its inbound audio can be sampled with getStats. DOM contract of the Talk
page: see ``tests/e2e/harness.py``.

Threads: the test's main thread only (Playwright's sync API).
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

from tests.e2e.audio_signals import EnergySample
from tests.e2e.errors import HarnessError

CHROMIUM = "/usr/bin/chromium"
CHAT_PLACEHOLDER = "Ask about your data"
WEBRTC_IFRAME = "iframe[title*='streamlit_webrtc']"
# The app's navigation labels the page "Talk"; Streamlit's legacy pages/ links say "talk".
_APP_TALK_LINK = re.compile(r"Talk$")  # case-sensitive
START_WAIT_S = 8.0  # E2E.md: wait this long for STOP after a START click, then retry once
# STOP -> START is the component's own click handler: under 1 s here when the machine is idle.
STOP_WAIT_S = 15.0  # ... counting only time in which the page could run script
STOP_LIMIT_S = 60.0  # ... and never longer than this in all
STALLED_SCRIPT_S = 0.5  # an empty script taking longer than this: the page is not running
SLOW_STOP_S = 3.0  # a STOP slower than this prints its timeline
ASK_CONFIRM_S = 15.0  # a typed question shows in the transcript within this, or it is typed again once
NAV_SETTLE_MS = 1_500  # a navigation counts once its page has held this long
MISSED_CLICK_S = 3.0  # no STOP click recorded in the frame this long after it: click again once

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
  window.__events = [];  // [epoch ms, what, detail]: button clicks and connection states
  const note = (what, detail) => { window.__events.push([Date.now(), what, String(detail)]);
                                   if (window.__events.length > 400) window.__events.splice(0, 100); };
  document.addEventListener('click', (e) => {  // every click in the frame: a missed one shows too
    const button = e.target && e.target.closest ? e.target.closest('button') : null;
    note('click', button ? (button.innerText || '').trim() : `(no button: ${e.target && e.target.tagName})`);
  }, true);
  try {  // main-thread tasks over 1 s: a blocked or starved page, told apart from a slow server
    new PerformanceObserver((list) => list.getEntries().forEach((e) => {
      if (e.duration > 1000) note('longtask', Math.round(e.duration));
    })).observe({type: 'longtask'});
  } catch (e) { /* no long-task timing here */ }
  const Original = window.RTCPeerConnection;
  if (!Original) return;
  function Recorded(...args) {
    const pc = new Original(...args);
    const index = window.__pcs.push(pc) - 1;
    pc.addEventListener('connectionstatechange', () => note(`pc${index}`, pc.connectionState));
    return pc;
  }
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


class Browser:
    """One headless Chromium with a fresh profile whose microphone loops ``wav``.

    Chromium's ``%noloop`` suffix is not offered: at the end of such a file the fake
    microphone stops producing frames, which the app (rightly) treats as a dropped
    stream. A question asked once is a WAV with a long silence after it instead.
    Close it with ``close()`` (idempotent).
    """

    def __init__(self, playwright: Any, *, profile_dir: Path, wav: Path) -> None:
        if not wav.is_absolute():
            raise HarnessError(f"the fake microphone needs an absolute WAV path, got {wav}")
        self.context = playwright.chromium.launch_persistent_context(
            str(profile_dir), headless=True, executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={wav}"],
            viewport={"width": 1400, "height": 1000})
        self.context.add_init_script(_INIT_SCRIPT)
        self.profile_dir = profile_dir  # finds its processes (tests/e2e/host_stress.py)
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
        self.stop_retries = 0  # STOP clicks the component's frame never received, clicked again
        self.nav_retries = 0
        self.ask_retries = 0  # typed questions that never reached the transcript, typed again
        self.submit_retries = 0  # form buttons whose click changed nothing, clicked again
        self.stop_waits: list[float] = []  # seconds from each STOP click to START

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
        self.wait_for_component(timeout_s=20.0)

    def navigate_to_talk(self) -> None:
        """Go to the Talk page through the sidebar (same Streamlit session, dataset kept).

        Waits for the app's own navigation (``Talk``) first: until app.py has run once,
        Streamlit may show its legacy ``pages/`` links (lower-case file names).
        """
        link = self.page.locator('[data-testid="stSidebarNav"] a').filter(has_text=_APP_TALK_LINK)
        link.first.wait_for(state="visible", timeout=30_000)
        self.page.get_by_role("tab", name="What the model sees").wait_for(timeout=30_000)
        link.first.click()
        self.page.wait_for_url(page_url("/talk"), timeout=15_000)
        self.wait_for_component()

    def navigate(self, label: str, path: str) -> int:
        """Click the sidebar link ``label`` and wait for ``path``; return the extra clicks needed.

        A click that lands while the component's own rerun (after STOP) is in flight can be
        overridden by that rerun (seen here about once in four right after STOP); a second
        click then works. Retries are counted in ``nav_retries`` for the report.
        """
        link = self.page.locator('[data-testid="stSidebarNav"] a', has_text=label).first
        for attempt in range(3):
            link.click()
            try:
                self.page.wait_for_url(page_url(path), timeout=5_000)
            except Exception:  # playwright TimeoutError: still on the old page
                continue
            # A rerun already in flight can still take the page back (seen once right after a
            # reload: the URL reached "/" and returned to /talk): the destination must hold.
            self.page.wait_for_timeout(NAV_SETTLE_MS)
            if page_url(path).match(self.page.url):
                self.nav_retries += attempt
                return attempt
        raise HarnessError(f"the sidebar link {label!r} did not lead to {path} after 3 clicks")

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
        start, stop = frame.get_by_role("button", name="START"), frame.get_by_role("button", name="STOP")
        for attempt in range(2):
            if attempt and stop.is_visible():  # STOP came just after the wait: slow, not failed
                return 0
            start.click(timeout=10_000)
            try:
                stop.wait_for(timeout=wait_s * 1000)
                self.start_retries += attempt
                return attempt
            except Exception:  # playwright TimeoutError: no STOP yet
                continue
        self.start_retries += 1
        raise HarnessError(f"STOP never appeared after 2 START clicks ({wait_s:.0f} s each)")

    def stop_voice(self, wait_s: float = STOP_WAIT_S) -> float:
        """Click STOP and wait for the START button to return; the seconds it took.

        The component swaps the button (and stops its tracks, which ends the server's
        uplink track) in the STOP click's own handler: nothing on the server is waited
        for. So only time in which the page could run script counts towards ``wait_s``:
        on a starved machine the page's main thread was seen to run nothing for ~15 s,
        which is the machine, not the app. A page that stays responsive and still shows
        no START within ``wait_s`` fails (a real bug), and so does any STOP not done within
        ``STOP_LIMIT_S``. A STOP slower than ``SLOW_STOP_S`` prints its timeline: the
        component's clicks, connection states and main-thread tasks over 1 s.
        """
        frame = self.frame_locator()
        start, stop = frame.get_by_role("button", name="START"), frame.get_by_role("button", name="STOP")
        clicked, clicked_ms = time.monotonic(), time.time() * 1000
        stop.click(timeout=10_000)
        stalled = 0.0  # seconds in which the page took over STALLED_SCRIPT_S to run an empty script
        reclicked = False
        while True:
            try:
                start.wait_for(timeout=1_000)
                break
            except Exception:  # playwright TimeoutError: no START yet
                pass
            lag = self._script_lag()
            if lag > STALLED_SCRIPT_S:
                stalled += lag
            elapsed = time.monotonic() - clicked
            if not reclicked and elapsed - stalled >= MISSED_CLICK_S and not self._stop_clicked_since(clicked_ms):
                # A mouse click lands where the button was when Playwright measured it; the
                # Streamlit page can move the iframe under it in between (a rerun's layout),
                # and the frame then records no click on STOP at all. Click once more, as
                # E2E.md does for START; the retry is counted.
                reclicked = True
                self.stop_retries += 1
                with contextlib.suppress(Exception):  # STOP just gone: START is on its way
                    stop.click(timeout=5_000)
            if elapsed - stalled >= wait_s or elapsed >= STOP_LIMIT_S:
                raise HarnessError(
                    f"START did not return {elapsed:.1f} s after the STOP click ({stalled:.1f} s of it with the page "
                    f"unresponsive); component events since the click (ms after it, what, detail): "
                    f"{self._events_since(clicked_ms)}\n{self.page_diagnosis()}")
        took = time.monotonic() - clicked
        self.stop_waits.append(took)
        if took > SLOW_STOP_S:  # shown with the test's output
            print(f"STOP -> START took {took:.1f} s ({stalled:.1f} s with the page unresponsive); component events "
                  f"since the click (ms after it, what, detail): {self._events_since(clicked_ms)}")
        return took

    def click_stop(self) -> float:
        """Click STOP until the component's frame records the click (once more at most, counted
        in ``stop_retries``, as ``stop_voice`` does); the ``time.monotonic()`` of the click it
        recorded, or of the last click when it recorded none (the caller's check then fails).

        A rerun's layout can move the iframe under the mouse between Playwright measuring the
        button and clicking it; the frame then records no click on STOP at all."""
        stop = self.frame_locator().get_by_role("button", name="STOP")
        for attempt in range(2):
            clicked, clicked_ms = time.monotonic(), time.time() * 1000
            with contextlib.suppress(Exception):  # STOP already gone: the first click landed
                stop.click(timeout=10_000 if attempt == 0 else 5_000)
            while time.monotonic() - clicked < MISSED_CLICK_S:
                if self._stop_clicked_since(clicked_ms):
                    return clicked
                self.page.wait_for_timeout(100)  # poll the frame's click log
            if attempt == 0:
                self.stop_retries += 1
        return clicked

    def _stop_clicked_since(self, epoch_ms: float) -> bool:
        return any(what == "click" and detail == "STOP" for t, what, detail in self.component_events()
                   if t >= epoch_ms)

    def _script_lag(self) -> float:
        """Seconds the component's frame takes to run an empty script (its main thread's backlog)."""
        began = time.monotonic()
        self.webrtc_frame().evaluate("() => 0")
        return time.monotonic() - began

    def _events_since(self, epoch_ms: float) -> list[tuple[int, str, str]]:
        return [(int(t - epoch_ms), what, detail) for t, what, detail in self.component_events() if t >= epoch_ms - 1000]

    def component_events(self) -> list[tuple[int, str, str]]:
        """The component frame's clicks and connection-state changes, oldest first."""
        try:
            return [tuple(row) for row in self.webrtc_frame().evaluate("() => window.__events || []")]
        except Exception as exc:  # a closed page: the diagnosis must not hide the failure
            return [(0, "unreadable", type(exc).__name__)]

    def energy_samples(self) -> list[EnergySample]:
        """The 50 ms getStats samples recorded so far in the component's frame."""
        rows = self.webrtc_frame().evaluate("() => window.__energy || []")
        return [EnergySample(t=row[0] / 1000.0, connection=int(row[1]), energy=float(row[2]), packets=int(row[3]),
                             jitter_delay=float(row[4]), jitter_emitted=int(row[5]))
                for row in rows]

    # ---- transcript and chat

    def state_text(self) -> str:
        return self.page.locator(".st-key-session-state").first.inner_text(timeout=10_000).strip()

    def transcript_text(self) -> str:
        locator = self.page.locator(".st-key-transcript")
        return locator.first.inner_text(timeout=10_000) if locator.count() else ""

    def user_messages(self) -> list[str]:
        """The analyst's entries in the transcript (user avatar), in order, squashed."""
        messages = self.page.locator('.st-key-transcript [data-testid="stChatMessage"]').filter(
            has=self.page.locator('[data-testid="stChatMessageAvatarUser"]'))
        return [squash(text) for text in messages.locator('[data-testid="stChatMessageContent"]').all_inner_texts()]

    def wait_for_transcript(self, needle: str, timeout_s: float) -> str:
        """Wait until the transcript contains ``needle``; return the transcript text."""
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.transcript_text()
            if needle in squash(text):
                return text
            self.page.wait_for_timeout(200)  # poll the DOM; the page updates every 0.3-0.5 s
        raise HarnessError(f"the transcript did not show {needle!r} within {timeout_s:.0f} s; it shows:\n"
                           f"{text[-2000:]}\n{self.page_diagnosis()}")

    def page_diagnosis(self) -> str:
        """The badge, any exception box and whether the page is still running, for a failure message."""
        def read(selector: str) -> str:
            try:
                locator = self.page.locator(selector)
                return " | ".join(t.strip() for t in locator.all_inner_texts())[:1500] or "(none)"
            except Exception as exc:  # the page may be gone; the diagnosis must not hide the failure
                return f"(unreadable: {type(exc).__name__})"
        badge, errors = read(".st-key-session-state"), read('[data-testid="stException"]')
        running = read('[data-testid="stStatusWidget"]')
        return f"page diagnosis: badge {badge!r}; exceptions {errors!r}; status widget {running!r}; url {self.page.url}"

    def ask(self, text: str, *, confirm: bool = True) -> None:
        """Type ``text`` into the chat input and send it; with ``confirm``, until it is in the transcript.

        Seen on a restored conversation just after a server's first page load (about one run
        in three of the store test): the box cleared on Enter, yet the server's next run had
        no value for the chat input (its widget state was not in the client's message), so
        the question never reached the model. An analyst sees it not appear and types it
        again; so does this, once, counted in ``ask_retries``. A question that never reaches
        the transcript fails.
        """
        box = self.page.get_by_placeholder(CHAT_PLACEHOLDER)
        seen = squash(text)
        before = self.user_messages().count(seen) if confirm else 0
        for attempt in range(2 if confirm else 1):
            box.wait_for(state="visible", timeout=15_000)
            box.fill(text)
            box.press("Enter")
            if not confirm:
                return
            deadline = time.monotonic() + ASK_CONFIRM_S
            while time.monotonic() < deadline:
                if self.user_messages().count(seen) > before:
                    self.ask_retries += attempt
                    return
                self.page.wait_for_timeout(200)  # DOM poll: the live panel redraws every 0.4 s
        self.ask_retries += 1
        raise HarnessError(f"the typed question {text[:60]!r} did not reach the transcript after 2 tries "
                           f"({ASK_CONFIRM_S:.0f} s each)\n{self.page_diagnosis()}")

    def submit(self, button: Any, notice: str) -> None:
        """Click the form button ``button`` until the transcript says ``notice``.

        Seen once in six clean-clone runs (the Talk page's "Save as trusted query"): the
        question was in the box, the click landed, and the server saved nothing and said
        nothing; the live panel redraws the transcript every 0.4 s, the same class of lost
        input as the typed question ``ask`` retries. An analyst sees nothing happen and
        clicks again; so does this, once, while the button is still there (a form that did
        submit is gone, so nothing is done twice), counted in ``submit_retries``.
        """
        for attempt in range(2):
            button.click()
            try:
                self.wait_for_transcript(notice, timeout_s=ASK_CONFIRM_S)
            except AssertionError:
                if attempt or not button.is_visible():
                    raise
                self.submit_retries += 1
                continue
            return

    def download(self, label: str, folder: Path) -> Path:
        """Click the download button ``label``; the file saved under ``folder``."""
        with self.page.expect_download(timeout=60_000) as info:
            self.page.get_by_role("button", name=label).click()
        target = folder / info.value.suggested_filename
        info.value.save_as(target)
        return target

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.page.close()


def page_url(path: str) -> re.Pattern[str]:
    """A URL on ``path``, whatever its query (the app keeps ``?conversation=…`` there)."""
    return re.compile(rf"^[^?#]*{re.escape(path.rstrip('/') or '/')}/?(?:[?#].*)?$")


def squash(text: str) -> str:
    """Collapse whitespace (the DOM wraps and splits lines) for substring checks."""
    return " ".join(text.split())
