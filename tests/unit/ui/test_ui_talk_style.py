"""livechat.ui.talk_style: the pill stylesheet covers every state, and the voice skin's
script survives Streamlit's HTML sanitizer (which silently drops markup-like text)."""

from __future__ import annotations

import re

import pytest

from livechat.ui import talk_style
from livechat.ui.talk_status import PILLS
from livechat.voice.bridge import BADGE_STATES


def test_every_state_has_a_pill_rule_with_its_icon() -> None:
    css = talk_style.page_css()
    for state in BADGE_STATES:
        rule = re.search(rf"\.st-key-{talk_style.pill_key(state)} \{{([^}}]*)\}}", css)
        assert rule is not None, state
        assert f'--pill-icon: "{PILLS[state].icon}"' in rule.group(1)
        assert "background:" in rule.group(1)


def test_the_skin_script_has_no_markup_like_text_for_the_sanitizer_to_drop() -> None:
    script = talk_style.voice_skin_script()
    assert script.startswith("<script>") and script.endswith("</script>")
    body = script.removeprefix("<script>").removesuffix("</script>")
    assert re.search(r"<[/\w]", body) is None
    # What the skin is for: it hides the media area inside the component's frame, and
    # relabels the library's device button (whose text the page sets) as the picker.
    assert "VideoLabelIcon" in body and "video" in body
    assert talk_style.MIC_LABEL in body and "streamlit-webrtc:device-ids:voice" in body


def test_markup_in_the_skin_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(talk_style, "_INNER_CSS", "/* hides <video> */")
    with pytest.raises(talk_style.SkinScriptError, match="<video>"):
        talk_style.voice_skin_script()
