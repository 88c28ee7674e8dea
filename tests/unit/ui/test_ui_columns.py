"""livechat.ui.columns: column_config chosen from dtypes and values."""

from __future__ import annotations

import pandas as pd

from livechat.ui.columns import column_config_for


def _types(config: dict) -> dict[str, tuple[str | None, object]]:
    return {name: (c["type_config"]["type"], c["type_config"].get("format")) for name, c in config.items()}


def test_configs_follow_dtypes_and_names() -> None:
    df = pd.DataFrame(
        {
            "done": [True, False],
            "day": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "stamp": pd.to_datetime(["2024-01-01 10:30", "2024-01-02 00:00"]),
            "completion_rate": [0.2, 0.9],
            "growth_rate": [0.2, 1.7],
            "year": [2023, 2024],
            "customer_id": [10001, 10002],
            "units": [1200, 3400],
            "price": [1234.5, 2.0],
            "small": [0.001, -0.5],
            "label": ["a", "b"],
        }
    )
    types = _types(dict(column_config_for(df)))
    assert types["done"] == ("checkbox", None)
    assert types["day"] == ("datetime", "YYYY-MM-DD")
    assert types["stamp"] == ("datetime", "YYYY-MM-DD HH:mm")
    assert types["completion_rate"] == ("progress", "percent")
    assert types["growth_rate"] == ("number", "%,.2f")  # outside 0..1: not a progress bar
    assert types["year"] == ("number", "%d")
    assert types["customer_id"] == ("number", "%d")
    assert types["units"] == ("number", "%,d")
    assert types["price"] == ("number", "%,.2f")
    assert types["small"] == ("number", "%.4f")
    assert "label" not in types  # text keeps Streamlit's default


def test_nullable_and_empty_columns_do_not_fail() -> None:
    df = pd.DataFrame(
        {
            "n": pd.array([1, None], dtype="Int64"),
            "b": pd.array([True, None], dtype="boolean"),
            "empty_share": pd.Series([None, None], dtype="float64"),
            "t": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns]"),
        }
    )
    types = _types(dict(column_config_for(df)))
    assert types["n"] == ("number", "%,d")
    assert types["b"] == ("checkbox", None)
    assert types["empty_share"] == ("number", "%,.2f")
    assert types["t"] == ("datetime", "YYYY-MM-DD")


def test_non_string_labels_are_keyed_by_their_text() -> None:
    df = pd.DataFrame({2024: [1.5, 2.5]})
    assert list(column_config_for(df)) == ["2024"]
