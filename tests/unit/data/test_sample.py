"""The bundled lighthouse sample: reproducible, small, and answers the demo question."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from livechat.data import sample as sample_module
from livechat.data.load import DataLoadError
from livechat.data.sample import SAMPLE_PATH, load_sample

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return load_sample().df


def test_generator_reproduces_the_committed_file_byte_for_byte(tmp_path: Path) -> None:
    out = tmp_path / "again.csv"
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_sample.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == SAMPLE_PATH.read_bytes()


def test_sample_is_commit_sized() -> None:
    assert SAMPLE_PATH == REPO / "livechat" / "data" / "assets" / "lighthouse_logs.csv"
    assert SAMPLE_PATH.stat().st_size < 500_000


def test_load_sample_goes_through_load_table() -> None:
    table = load_sample()
    assert table.name == "lighthouse_logs.csv"
    assert table.warnings == ()
    assert table.sheets == () and table.sheet is None


def test_shape_and_types(df: pd.DataFrame) -> None:
    assert 2_500 <= len(df) <= 3_500
    assert 12 <= df.shape[1] <= 15
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["storm_night"].dtype == bool
    for column in ("wind_knots", "visibility_nm", "wave_height_m", "lamp_hours", "fuel_litres"):
        assert pd.api.types.is_float_dtype(df[column]), column
    assert df["log_id"].is_unique


def test_realistic_content(df: pd.DataFrame) -> None:
    assert df["date"].min() >= pd.Timestamp("2023-01-01")
    assert df["date"].max() <= pd.Timestamp("2024-12-31")
    assert df["lighthouse"].nunique() == 8
    assert 13 <= df["keeper"].nunique() <= 17
    assert {"clear", "fog", "rain", "gale", "storm"} <= set(df["weather"])
    # Some gaps, mostly-empty incident notes.
    assert df[["wind_knots", "visibility_nm", "wave_height_m"]].isna().any().all()
    assert 0.8 < df["incident"].isna().mean() < 0.99


def test_storm_nights_per_keeper_is_answerable(df: pd.DataFrame) -> None:
    """The browser test asks "How many storm nights did each keeper log?"."""
    per_keeper = df.groupby("keeper")["storm_night"].sum()
    assert per_keeper.sum() == df["storm_night"].sum() > 100
    assert (per_keeper > 0).all()
    assert per_keeper.nunique() > 5  # keepers differ: the answer is not trivial
    assert df["keeper"].notna().all()


def test_plausible_correlations(df: pd.DataFrame) -> None:
    winter = df["date"].dt.month.isin([12, 1, 2])
    summer = df["date"].dt.month.isin([6, 7, 8])
    assert df.loc[winter, "storm_night"].mean() > 5 * df.loc[summer, "storm_night"].mean()
    assert df["fuel_litres"].corr(df["lamp_hours"]) > 0.7
    assert df["wave_height_m"].corr(df["wind_knots"]) > 0.7
    assert (df.loc[df["storm_night"], "wind_knots"].dropna() >= 34).all()
    assert df.loc[df["weather"] == "fog", "visibility_nm"].max() < 2


def test_missing_sample_is_a_data_load_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sample_module, "SAMPLE_PATH", tmp_path / "nope.csv")
    with pytest.raises(DataLoadError, match="sample dataset lighthouse_logs.csv is missing"):
        sample_module.load_sample()
