"""What screen readers need and Streamlit cannot say: live regions and named meters.

Streamlit 1.67 gives no way to put ARIA attributes on what it draws, so this module adds
one small script to every page (``apply()``, called by the shell) that fills in, and keeps
filling in as Streamlit re-renders:

- every ``st.progress`` bar is named by its own text (Streamlit names them all
  "progress"), so a meter reads e.g. "Microphone: -23 dBFS";
- the live regions pages register with ``live_regions()``: a container, found by its key
  (class ``st-key-<key>``), gets ``role``/``aria-live``/``aria-atomic``. Streamlit keeps a
  keyed container's node across reruns (checked in the browser: the Talk page's pill keeps
  its node from idle to listening to closed), so a screen reader announces the region's
  text when it changes, and nothing when a rerun draws the same text again;
- containers whose key starts with ``sr-`` are visually hidden but read by screen readers;
- code inside a caption takes the caption's colour (see ``_CSS``).

The theme (``.streamlit/config.toml``) gives every text its contrast; see
``docs/accessibility.md`` for what is tested and what is not.

Threads: the session's script thread (page runs).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import streamlit as st

__all__ = ["SR_ONLY_PREFIX", "LiveRegion", "ScriptMarkupError", "apply", "live_regions", "page_script",
           "regions_script", "script_tag"]

SR_ONLY_PREFIX = "sr-"


@dataclass(frozen=True)
class LiveRegion:
    """ARIA attributes of one live region (``role`` may be empty: a bare ``aria-live``)."""

    role: str = ""
    live: str = "polite"  # polite | assertive
    atomic: bool = True  # read the whole region, not only what changed


_CSS = f"""<style>
/* Captions are drawn at 60 % opacity, code inside them too: a coloured code span then falls
   under 4.5:1 in either theme. In a caption, code takes the caption's own (passing) colour. */
[data-testid="stCaptionContainer"] code {{ color: inherit; }}
[class*="st-key-{SR_ONLY_PREFIX}"] {{
  position: absolute !important; width: 1px !important; height: 1px !important; padding: 0 !important;
  margin: -1px !important; overflow: hidden !important; clip-path: inset(50%) !important;
  white-space: nowrap !important; border: 0 !important; }}
</style>"""

# Installs one observer per page (window-level guard: st.html re-mounts on page changes);
# live_regions() scripts only add to window.__livechatLiveRegions, which it reads.
_SCRIPT = """(() => {
  window.__livechatLiveRegions = window.__livechatLiveRegions || {};
  if (window.__livechatA11y) return;
  window.__livechatA11y = true;
  const set = (el, name, value) => { if (value && el.getAttribute(name) !== value) el.setAttribute(name, value); };
  const mark = () => {
    for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
      const text = bar.querySelector('[data-testid="stMarkdownContainer"]');
      const meter = bar.querySelector('[role="progressbar"]');
      if (text && meter) set(meter, "aria-label", text.textContent.trim());
    }
    for (const [key, region] of Object.entries(window.__livechatLiveRegions)) {
      for (const el of document.querySelectorAll(".st-key-" + CSS.escape(key))) {
        set(el, "role", region.role);
        set(el, "aria-live", region.live);
        set(el, "aria-atomic", region.atomic ? "true" : "false");
      }
    }
  };
  window.__livechatA11yMark = mark;
  // The Talk page changes text several times a second: mark at most every 100 ms.
  let pending = null;
  const later = () => { if (!pending) pending = setTimeout(() => { pending = null; mark(); }, 100); };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true, characterData: true});
  mark();
})();"""


class ScriptMarkupError(ValueError):
    """A script would not survive Streamlit's HTML sanitizer."""


_TAG_LIKE = re.compile(r"<[/\w]")


def script_tag(body: str) -> str:
    """``<script>body</script>`` for ``st.html``, refusing a body the sanitizer would drop.

    Streamlit sanitizes ``st.html`` with DOMPurify, which silently drops any element
    whose text looks like markup (``<`` followed by a letter or ``/``): such a script
    simply would not run, so it is refused here, naming the spot.
    """
    found = _TAG_LIKE.search(body)
    if found:
        raise ScriptMarkupError(f"the script contains markup-like text, which the sanitizer drops: "
                                f"{body[max(0, found.start() - 30):found.end() + 30]!r}")
    return f"<script>{body}</script>"


def page_script() -> str:
    """The observer that names progress bars and marks registered live regions."""
    return script_tag(_SCRIPT)


def regions_script(regions: Mapping[str, LiveRegion]) -> str:
    """A script registering ``regions`` (container key -> attributes) with the observer."""
    table = json.dumps({key: asdict(region) for key, region in regions.items()}, sort_keys=True)
    return script_tag("(() => { window.__livechatLiveRegions = Object.assign(window.__livechatLiveRegions || {}, "
                   f"{table}); if (window.__livechatA11yMark) window.__livechatA11yMark(); }})();")


def apply() -> None:
    """Add the stylesheet and the observer to this page (every page, from the shell)."""
    st.html(_CSS)
    st.html(page_script(), unsafe_allow_javascript=True)


def live_regions(regions: Mapping[str, LiveRegion]) -> None:
    """Make the containers keyed by ``regions``' keys live regions on this page."""
    st.html(regions_script(regions), unsafe_allow_javascript=True)
