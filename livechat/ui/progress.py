"""A progress bar for slow loads: shown once a load has taken more than a second.

`load_table` reports (fraction, stage) as it reads a workbook; most files load in
well under a second and should not flash a bar, so nothing is drawn until `delay_s`
has passed. Runs on the session's script thread (inside the cached loader).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import streamlit as st

DELAY_S = 1.0


class _Bar(Protocol):
    def progress(self, value: float, text: str | None = None) -> Any: ...

    def empty(self) -> Any: ...


class LoadProgress:
    """`progress=` callback for `load_table` that draws a bar after `delay_s`.

    `show` makes the bar (``st.progress``); `clock` is injectable for tests. Call
    `close()` when the load ends, whatever the outcome: the bar is removed.
    """

    def __init__(
        self,
        *,
        delay_s: float = DELAY_S,
        show: Callable[..., _Bar] = st.progress,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._delay_s = delay_s
        self._show = show
        self._clock = clock
        self._start = clock()
        self._bar: _Bar | None = None

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn."""
        return self._bar is not None

    def __call__(self, fraction: float, stage: str) -> None:
        value = min(max(float(fraction), 0.0), 1.0)
        text = f"{stage}… {value:.0%}"
        if self._bar is None:
            if self._clock() - self._start < self._delay_s:
                return
            self._bar = self._show(value, text=text)
        else:
            self._bar.progress(value, text=text)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()
