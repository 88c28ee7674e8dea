"""How the Talk page looks: the state pill's colours and icons, phone width, the voice skin.

Streamlit styles only what it draws, so the page adds three things (all static strings
built from our own tables, never from user data):

- ``page_css()``: the status row (a coloured pill per state with a Material Symbols icon
  drawn by CSS, so the badge's text stays exactly ``Session: <state>``), the "model is
  speaking" indicator, and rules that keep the page inside a 390 px wide phone screen;
- ``voice_skin_script()``: streamlit-webrtc 0.79 draws its controls in an iframe and
  always shows a receive placeholder (a grey box with a monitor icon, a spinner while
  signalling) above START, and a camera preview box in its device form, even for an
  audio-only stream. No argument of ``webrtc_streamer`` removes them, and the page's CSS
  cannot reach into the iframe, so this script adds a stylesheet *inside* the component's
  (same-origin) frame that hides them, keeps the frame's height fitted to what is left,
  and turns the library's "SELECT DEVICE" button into "Microphone: <device> ▾". The
  device choice itself is the library's: it keeps it per component key in the browser's
  localStorage (``streamlit-webrtc:device-ids:voice``), so it is remembered across reruns,
  reloads and page changes in that browser. Nothing here touches signalling or media, so
  START behaves as before (bench/bench_e2e.py measures it);
- ``apply()``: renders both (Streamlit calls; the only streamlit import here).

Threads: the session's script thread (page runs).
"""

from __future__ import annotations

import json

import streamlit as st

from livechat.ui import a11y
from livechat.ui.a11y import ScriptMarkupError
from livechat.ui.talk_status import PILLS

__all__ = [
    "BADGE_KEY",
    "MIC_LABEL",
    "MIC_LEVEL_KEY",
    "REPLY_ANNOUNCER_KEY",
    "SkinScriptError",
    "SPEAKING_KEY",
    "STATUS_ROW_KEY",
    "apply",
    "page_css",
    "pill_key",
    "voice_skin_script",
]

STATUS_ROW_KEY = "talk-status"
BADGE_KEY = "session-state"  # the pill's container, mirrored into a role="status" region
# Not shown (``a11y-`` prefix): the latest finished reply, mirrored into a live region.
REPLY_ANNOUNCER_KEY = f"{a11y.SOURCE_PREFIX}latest-reply"
SPEAKING_KEY = "model-speaking"
MIC_LEVEL_KEY = "mic-level"
PILL_KEY_PREFIX = "pill-"
# The library's "select_device" button text (``translations``); the skin adds the device.
MIC_LABEL = "Microphone"
WEBRTC_FRAME = "iframe[title*='streamlit_webrtc']"
# The component's frame is titled with the library's module path; screen readers read this.
FRAME_NAME = "Voice call: START and STOP"
DEVICE_STORAGE_KEY = "streamlit-webrtc:device-ids:voice"  # the library's key for component "voice"

# tone -> (background, text/icon colour, border). Text on background >= 4.5:1 (WCAG AA),
# whatever the page's theme: the pill draws its own background.
_TONES = {
    "neutral": ("#eef0f4", "#31333f", "#d5d8e0"),
    "progress": ("#fff4d6", "#6b4700", "#f2d48a"),
    "live": ("#e3f6e8", "#0b5d27", "#9fd8b0"),
    "speaking": ("#e6eefc", "#153f91", "#a9c1f2"),
    "warning": ("#fff0e0", "#8a4100", "#f4c08d"),
    "danger": ("#fde7e7", "#9b1414", "#f2a9a9"),
}


# "The model is speaking" is a chip of the speaking tone: its own background keeps its
# contrast in the light and the dark theme alike.
_SPEAKING = _TONES["speaking"]


def pill_key(state: str) -> str:
    """The key of the container inside ``session-state`` whose class names the state."""
    return f"{PILL_KEY_PREFIX}{state}"


def _pill_rules() -> str:
    rules = []
    for pill in PILLS.values():
        background, colour, border = _TONES[pill.tone]
        rules.append(
            f".st-key-{pill_key(pill.state)} {{ background: {background}; color: {colour}; "
            f"border-color: {border} !important; --pill-icon: {json.dumps(pill.icon)}; }}"
        )
    return "\n".join(rules)


def page_css() -> str:
    """The Talk page's stylesheet (a ``<style>`` element)."""
    return f"""<style>
/* The status row: pill, "model is speaking", caption; wraps on a narrow screen. */
.st-key-{STATUS_ROW_KEY} {{ align-items: center; row-gap: 0.4rem; column-gap: 1rem; }}
.st-key-{STATUS_ROW_KEY} > div {{ flex: 0 1 auto !important; width: auto !important; min-width: 0; }}
.st-key-{BADGE_KEY} {{ width: fit-content !important; flex: 0 0 auto; }}
.st-key-{BADGE_KEY} [class*="st-key-{PILL_KEY_PREFIX}"] {{
  width: fit-content !important; border: 1px solid transparent; border-radius: 999px;
  padding: 0.3rem 0.95rem 0.3rem 0.7rem; }}
.st-key-{BADGE_KEY} [class*="st-key-{PILL_KEY_PREFIX}"] p {{
  font-size: 1.05rem; font-weight: 650; line-height: 1.5rem; white-space: nowrap; }}
.st-key-{BADGE_KEY} [class*="st-key-{PILL_KEY_PREFIX}"] p::before {{
  content: var(--pill-icon) / ""; font-family: "Material Symbols Rounded"; font-weight: normal;
  font-size: 1.3rem; vertical-align: -0.3rem; margin-right: 0.4rem; }}
{_pill_rules()}
.st-key-{SPEAKING_KEY} {{ width: fit-content !important; flex: 0 0 auto; color: {_SPEAKING[1]};
  background: {_SPEAKING[0]}; border-radius: 999px; padding: 0.15rem 0.7rem 0.15rem 0.5rem; }}
.st-key-{SPEAKING_KEY} p {{ font-weight: 600; white-space: nowrap; }}
.st-key-{SPEAKING_KEY} p::before {{
  content: "graphic_eq" / ""; font-family: "Material Symbols Rounded"; font-weight: normal;
  font-size: 1.3rem; vertical-align: -0.3rem; margin-right: 0.3rem; }}
/* Static on purpose: the page repaints only when the state changes. A looping animation
   repaints ~60 times a second, CPU that a software-rendered browser takes from audio capture. */
/* The live panel reruns every 0.4 s; on a busy host a run takes longer and Streamlit fades
   what it is redrawing ("stale"): captions then dimmed to 4:1 (under WCAG AA) and the pill
   flickered. Here the panel's content is current to within a poll: never faded. */
[data-testid="stElementContainer"][data-stale="true"] {{ opacity: 1 !important; transition: none !important; }}
/* Phone width: nothing may be wider than the screen (no horizontal scrolling). */
.st-key-transcript, .st-key-transcript [data-testid="stChatMessage"] {{ min-width: 0; max-width: 100%; }}
.st-key-transcript pre, .st-key-transcript code {{ white-space: pre-wrap; overflow-wrap: anywhere; }}
.st-key-transcript [data-testid="stText"] {{ overflow-wrap: anywhere; }}
.st-key-transcript [data-testid="stVegaLiteChart"], .st-key-transcript [data-testid="stJson"] {{
  max-width: 100%; overflow-x: auto; }}
@media (max-width: 640px) {{
  .st-key-{BADGE_KEY} [class*="st-key-{PILL_KEY_PREFIX}"] p {{ font-size: 1rem; }}
}}
</style>"""


# Runs inside the component's frame (inserted as a <script> there, so it posts as that frame).
_INNER_SCRIPT = """(() => {
  if (window.__livechatVoiceSkin) return;
  window.__livechatVoiceSkin = true;
  const LABEL = %(label)s, STORAGE_KEY = %(storage)s;
  let device = "";
  // The frame's height follows what is left once the skin hid the media area. The body's
  // own box may be pinned to the frame's height, so the content's boxes are observed too;
  // a zero height (before the component rendered) is never sent: it would hide the frame.
  let sent = -1;
  const post = () => {
    const height = document.body.scrollHeight;
    if (height <= 0 || height === sent) return;
    sent = height;
    window.parent.postMessage({isStreamlitMessage: true, type: "streamlit:setFrameHeight", height}, "*");
  };
  const sizes = new ResizeObserver(post);
  const watch = () => { sizes.observe(document.body); for (const el of document.body.children) sizes.observe(el); };
  const relabel = () => {
    for (const button of document.querySelectorAll("button")) {
      for (const node of button.childNodes) {
        if (node.nodeType !== Node.TEXT_NODE) continue;
        if (node.nodeValue === LABEL || node.nodeValue.startsWith(LABEL + ": ")) {
          const text = LABEL + ": " + (device || "browser default") + " \\u25BE";
          if (node.nodeValue !== text) node.nodeValue = text;
          button.classList.add("livechat-mic-picker");
          button.title = "Choose the microphone (remembered in this browser)";
          // Read without the arrow glyph, and saying what the button does.
          const name = LABEL + ": " + (device || "browser default") + ". Choose the microphone";
          if (button.getAttribute("aria-label") !== name) button.setAttribute("aria-label", name);
          button.setAttribute("aria-haspopup", "dialog");
        }
      }
    }
  };
  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(async () => {
      pending = null;
      try {
        let chosen = "";
        try { chosen = (JSON.parse(localStorage.getItem(STORAGE_KEY) || "{}") || {}).audio || ""; } catch (e) {}
        const inputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput");
        const match = inputs.find((d) => d.deviceId === chosen) || inputs.find((d) => d.deviceId === "default");
        device = (match && match.label) || "";
      } catch (e) { device = ""; }
      relabel();
    }, 50);
  };
  new MutationObserver(() => { watch(); relabel(); refresh(); post(); })
    .observe(document.body, {childList: true, subtree: true});
  if (navigator.mediaDevices) navigator.mediaDevices.addEventListener("devicechange", refresh);
  watch(); relabel(); refresh(); post();
})();"""

_INNER_CSS = """
/* No video area: the receive placeholder (monitor icon, or a spinner while signalling),
   any video element, and the camera preview of the device form. */
.MuiPaper-root:has(> [data-testid="VideoLabelIcon"]),
.MuiPaper-root:has(> .MuiCircularProgress-root),
div:has(> .MuiPaper-root > [data-testid="VideocamOffIcon"]),
video { display: none !important; }
/* The microphone picker reads as a control, not as a bare text button. */
button.livechat-mic-picker { text-transform: none; border: 1px solid rgba(49, 51, 63, 0.3);
  border-radius: 0.5rem; padding: 4px 10px; max-width: 62vw; overflow: hidden;
  text-overflow: ellipsis; white-space: nowrap; display: inline-block; }
"""

_OUTER_SCRIPT = """<script>
(() => {
  if (window.__livechatVoiceSkinHost) return;
  window.__livechatVoiceSkinHost = true;
  const FRAME = %(frame)s, CSS = %(css)s, JS = %(js)s, NAME = %(name)s;
  const skin = (frame) => {
    let doc = null;
    try { doc = frame.contentDocument; } catch (e) { return; }
    if (!doc || !doc.head || !doc.body || doc.getElementById("livechat-voice-skin")) return;
    if (!doc.querySelector("script[src]")) return;  // still the frame's blank first document
    const style = doc.createElement("style");
    style.id = "livechat-voice-skin";
    style.textContent = CSS;
    doc.head.appendChild(style);
    const script = doc.createElement("script");
    script.textContent = JS;
    doc.head.appendChild(script);
  };
  const scan = () => {
    for (const frame of document.querySelectorAll(FRAME)) {
      if (frame.getAttribute("aria-label") !== NAME) frame.setAttribute("aria-label", NAME);
      if (!frame.__livechatSkinHooked) {
        frame.__livechatSkinHooked = true;
        frame.addEventListener("load", () => skin(frame));
      }
      skin(frame);
    }
  };
  new MutationObserver(scan).observe(document.body, {childList: true, subtree: true});
  scan();
})();
</script>"""


# Raised by voice_skin_script (the name the tests and callers know).
SkinScriptError = ScriptMarkupError


def voice_skin_script() -> str:
    """The ``<script>`` that skins the voice component's frame (see the module docstring).

    Its body must survive Streamlit's HTML sanitizer (``a11y.script_tag`` refuses one
    that would not, raising ``SkinScriptError``).
    """
    inner = _INNER_SCRIPT % {"label": json.dumps(MIC_LABEL), "storage": json.dumps(DEVICE_STORAGE_KEY)}
    script = _OUTER_SCRIPT % {"frame": json.dumps(WEBRTC_FRAME), "css": json.dumps(_INNER_CSS),
                              "js": json.dumps(inner), "name": json.dumps(FRAME_NAME)}
    return a11y.script_tag(script.removeprefix("<script>").removesuffix("</script>"))


def apply() -> None:
    """Add the page's stylesheet, the voice skin and the live regions (once per run;
    idempotent in the browser).

    Live regions (``livechat.ui.a11y``): the pill's text goes to a ``role="status"`` region
    (a screen reader says "Session: listening" once when the state changes); the latest
    finished reply to a polite one (read once, whole). Errors need no region of their own:
    ``st.error`` is ``role="alert"``.
    """
    st.html(page_css())
    st.html(voice_skin_script(), unsafe_allow_javascript=True)
    a11y.live_regions({BADGE_KEY: a11y.LiveRegion(role="status"), REPLY_ANNOUNCER_KEY: a11y.LiveRegion()})
