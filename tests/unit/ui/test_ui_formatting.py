"""livechat.ui.formatting: sizes and shapes in words."""

from __future__ import annotations

import pytest

from livechat.ui.formatting import format_bytes, format_shape


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KB"), (1536, "1.5 KB"), (5 * 1024**2, "5.0 MB"), (3 * 1024**5, "3072.0 TB")],
)
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


def test_format_bytes_rejects_a_negative_size_naming_it() -> None:
    with pytest.raises(ValueError, match="-1"):
        format_bytes(-1)


def test_format_shape_uses_thousands_separators_and_singulars() -> None:
    assert format_shape(1234, 5) == "1,234 rows × 5 columns"
    assert format_shape(1, 1) == "1 row × 1 column"


def test_escape_markdown_makes_file_text_inert() -> None:
    from livechat.ui.formatting import escape_markdown

    assert escape_markdown("![x](http://e/a.png) *b* `c`") == r"\!\[x\]\(http\://e/a\.png\) \*b\* \`c\`"
    assert escape_markdown("plain words") == "plain words"
