"""livechat.ui.a11y: the live-region and meter script survives Streamlit's sanitizer, and
registers exactly the regions a page asks for."""

from __future__ import annotations

import json
import re

import pytest

from livechat.ui import a11y


def _body(script: str) -> str:
    assert script.startswith("<script>") and script.endswith("</script>")
    return script.removeprefix("<script>").removesuffix("</script>")


def test_the_page_script_names_progress_bars_and_marks_registered_regions() -> None:
    body = _body(a11y.page_script())
    assert re.search(r"<[/\w]", body) is None
    assert '[role="progressbar"]' in body and "aria-label" in body
    assert "__livechatLiveRegions" in body and '"aria-live"' in body and '"role"' in body
    # The mirror's text changes only when the source's text does: no announcement on a redraw.
    assert "el.textContent !== text" in body and f'"{a11y.MIRROR_ID_PREFIX}"' in body


def test_regions_are_registered_by_container_key_with_their_attributes() -> None:
    body = _body(a11y.regions_script({"session-state": a11y.LiveRegion(role="status"),
                                      "a11y-reply": a11y.LiveRegion(live="assertive")}))
    table = json.loads(re.search(r"__livechatLiveRegions \|\| \{\}, (\{.*\})\);", body).group(1))
    assert table == {"session-state": {"role": "status", "live": "polite"},
                     "a11y-reply": {"role": "", "live": "assertive"}}


def test_markup_in_a_script_is_refused_naming_it() -> None:
    with pytest.raises(a11y.ScriptMarkupError, match="<div>"):
        a11y.script_tag("const html = '<div>';")
