"""The Data page in AppTest: the sample on first visit, uploads through the real
``st.file_uploader`` widget (AppTest 1.67 drives it with ``set_value``), load failures,
quick charts, and what the model sees under the budget control.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from livechat.data.load import DataLoadError, load_table
from livechat.summary.prompt import build_system_instruction
from livechat.data.sample import load_sample
from livechat.summary.builder import summarize
from livechat.ui import dataset as dataset_flows
from livechat.ui import state
from livechat.ui.formatting import format_shape
from tests.app.apptest_support import element_texts, new_app, plain

SALES_CSV = b"region,units,when\nNorth,12,2024-01-01\nSouth,7,2024-01-02\nEast,3,2024-01-05\n"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _started() -> AppTest:
    at = new_app().run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/csv") -> AppTest:
    at.file_uploader[0].set_value((name, data, mime)).run()  # the one uploader, whatever its key now
    assert not at.exception  # never a traceback, whatever the file
    return at


def _sidebar_dataset(at: AppTest) -> tuple[str, list[str]]:
    return plain(at.sidebar.markdown[0].value), [c.value for c in at.sidebar.caption]


def _progress_text(at: AppTest) -> str:
    bars = at.get("progress")
    assert len(bars) == 1
    return bars[0].proto.text


def _workbook() -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        pd.DataFrame({"site": ["A", "B"], "visits": [3, 4]}).to_excel(writer, sheet_name="Q1", index=False)
        pd.DataFrame({"site": ["A", "B", "C"], "visits": [5, 6, 7]}).to_excel(writer, sheet_name="Q2", index=False)
    return buffer.getvalue()


def test_the_app_starts_with_the_sample_dataset() -> None:
    sample = load_sample()
    at = _started()
    assert not at.error
    name, captions = _sidebar_dataset(at)
    assert name == f"**{sample.name}**"
    assert format_shape(*sample.df.shape) in captions
    assert at.main.header[0].value == sample.name
    assert at.main.caption[0].value.startswith(format_shape(*sample.df.shape))
    shown = at.dataframe[0].value
    assert shown.shape == sample.df.shape
    assert list(shown.columns) == list(sample.df.columns)
    profile = at.dataframe[1].value
    assert profile["column"].tolist() == [str(c) for c in sample.df.columns]


def test_an_uploaded_csv_replaces_the_sample_everywhere() -> None:
    at = _upload(_started(), "sales.csv", SALES_CSV)
    assert not at.error
    assert at.main.header[0].value == "sales.csv"
    name, captions = _sidebar_dataset(at)
    assert name == "**sales.csv**"
    assert "3 rows × 3 columns" in captions
    assert at.dataframe[0].value["region"].tolist() == ["North", "South", "East"]
    assert at.code[0].value.startswith(
        'You are Live Data Chat, a voice analyst for the dataset "sales.csv" (3 rows × 3 columns).'
    )
    at.run()  # an ordinary rerun keeps the upload and does not reload it into an error
    assert at.main.header[0].value == "sales.csv" and not at.error


def test_a_bad_file_shows_the_loaders_message_and_keeps_the_previous_table() -> None:
    bad = b"PK\x03\x04 this is not really a workbook"
    with pytest.raises(DataLoadError) as expected:
        load_table(bad, "broken.xlsx")
    at = _upload(_started(), "sales.csv", SALES_CSV)
    at = _upload(at, "broken.xlsx", bad, XLSX_MIME)
    assert len(at.error) == 1
    assert str(expected.value) in at.error[0].value
    assert "Still showing sales.csv" in at.error[0].value
    assert at.main.header[0].value == "sales.csv"
    assert _sidebar_dataset(at)[0] == "**sales.csv**"
    assert at.dataframe[0].value["units"].tolist() == [12, 7, 3]


def test_an_unexpected_failure_shows_a_plain_message_and_no_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    at = _started()
    sample_name = at.main.header[0].value

    def broken_loader(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail 7f3a")

    monkeypatch.setattr(dataset_flows, "load_table_cached", broken_loader)
    at = _upload(at, "odd.csv", SALES_CSV)
    assert len(at.error) == 1
    assert "Could not read odd.csv" in at.error[0].value
    assert "internal detail 7f3a" not in element_texts(at)
    assert at.main.header[0].value == sample_name


def test_a_clean_upload_clears_an_earlier_error() -> None:
    at = _upload(_started(), "empty.csv", b"a,b\n")
    assert len(at.error) == 1 and "no rows" in at.error[0].value
    at = _upload(at, "sales.csv", SALES_CSV)
    assert not at.error
    assert at.main.header[0].value == "sales.csv"


def test_loader_warnings_are_shown() -> None:
    data = b"a,a,b\n1,2,3\n4,5,6\n"
    expected = load_table(data, "dupes.csv").warnings
    assert expected, "this file is meant to make the loader rename a column"
    at = _upload(_started(), "dupes.csv", data)
    shown = [w.value for w in at.warning]
    for warning in expected:
        assert warning in shown


def test_a_workbook_with_two_sheets_loads_both_as_tables() -> None:
    at = _upload(_started(), "book.xlsx", _workbook(), XLSX_MIME)
    assert at.main.header[0].value == "book.xlsx — Q1"
    ticks = at.checkbox
    assert [plain(t.label) for t in ticks] == ["`q1` — book.xlsx — Q1 (2 rows × 2 columns)",
                                               "`q2` — book.xlsx — Q2 (3 rows × 2 columns)"]
    assert all(t.value for t in ticks)
    viewer = at.selectbox[0]
    assert viewer.label == "Show table" and viewer.options == ["q1", "q2"]
    viewer.set_value("q2").run()
    assert not at.exception and not at.error
    assert at.main.header[0].value == "book.xlsx — Q2"
    assert at.dataframe[0].value["visits"].tolist() == [5, 6, 7]
    sidebar = [c.value for c in at.sidebar.caption]
    assert "`q1` · 2 rows × 2 columns" in sidebar and "`q2` · 3 rows × 2 columns" in sidebar


def test_quick_charts_follow_the_chosen_column() -> None:
    at = _started()
    charts = at.get("vega_lite_chart")
    assert len(charts) == 3  # histogram, top categories, over time
    histogram = at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Numeric column"))
    other = histogram.options[1]
    histogram.set_value(other).run()
    assert not at.exception
    assert f'"title": "{other}"' in at.get("vega_lite_chart")[0].proto.spec


def test_the_instruction_and_its_token_estimate_are_shown() -> None:
    sample = load_sample()
    expected = summarize(sample.df, name=sample.name, budget_tokens=state.DEFAULT_BUDGET)
    at = _started()
    assert at.number_input(key=state.BUDGET_WIDGET_KEY).value == state.DEFAULT_BUDGET
    assert at.code[0].value == build_system_instruction(expected)
    assert f"about {expected.estimated_tokens:,} of 8,000 tokens" in _progress_text(at)
    shown = " ".join(i.value for i in at.info)
    for part in expected.omitted:
        assert part in shown


def test_the_budget_control_changes_the_estimate() -> None:
    sample = load_sample()
    at = _started()
    control = at.number_input(key=state.BUDGET_WIDGET_KEY)
    assert (control.min, control.max) == (state.MIN_BUDGET, state.MAX_BUDGET)
    before = _progress_text(at)
    control.set_value(1_000).run()
    expected = summarize(sample.df, name=sample.name, budget_tokens=1_000)
    after = _progress_text(at)
    assert after != before
    assert f"about {expected.estimated_tokens:,} of 1,000 tokens" in after
    assert at.code[0].value == build_system_instruction(expected)


def test_the_budget_survives_a_visit_to_another_page() -> None:
    at = _started()
    at.number_input(key=state.BUDGET_WIDGET_KEY).set_value(1_500).run()
    at.switch_page("pages/settings.py").run()
    assert not at.exception
    at.switch_page("pages/data.py").run()
    assert at.number_input(key=state.BUDGET_WIDGET_KEY).value == 1_500
    assert "of 1,500 tokens" in _progress_text(at)


def test_what_the_model_sees_includes_the_transcription_vocabulary() -> None:
    from livechat.summary.vocabulary import custom_vocabulary

    sample = load_sample()
    at = _started()
    assert at.code[1].value == "\n".join(custom_vocabulary(sample.df))
    assert "storm night" in at.code[1].value.splitlines()
    assert any("custom vocabulary" in c.value and "gemini-3.8-live" in c.value for c in at.caption)
