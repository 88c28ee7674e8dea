"""Each small rule is written once: a second copy is how the copies came to disagree.

Markdown escaping for Streamlit text (one copy did not escape `:`), the workbook extensions
and the identifier-name pattern each had several definitions; now each has one, and this
test fails when someone writes another.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for p in (ROOT / "livechat").rglob("*.py"))

RULES = {
    "Streamlit Markdown escaping": "\\\\`*_{}[]()#+-.!|<>~$",
    "workbook extensions": '".xlsx", ".xlsm", ".xls", ".ods"',
    "identifier names": "(?:id|uuid|guid|key|pk|code)",
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_defined_once(rule: str) -> None:
    needle = RULES[rule]
    places = [str(p.relative_to(ROOT)) for p in SOURCES if needle in p.read_text(encoding="utf-8")]
    assert len(places) == 1, f"{rule} is written in {places}"


def test_streamlit_markdown_escaping_covers_colons() -> None:
    from livechat.ui.formatting import escape_markdown

    # ":red[...]" and ":material/...:" are Streamlit Markdown; a sheet named so must stay text.
    assert escape_markdown(":red[Q1]") == r"\:red\[Q1\]"
