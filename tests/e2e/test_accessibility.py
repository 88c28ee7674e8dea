"""Every page passes an accessibility audit, and a call runs without a mouse or a screen (issue 34).

axe-core (the npm package, installed by ``make test`` into ``tests/e2e/axe``) is injected
by Playwright into each page and into the voice component's frame, and run as an
analyst's accessibility checker would:

- on the Data page, the Settings page, and the Talk page idle and during a call, in the
  light and the dark theme (the browser's colour scheme picks it), at desktop and phone
  width. A test fails on any serious or critical violation, and on any violation kind a
  bare Streamlit page (an uploader, a table, a chat input; measured in the same browser,
  theme and width, not written down here) does not have: those are Streamlit's own;
- names: the microphone meter, the report button, the voice component's frame, the
  microphone picker and (in the audit) the table ticks are named for what they are;
- a keyboard-only call: Tab reaches START inside the component's frame, Enter starts the
  call, Tab reaches STOP and Space ends it; then Tab reaches the chat box and Enter sends a
  typed question. What went through the pill's ``role="status"`` region is recorded
  in the page (every change a screen reader would announce) and must read
  listening → responding → closed with nothing said twice in a row; the hidden reply
  announcer must carry each finished reply whole, never a part of one.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.e2e import harness
from tests.e2e.harness import REPO_ROOT, squash
from tests.requirements_gate import unavailable

pytestmark = pytest.mark.e2e

AXE_JS = REPO_ROOT / "tests" / "e2e" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": (1400, 1000), "phone": (390, 844)}
THEMES = ("light", "dark")
FAILING_IMPACTS = frozenset({"serious", "critical"})
PILL_STATES = ("idle", "connecting", "listening", "responding", "reconnecting", "error", "closed")
MAX_TABS = 80  # Tab presses allowed to reach a control (the page has fewer stops than this)
PILL_REGION = "#livechat-live-session-state"  # livechat.ui.a11y's mirror of the pill's text
REPLY_REGION = "#livechat-live-a11y-latest-reply"  # ... and of the latest finished reply

# A bare Streamlit page with what our pages are built from: its violation kinds are Streamlit's.
BARE_APP = '''import pandas as pd
import streamlit as st

st.title("Bare page")
st.file_uploader("Upload a file")
st.dataframe(pd.DataFrame({"name": ["a", "b"], "value": [1, 2]}))
st.chat_input("Ask something")
'''
# Two small tables uploaded together: the Data page lists them with a tick each.
TABLES = {"keepers": "keeper,station\nAnn,North\nBo,South\n",
          "storms": "station,nights\nNorth,3\nSouth,5\n"}
BARE_CONFIG = "[server]\nheadless = true\n\n[browser]\ngatherUsageStats = false\n"

# Records, in the top page, every change of the pill's role="status" region and of the reply
# announcer, as a screen reader would get them: one entry per DOM update. Runs once
# per document (Chromium reuses the window of the initial about:blank for the first page,
# so the guard is on the document, not the window).
_ANNOUNCEMENTS_SCRIPT = """(() => {
  if (window !== window.top || document.__announcing) return;
  document.__announcing = true;
  window.__announced = {pill: [], reply: []};
  const observer = new MutationObserver((mutations) => {
    const touched = new Set();
    for (const m of mutations) {
      const node = m.target.nodeType === Node.ELEMENT_NODE ? m.target : m.target.parentElement;
      if (!node) continue;
      const region = node.closest('[role="status"], [aria-live]');
      if (region) touched.add(region);
    }
    for (const region of touched) {
      const text = region.textContent.replace(/\\s+/g, " ").trim();
      if (region.matches('%(pill)s[role="status"]')) window.__announced.pill.push(text);
      else if (region.matches('%(reply)s')) window.__announced.reply.push(text);
    }
  });
  observer.observe(document, {childList: true, subtree: true, characterData: true});
})();""" % {"pill": PILL_REGION, "reply": REPLY_REGION}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.is_file():
        reason = f"axe-core is not installed at {AXE_JS}: run `make test` (npm ci --prefix tests/e2e/axe)"
        unavailable(reason)
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bare_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.AppServer]:
    root = tmp_path_factory.mktemp("bare-streamlit")
    (root / ".streamlit").mkdir()
    (root / ".streamlit" / "config.toml").write_text(BARE_CONFIG)
    (root / "app.py").write_text(BARE_APP)
    env = {name: value for name, value in os.environ.items() if not name.startswith("STREAMLIT_")}
    app = harness.AppServer(log_path=root / "bare.log", env=env, repo_root=root)
    try:
        app.start()
        yield app
    finally:
        app.stop()


def _open_talk(tab: harness.TalkPage, base_url: str) -> None:
    """Load ``/talk`` and wait for START and the idle pill (generous: a loaded shared machine)."""
    tab.goto(base_url, "/talk")
    tab.wait_for_component(timeout_s=60.0)
    tab.page.locator(".st-key-pill-idle").wait_for(timeout=30_000)


def _settle(page: Any, *, app: bool = True) -> None:
    """Wait until the page is drawn: our accessibility script ran (``app``: it comes with the
    app's stylesheet, in the shell) and no element is left stale from a previous run."""
    if app:
        page.wait_for_function("() => window.__livechatA11y === true", timeout=30_000)
    page.wait_for_function("() => document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                           timeout=30_000)


def _assert_theme(page: Any, theme: str) -> None:
    """The app really is in ``theme`` (so a pass in "dark" is not a second light run)."""
    luminance = page.evaluate("""() => {
      const m = getComputedStyle(document.querySelector('.stApp')).backgroundColor.match(/[\\d.]+/g).map(Number);
      return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255;
    }""")
    assert (luminance < 0.3) == (theme == "dark"), f"the app's background luminance {luminance:.2f} is not {theme}"


def _audit(page: Any, source: str) -> list[dict]:
    """Run axe-core on the page and every same-origin frame; return its violations."""
    for frame in page.frames:
        if frame.url.startswith("http") and not frame.evaluate("() => typeof window.axe !== 'undefined'"):
            frame.add_script_tag(content=source)
    return page.evaluate("""async () => {
      const result = await axe.run(document, {resultTypes: ['violations'], frameWaitTime: 15000});
      return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({target: n.target.join(' > '), summary: n.failureSummary}))}));
    }""")


def _problems(violations: list[dict], baseline: set[str]) -> list[dict]:
    return [v for v in violations if v["impact"] in FAILING_IMPACTS or v["id"] not in baseline]


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(f"    {node['target'][:160]}: {' '.join(node['summary'].split())[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("size", list(VIEWPORTS))
@pytest.mark.parametrize("theme", THEMES)
def test_every_page_passes_axe(theme: str, size: str, axe_source: str, bare_app: harness.AppServer,
                               e2e_stack, browser_factory, single_question_wav: Path, tmp_path: Path) -> None:
    width, height = VIEWPORTS[size]
    tab = browser_factory(single_question_wav).new_page()
    page = tab.page
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(color_scheme=theme)

    tab.goto(bare_app.url, "/")
    page.get_by_placeholder("Ask something").wait_for(timeout=30_000)
    page.locator('[data-testid="stDataFrame"] th').first.wait_for(state="attached", timeout=30_000)
    _settle(page, app=False)
    _assert_theme(page, theme)
    bare = _audit(page, axe_source)
    baseline = {v["id"] for v in bare if v["impact"] not in FAILING_IMPACTS}
    print(f"\n[{theme}/{size}] bare Streamlit page: {sorted((v['id'], v['impact']) for v in bare)}")

    found: dict[str, list[dict]] = {}
    tab.goto(e2e_stack.app.url, "/")
    page.get_by_role("tab", name="What the model sees").wait_for(timeout=30_000)
    _settle(page)
    _assert_theme(page, theme)
    found["Data"] = _audit(page, axe_source)

    tab.goto(e2e_stack.app.url, "/settings")
    page.get_by_role("heading", name="Installed versions").wait_for(timeout=30_000)
    _settle(page)
    found["Settings"] = _audit(page, axe_source)

    _open_talk(tab, e2e_stack.app.url)
    _settle(page)
    found["Talk (idle)"] = _audit(page, axe_source)

    tab.start_voice()
    page.locator(".st-key-pill-listening").wait_for(timeout=30_000)
    found["Talk (in a call)"] = _audit(page, axe_source)
    tab.stop_voice()

    # Several tables: the Data page's list of ticks (each named by its table).
    tab.goto(e2e_stack.app.url, "/")
    page.get_by_role("tab", name="What the model sees").wait_for(timeout=30_000)
    files = []
    for name, frame in TABLES.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(frame)
        files.append(str(path))
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(files)
    for name in TABLES:
        page.get_by_role("checkbox", name=re.compile(rf"\b{name}\b")).first.wait_for(state="attached", timeout=30_000)
    _settle(page)
    found["Data (two tables)"] = _audit(page, axe_source)

    for name, violations in found.items():
        print(f"[{theme}/{size}] {name}: {sorted((v['id'], v['impact']) for v in violations)}")
    failing = {name: _problems(violations, baseline) for name, violations in found.items()}
    failing = {name: problems for name, problems in failing.items() if problems}
    assert not failing, "\n".join(
        [f"accessibility violations ({theme} theme, {size}; the bare page has {sorted(baseline)}):"]
        + [f"{name}:\n{_describe(problems)}" for name, problems in failing.items()])


# ----------------------------------------------------------------------------- keyboard only


def _focused_in_component(tab: harness.TalkPage) -> str:
    """The text of the focused element inside the voice component's frame ('' if focus is elsewhere)."""
    if not tab.page.evaluate("() => !!document.activeElement && document.activeElement.matches(\"%s\")"
                             % harness.WEBRTC_IFRAME.replace('"', '\\"')):
        return ""
    return tab.webrtc_frame().evaluate("() => (document.activeElement && document.activeElement.innerText) || ''")


def _tab_to(tab: harness.TalkPage, reached: Any, what: str) -> int:
    """Press Tab until ``reached()`` is true; return the presses used."""
    for presses in range(MAX_TABS + 1):
        if reached():
            return presses
        tab.page.keyboard.press("Tab")
    raise harness.HarnessError(f"{MAX_TABS} Tab presses did not reach {what}")


def _press_until(tab: harness.TalkPage, key: str, label: str, until: str) -> int:
    """Press ``key`` on the focused component button ``label``; wait for button ``until``.

    Like a START click (E2E.md), the first press can land before the component is wired
    up: once, if ``until`` has not appeared within START_WAIT_S, the key is pressed again.
    Returns the retries used.
    """
    target = tab.frame_locator().get_by_role("button", name=until)
    for attempt in range(2):
        if attempt and target.is_visible():
            return 0
        assert _focused_in_component(tab).strip().upper() == label, _focused_in_component(tab)
        tab.page.keyboard.press(key)
        try:
            target.wait_for(timeout=harness.START_WAIT_S * 1000)
            return attempt
        except Exception:  # playwright TimeoutError: not yet
            continue
    raise harness.HarnessError(f"{until} never appeared after pressing {key} on {label} twice")


def _chat_box_focused(tab: harness.TalkPage) -> bool:
    return tab.page.evaluate("() => !!document.activeElement && document.activeElement.placeholder === %r"
                             % harness.CHAT_PLACEHOLDER)


def test_a_call_runs_from_the_keyboard_and_is_announced(e2e_stack, browser_factory, single_question_wav) -> None:
    browser = browser_factory(single_question_wav)
    browser.context.add_init_script(_ANNOUNCEMENTS_SCRIPT)
    tab = browser.new_page()
    page = tab.page
    _open_talk(tab, e2e_stack.app.url)
    page.locator(f'{PILL_REGION}[role="status"][aria-live="polite"]').wait_for(state="attached", timeout=10_000)

    # Every control has a name that says what it is.
    page.get_by_role("progressbar", name="Microphone: not listening").wait_for(timeout=10_000)
    page.get_by_role("button", name="Prepare the report").wait_for(timeout=10_000)
    assert page.locator(harness.WEBRTC_IFRAME).get_attribute("aria-label") == "Voice call: START and STOP"
    tab.frame_locator().get_by_role("button", name=re.compile(r"^Microphone: .+\. Choose the microphone$")).wait_for(
        timeout=15_000)

    # START: Tab into the component's frame, Enter.
    presses = _tab_to(tab, lambda: _focused_in_component(tab).strip().upper() == "START", "START")
    retries = _press_until(tab, "Enter", "START", "STOP")
    print(f"\nTab presses to START: {presses}; Enter retries: {retries}")
    page.locator(".st-key-pill-listening").wait_for(timeout=30_000)

    # The spoken question is answered; the reply is announced once it is complete.
    page.locator(".st-key-pill-responding").wait_for(timeout=60_000)
    tab.wait_for_transcript(squash('You said: "'), timeout_s=60)
    page.wait_for_function("() => window.__announced.reply.some((text) => text)", timeout=60_000)

    # STOP: Tab round the page back into the frame, Space.
    _tab_to(tab, lambda: _focused_in_component(tab).strip().upper() == "STOP", "STOP")
    _press_until(tab, " ", "STOP", "START")
    page.wait_for_function("() => window.__announced.pill.slice(-1)[0] === 'Session: closed'", timeout=30_000)
    announced = page.evaluate("() => window.__announced")

    # The chat box: Tab to it, type, Enter (a typed question starts a session of its own).
    _tab_to(tab, lambda: _chat_box_focused(tab), "the chat box")
    question = "How many keepers are there?"
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 30
    while question not in tab.user_messages() and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # DOM poll: the live panel redraws every 0.4 s
    assert question in tab.user_messages(), tab.user_messages()

    print(f"pill announcements: {announced['pill']}")
    print(f"reply announcements: {[text[:60] for text in announced['reply']]}")
    # A region emptied for a moment by a rerun says nothing (a live region announces what
    # is added); the same state coming back after it would be said again, and fails below.
    pill = [text for text in announced["pill"] if text]
    assert all(re.fullmatch(rf"Session: ({'|'.join(PILL_STATES)})", text) for text in pill), pill
    assert all(a != b for a, b in zip(pill, pill[1:])), f"a state was announced twice in a row: {pill}"
    order = [pill.index(f"Session: {state}") for state in ("listening", "responding", "closed")
             if f"Session: {state}" in pill]
    assert len(order) == 3 and order == sorted(order), f"listening, responding, closed not announced in order: {pill}"

    replies = [text for text in announced["reply"] if text]  # an empty region says nothing
    finished = [squash(text) for text in page.locator(
        '.st-key-transcript [data-testid="stChatMessage"]').filter(
        has=page.locator('[data-testid="stChatMessageAvatarAssistant"]')).locator(
        '[data-testid="stChatMessageContent"] [data-testid="stText"]').all_inner_texts()]
    assert replies and all(a != b for a, b in zip(replies, replies[1:])), replies
    assert all(text in finished for text in replies), (
        f"the announcer read something that is not a whole reply: {replies} (replies: {finished})")
