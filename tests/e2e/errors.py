"""The harness's own failure: an end-to-end step that did not happen."""

from __future__ import annotations


class HarnessError(AssertionError):
    """An end-to-end step did not happen; the message says which step and what was seen.

    An ``AssertionError`` so pytest reports it as a test failure, not an error.
    """
