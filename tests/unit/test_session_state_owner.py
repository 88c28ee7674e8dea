"""Session state has one owner: ``livechat/ui/slots.py``.

Every key a browser session keeps, widget keys included, is declared there with its type
and default (issue 27). Any other module of the app that names ``session_state`` (code,
a comment or a docstring) bypasses the declarations, so this check reads the text, the
same as the acceptance check ``grep -rn session_state livechat pages app.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OWNER = Path("livechat/ui/slots.py")
WORD = "session" + "_state"  # spelled apart so this file is no hit of its own check


def _offenders(root: Path) -> list[str]:
    files = [*sorted((root / "livechat").rglob("*.py")), *sorted((root / "pages").rglob("*.py")), root / "app.py"]
    bad: list[str] = []
    for path in files:
        if not path.is_file() or path.relative_to(root) == OWNER:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if WORD in line:
                bad.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return bad


def test_only_the_slots_module_touches_session_state() -> None:
    assert _offenders(REPO) == []


def test_the_owner_is_the_one_that_does() -> None:
    # The owner exists and really uses it: the check above is not passing on an empty tree.
    assert f"st.{WORD}" in (REPO / OWNER).read_text(encoding="utf-8")


@pytest.mark.parametrize("where", ["livechat/ui/rogue.py", "pages/rogue.py", "app.py"])
def test_another_module_that_touches_it_is_reported(tmp_path: Path, where: str) -> None:
    (tmp_path / OWNER).parent.mkdir(parents=True)
    (tmp_path / OWNER).write_text(f"x = st.{WORD}\n")
    (tmp_path / "pages").mkdir()
    rogue = tmp_path / where
    rogue.parent.mkdir(parents=True, exist_ok=True)
    rogue.write_text(f"import streamlit as st\nvalue = st.{WORD}.get('k')\n")
    assert _offenders(tmp_path) == [f"{where}:2: value = st.{WORD}.get('k')"]
