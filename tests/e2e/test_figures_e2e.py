"""Every number checked, in a real browser (issue 30).

The emulator is given scripted replies (``--replies``, here through ``set_options``): a
typed "Give me the figures" makes the model call ``run_sql`` on the bundled sample and
then say four figures: one the result holds exactly (3,075 logs), one rounded with
"about" (about 106 thousand litres of fuel, 105,985.1), one percent change (storm nights
up 9.5% from 158 to 173) and one no data supports (9,412 wrecks). The transcript marks
three with a check and one with a warning, with the caption "3 of 4 figures found in the
data"; the downloaded Markdown report's ``Figures:`` line lists the same four with their
kinds and sources.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

SQL = ("SELECT count(*) AS logs, round(sum(fuel_litres), 1) AS fuel_litres, "
       "count(*) FILTER (WHERE storm_night AND year(date) = 2023) AS storm_nights_2023, "
       "count(*) FILTER (WHERE storm_night AND year(date) = 2024) AS storm_nights_2024 FROM data")
SAY = ("The lighthouses logged 3,075 nights. The keepers burned about 106 thousand litres of fuel. "
       "Storm nights rose 9.5% from 2023 to 2024. And 9,412 ships were wrecked.")
MARKS = ".st-key-transcript [class*='st-key-figures-']"


def _marks(page) -> dict[str, str]:
    """Each marked figure's text -> its icon's accessible name ("check icon" / "warning icon").

    By figure text: a badge with a tooltip is in the DOM twice (the badge and a copy that
    Streamlit keeps for the tooltip's hover target)."""
    pairs = page.locator(f"{MARKS} .stMarkdownBadge").evaluate_all(
        "els => els.map(e => [e.innerText.replace(/^(check|warning)\\s*/, '').trim(), "
        "(e.querySelector('[role=img]') || {}).ariaLabel || ''])")
    return dict(pairs)


def test_three_figures_are_checked_one_is_flagged_and_the_report_lists_them(e2e_stack, browser_factory, speech_wav,
                                                                            tmp_path: Path) -> None:
    replies = tmp_path / "replies.jsonl"
    replies.write_text(json.dumps({"match": "(?i)give me the figures",
                                   "call": {"name": "run_sql", "args": {"query": SQL}}, "say": SAY}) + "\n",
                       encoding="utf-8")
    emulator = e2e_stack.emulator
    known = e2e_stack.session_ids()  # the emulator is shared: only this test's sessions count
    emulator.set_options(replies=str(replies))
    try:
        tab = browser_factory(speech_wav).new_page()
        tab.open_talk(e2e_stack.app.url)
        page = tab.page
        tab.ask("Give me the figures")
        emulator.wait_for(lambda ss: any(c["name"] == "run_sql" and c["response"] is not None
                                         for s in voice_sessions(ss) if s["id"] not in known
                                         for c in s["tool_calls"]), timeout=30)
        tab.wait_for_transcript("9,412 ships were wrecked", timeout_s=40)
        page.get_by_text("3 of 4 figures found in the data").first.wait_for(timeout=20_000)
        assert _marks(page) == {"3,075": "check icon", "106 thousand": "check icon", "9.5%": "check icon",
                                "9,412": "warning icon"}

        page.get_by_role("button", name="Prepare the report").click()
        zipped = tab.download("Download report (Markdown + charts, .zip)", tmp_path)
        with zipfile.ZipFile(io.BytesIO(zipped.read_bytes())) as archive:
            markdown = archive.read("conversation.md").decode("utf-8")
        [line] = [line for line in markdown.splitlines() if line.startswith("Figures:")]
        assert line.startswith("Figures: 3,075 exact (run\\_sql row 1, logs) · "
                               "106 thousand rounded (run\\_sql row 1, fuel\\_litres) · "
                               "9.5% derived (percent change from run\\_sql row 1, storm\\_nights\\_2023 to "
                               "run\\_sql row 1, storm\\_nights\\_2024) · 9,412 not found"), line
    finally:
        emulator.set_options(replies=None)
