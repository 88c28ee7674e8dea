"""Conservative, offline estimate of how many model tokens a text costs.

Why not the real tokenizer: google-genai's ``google.genai.local_tokenizer`` needs the
``sentencepiece`` package (not a dependency here) and downloads the Gemma tokenizer model
from the network on first use; this app must work with no outside network, so it cannot
be used. The estimate below is built to be *above* the real count for the text this
project produces (numbers, short labels, CSV), never far below it.

Method (each part is counted separately and summed):

* ASCII digits: 1 token each. Gemini's (Gemma) tokenizer splits numbers into single
  digits, so a digit-heavy table costs about one token per digit.
* Runs of ASCII letters: ``ceil(len / 3)`` tokens. Common English words average more than
  four letters per token, so this over-counts prose by about a third.
* ASCII punctuation and symbols: 1 token each.
* Whitespace: a single space is free (it merges into the next word's token); every tab,
  newline, carriage return, form feed and vertical tab is 1 token; every run of two or more
  spaces is 1 token.
* ASCII control characters: 1 token each.
* Every non-ASCII character counts as many tokens as its UTF-8 bytes (2 for "é", 3 for
  CJK, 4 for most emoji). That is the byte-fallback worst case of a SentencePiece
  tokenizer, so accented, CJK and emoji text is never under-estimated (CJK is over-counted
  about threefold).

The count is additive over lines: the estimate of ``"\\n".join(lines)`` equals the sum of
the estimates of the lines plus one per newline, which lets callers budget piece by piece.
Known weak spot: long runs of *random* ASCII letters (base64, hashes without digits) can
cost a real tokenizer one token per two letters, more than this estimate.
"""

from __future__ import annotations

import re

__all__ = ["estimate_tokens"]

_LETTER_RUN = re.compile(r"[A-Za-z]+")
_DIGIT = re.compile(r"[0-9]")
# Printable ASCII that is neither a letter, a digit nor a space.
_PUNCT = re.compile(r"[!-/:-@\[-`{-~]")
# Non-space whitespace and ASCII control characters: one token each.
_SINGLE = re.compile(r"[\x00-\x1f\x7f]")
_SPACE_RUN = re.compile(r" {2,}")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def estimate_tokens(text: str) -> int:
    """Return a conservative token count for ``text`` (method in the module docstring).

    Pure function, safe from any thread. Lone surrogates count as 3 bytes.
    """
    if not text:
        return 0
    total = len(_DIGIT.findall(text))
    total += sum((len(run) + 2) // 3 for run in _LETTER_RUN.findall(text))
    total += len(_PUNCT.findall(text))
    total += len(_SINGLE.findall(text))
    total += len(_SPACE_RUN.findall(text))
    if not text.isascii():
        total += sum(
            len(run.encode("utf-8", "surrogatepass")) for run in _NON_ASCII_RUN.findall(text)
        )
    return total
