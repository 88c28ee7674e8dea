"""Every repository path the docs name in backticks exists.

The README, `docs/` and `bench/RESULTS.md` name files (`livechat/live/models.py`, …) so a
reader can open them; a rename that leaves a doc pointing at nothing fails here. A backticked
token counts as a path when it starts with one of the repository's top-level entries (or
`shared/`, the design folder beside the repository) and holds no placeholder (`<stage>`, `*`,
`…`). Bare file names (`xlsx_pieces.py`) are read in the context of the sentence around them and
are not checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DOCS = [ROOT / "README.md", ROOT / "bench" / "RESULTS.md", *sorted((ROOT / "docs").glob("*.md"))]

_BACKTICKED = re.compile(r"`([^`\s]+)`")
# Files the analyst or operator creates; the docs tell them to.
USER_FILES = {".streamlit/secrets.toml", ".livechat"}

_PLACEHOLDER = re.compile(r"[<>*…{}$]|NNNN")


def _top_level() -> set[str]:
    return {p.name for p in ROOT.iterdir() if p.name != ".git"}


def named_paths(text: str, top_level: set[str]) -> list[str]:
    """The backticked tokens of `text` that name a path in the repository or in shared/."""
    found = []
    for token in _BACKTICKED.findall(text):
        token = token.rstrip(".,:;)")
        if _PLACEHOLDER.search(token) or "://" in token:
            continue
        head = token.split("/", 1)[0]
        if "/" in token and (head in top_level or head == "shared"):
            found.append(token)
        elif "/" not in token and token in top_level and "." in token:
            found.append(token)
    return found


def _exists(path: str) -> bool:
    if path.rstrip("/") in USER_FILES:
        return True
    if path.startswith("shared/"):
        return (SHARED / path.removeprefix("shared/")).exists()
    return (ROOT / path).exists()


def test_the_doc_set_exists() -> None:
    assert (ROOT / "docs").is_dir() and (ROOT / "bench" / "RESULTS.md").is_file()
    assert len(DOCS) >= 4


def test_the_readme_is_for_users_and_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 300


def test_named_paths_finds_paths_and_ignores_the_rest() -> None:
    text = "see `livechat/live/models.py`, `docs/x.md`, `tests/unit/<stage>/`, `make run`, `a/b`, `app.py`."
    assert named_paths(text, {"livechat", "docs", "tests", "app.py"}) == [
        "livechat/live/models.py",
        "docs/x.md",
        "app.py",
    ]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_backticked_path_exists(doc: Path) -> None:
    top_level = _top_level()
    missing = [p for p in named_paths(doc.read_text(encoding="utf-8"), top_level) if not _exists(p)]
    if not SHARED.is_dir():
        # A clone elsewhere (`git clone . /tmp/check`) has no design folder beside it: the
        # repository's own paths are still checked; those into shared/ only where it is.
        missing = [p for p in missing if not p.startswith("shared/")]
    assert missing == [], f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"
