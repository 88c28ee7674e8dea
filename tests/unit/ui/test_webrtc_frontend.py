"""The patched streamlit-webrtc frontend: one condition removed, everything else identical."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit_webrtc.component as component

from livechat.ui.webrtc_frontend import NEEDLE, WebrtcFrontendError, patched_frontend_dir

SOURCE = Path(component._component_func.abspath)


def test_the_installed_frontend_is_copied_without_the_disconnected_condition(tmp_path: Path) -> None:
    patched = patched_frontend_dir(SOURCE, tmp_path)
    originals = {p.relative_to(SOURCE): p.read_text(encoding="utf-8") for p in SOURCE.rglob("*.js")}
    copies = {p.relative_to(patched): p.read_text(encoding="utf-8") for p in patched.rglob("*.js")}
    assert originals.keys() == copies.keys()
    changed = [name for name in originals if originals[name] != copies[name]]
    assert len(changed) == 1
    [name] = changed
    assert copies[name] == originals[name].replace(NEEDLE, "")
    # failed and closed still end the stream
    assert "c.connectionState===`closed`||c.connectionState===`failed`" in copies[name]
    assert (patched / "index.html").read_bytes() == (SOURCE / "index.html").read_bytes()
    assert patched_frontend_dir(SOURCE, tmp_path) == patched  # made once


def test_a_frontend_without_the_condition_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "dist"
    (source / "assets").mkdir(parents=True)
    (source / "index.html").write_text("<html></html>")
    (source / "assets" / "index.js").write_text("c.connectionState===`failed`&&stop()")
    with pytest.raises(WebrtcFrontendError, match="re-check"):
        patched_frontend_dir(source, tmp_path / "out")
