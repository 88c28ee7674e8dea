"""LoadProgress: no bar for a quick load, a bar (updated, then removed) for a slow one."""

from __future__ import annotations

from livechat.ui.progress import LoadProgress


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class _Bar:
    def __init__(self, log: list[tuple[str, float | None, str | None]]) -> None:
        self.log = log

    def progress(self, value: float, text: str | None = None) -> None:
        self.log.append(("progress", value, text))

    def empty(self) -> None:
        self.log.append(("empty", None, None))


def _progress(clock: _Clock, log: list[tuple[str, float | None, str | None]]) -> LoadProgress:
    def show(value: float, text: str | None = None) -> _Bar:
        log.append(("show", value, text))
        return _Bar(log)

    return LoadProgress(delay_s=1.0, show=show, clock=clock)


def test_a_quick_load_draws_nothing() -> None:
    clock, log = _Clock(), []
    progress = _progress(clock, log)
    progress(0.0, "Opening the workbook")
    clock.now += 0.4
    progress(0.5, "Converting the rows")
    progress.close()
    assert log == [] and not progress.shown


def test_a_slow_load_shows_then_updates_then_removes_the_bar() -> None:
    clock, log = _Clock(), []
    progress = _progress(clock, log)
    progress(0.05, "Reading the sheet")
    clock.now += 1.5
    progress(0.5, "Converting the rows")
    progress(0.9, "Tidying the columns")
    progress(1.7, "Done")  # clamped
    progress.close()
    assert progress.shown
    assert log == [
        ("show", 0.5, "Converting the rows… 50%"),
        ("progress", 0.9, "Tidying the columns… 90%"),
        ("progress", 1.0, "Done… 100%"),
        ("empty", None, None),
    ]
