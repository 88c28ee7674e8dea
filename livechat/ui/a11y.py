"""What screen readers need and Streamlit cannot say: live regions and named meters.

Streamlit 1.67 gives no way to put ARIA attributes on what it draws, so this module adds
one small script to every page (``apply()``, called by the shell) that keeps, as Streamlit
re-renders (at most every 100 ms):

- every ``st.progress`` bar named by its own text (Streamlit names them all "progress"),
  so a meter reads e.g. "Microphone: -23 dBFS";
- one live region per container a page registers with ``live_regions()`` (found by its
  key, class ``st-key-<key>``): a visually hidden element of ours, outside Streamlit's
  tree, with the region's ``role``/``aria-live``, whose text is set to the container's text
  *only when that text changes*. Streamlit may redraw a container with the same text (a
  full rerun after START drew the pill's "Session: listening" twice, seen in the browser),
  and a live region that is redrawn is announced again; the mirror is not. Its element id
  is ``livechat-live-<key>`` (the browser tests read it);
- containers whose key starts with ``a11y-`` are not shown at all: they only carry text
  for a live region (e.g. the Talk page's latest finished reply);
- code inside a caption in the caption's colour (see ``_CSS``).

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

__all__ = ["MIRROR_ID_PREFIX", "SOURCE_PREFIX", "LiveRegion", "ScriptMarkupError", "apply", "live_regions",
           "page_script", "regions_script", "script_tag"]

SOURCE_PREFIX = "a11y-"
MIRROR_ID_PREFIX = "livechat-live-"


@dataclass(frozen=True)
class LiveRegion:
    """ARIA attributes of one live region (``role`` may be empty: a bare ``aria-live``)."""

    role: str = ""
    live: str = "polite"  # polite | assertive


_CSS = f"""<style>
/* Captions are drawn at 60 % opacity, code inside them too: a coloured code span then falls
   under 4.5:1 in either theme. In a caption, code takes the caption's own (passing) colour. */
[data-testid="stCaptionContainer"] code {{ color: inherit; }}
[class*="st-key-{SOURCE_PREFIX}"] {{ display: none !important; }}
</style>"""

# Installs one observer per page (window-level guard: st.html re-mounts on page changes);
# live_regions() scripts only add to window.__livechatLiveRegions, which it reads.
_SCRIPT = """(() => {
  window.__livechatLiveRegions = window.__livechatLiveRegions || {};
  if (window.__livechatA11y) return;
  window.__livechatA11y = true;
  const MIRROR = %(mirror)s;
  const HIDDEN = "position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;"
    + "clip-path:inset(50%%);white-space:nowrap;border:0;";
  const squash = (text) => text.replace(/\\s+/g, " ").trim();
  const mirror = (key, region, text) => {
    let el = document.getElementById(MIRROR + key);
    if (!el) {
      el = document.createElement("div");
      el.id = MIRROR + key;
      el.setAttribute("style", HIDDEN);
      if (region.role) el.setAttribute("role", region.role);
      el.setAttribute("aria-live", region.live);
      el.setAttribute("aria-atomic", "true");
      el.textContent = text;  // the text a region is created with is not announced
      document.body.appendChild(el);
    } else if (el.textContent !== text) {
      el.textContent = text;
    }
  };
  const mark = () => {
    for (const bar of document.querySelectorAll('[data-testid="stProgress"]')) {
      const text = bar.querySelector('[data-testid="stMarkdownContainer"]');
      const meter = bar.querySelector('[role="progressbar"]');
      const name = text && squash(text.textContent);
      if (name && meter && meter.getAttribute("aria-label") !== name) meter.setAttribute("aria-label", name);
    }
    for (const [key, region] of Object.entries(window.__livechatLiveRegions)) {
      const source = document.querySelector(".st-key-" + CSS.escape(key));
      if (source) mirror(key, region, squash(source.textContent));
    }
  };
  window.__livechatA11yMark = mark;
  let pending = null;
  const later = () => { if (!pending) pending = setTimeout(() => { pending = null; mark(); }, 100); };
  new MutationObserver(later).observe(document.body, {childList: true, subtree: true, characterData: true});
  mark();
})();""" % {"mirror": json.dumps(MIRROR_ID_PREFIX)}


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
