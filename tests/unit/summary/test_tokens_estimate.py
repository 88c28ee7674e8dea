"""The conservative token estimate: its documented counting rules and guarantees."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from livechat.summary.token_estimate import estimate_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("1234567890", 10),  # Gemma splits numbers into single digits
        ("abc", 1),
        ("abcd", 2),
        ("the quick brown fox", 1 + 2 + 2 + 1),
        ("a,b;c", 5),
        ("x\ny", 3),
        ("x  y", 3),  # a run of spaces is a token, a single space is not
        ("é", 2),
        ("東京", 6),
        ("😀", 4),
        ("👩‍👩‍👧", 18),  # ZWJ sequence: 3 emoji (4 bytes each) + 2 joiners (3 bytes each)
        ("\x00", 1),
    ],
)
def test_counting_rules(text: str, expected: int) -> None:
    assert estimate_tokens(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=12))
def test_estimate_is_additive_over_lines(lines: list[str]) -> None:
    # The summary budgets line by line and relies on this.
    joined = "\n".join(lines)
    expected = sum(estimate_tokens(line) for line in lines) + max(0, len(lines) - 1)
    assert estimate_tokens(joined) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_estimate_is_never_below_the_simple_bounds(text: str) -> None:
    non_space = sum(1 for char in text if char != " ")
    assert estimate_tokens(text) >= math.ceil(non_space / 3)
    # Non-ASCII text: at least one token per UTF-8 byte (the byte-fallback worst case).
    non_ascii_bytes = sum(
        len(char.encode("utf-8", "surrogatepass")) for char in text if ord(char) > 127
    )
    assert estimate_tokens(text) >= non_ascii_bytes


def test_non_ascii_is_over_not_under_estimated() -> None:
    # Real tokenizers spend at most one token per byte; typical CJK is ~1 token per char.
    cjk = "数据分析师" * 20
    emoji = "📈📉" * 20
    accented = "Ça déménage à Zürich " * 5
    assert estimate_tokens(cjk) >= len(cjk.encode())
    assert estimate_tokens(emoji) >= len(emoji.encode())
    assert estimate_tokens(accented) >= len(accented) / 3


def test_sdk_local_tokenizer_needs_a_download_so_it_is_not_used() -> None:
    """Why the estimate exists: google-genai 3.6.1's LocalTokenizer can't work offline here.

    ``google.genai.local_tokenizer`` imports ``sentencepiece`` (not a dependency of this
    project) and its loader fetches the Gemma tokenizer model over HTTPS on first use
    (cached in the temp dir afterwards). Tests must not touch the network, so the real
    tokenizer is neither called nor faked; this test reads the SDK source without
    importing it. If it fails, the SDK changed: re-check whether an offline tokenizer
    became possible before keeping the estimate.
    """
    spec = importlib.util.find_spec("google.genai._local_tokenizer_loader")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text(encoding="utf-8")
    assert "import sentencepiece" in source
    assert "requests.get(" in source
    assert "https://raw.githubusercontent.com/" in source
