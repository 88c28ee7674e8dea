"""Helpers shared by the AppTest tests (not fixtures: those are in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app.py"
# The first run starts the emulator (a TLS certificate is generated) and profiles the
# sample; on a busy two-core machine that takes seconds, not milliseconds.
RUN_TIMEOUT_S = 60.0


def new_app(script: Path = APP) -> AppTest:
    """An AppTest of ``script`` with a timeout that suits this machine."""
    return AppTest.from_file(str(script), default_timeout=RUN_TIMEOUT_S)


def element_texts(at: AppTest) -> str:
    """Every element of the last run (main, sidebar, all pages' blocks) as protobuf text."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)  # AppTest has no public "all elements" accessor
    return "\n".join(parts)


def plain(markdown: str) -> str:
    """Markdown text without backslash escapes, for comparing with a raw name."""
    return markdown.replace("\\", "")
