"""``st.dataframe`` column_config chosen from each column's dtype and values.

Rules (first match wins):
- bool → checkbox;
- datetime → "YYYY-MM-DD" when every value falls on midnight, else "YYYY-MM-DD HH:mm";
- a float column whose name says it is a share (rate, ratio, pct, share, progress…)
  and whose values all lie in 0..1 → a progress bar shown as a percentage;
- integers named like an identifier or a year → no thousands separator ("2024", not "2,024");
- other integers → "1,234"; other floats → two decimals ("1,234.57"), or four
  significant decimals when every value is below 1 in magnitude.
Columns matching no rule are left to Streamlit's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd
import streamlit as st
from pandas.api import types as ptypes

_SHARE_NAME = re.compile(r"(rate|ratio|pct|percent|share|progress|fraction|completion)", re.I)
_PLAIN_INT_NAME = re.compile(r"(^id$|_id$|^id_|\bid\b|year|code|zip|postcode)", re.I)


def _all_midnight(values: pd.Series) -> bool:
    present = values.dropna()
    if present.empty:
        return True
    return bool((present == present.dt.normalize()).all())


def _within_unit_interval(values: pd.Series) -> bool:
    present = values.dropna()
    return bool(not present.empty and present.min() >= 0 and present.max() <= 1)


def _config_for(name: str, values: pd.Series) -> object | None:
    dtype = values.dtype
    if ptypes.is_bool_dtype(dtype):
        return st.column_config.CheckboxColumn(name)
    if ptypes.is_datetime64_any_dtype(dtype):
        fmt = "YYYY-MM-DD" if _all_midnight(values) else "YYYY-MM-DD HH:mm"
        return st.column_config.DatetimeColumn(name, format=fmt)
    if ptypes.is_integer_dtype(dtype):
        fmt = "%d" if _PLAIN_INT_NAME.search(name) else "%,d"
        return st.column_config.NumberColumn(name, format=fmt)
    if ptypes.is_float_dtype(dtype):
        if _SHARE_NAME.search(name) and _within_unit_interval(values):
            return st.column_config.ProgressColumn(
                name, min_value=0.0, max_value=1.0, format="percent"
            )
        present = values.dropna()
        small = not present.empty and float(present.abs().max()) < 1
        return st.column_config.NumberColumn(name, format="%.4f" if small else "%,.2f")
    return None


def column_config_for(df: pd.DataFrame) -> Mapping[str, object]:
    """Return a column_config mapping for ``st.dataframe(df, column_config=...)``.

    Keys are column names as strings (Streamlit matches configs by the displayed label).
    """
    config: dict[str, object] = {}
    for column in df.columns:
        name = str(column)
        values = df[column]
        if isinstance(values, pd.DataFrame):  # duplicate column labels: leave defaults
            continue
        chosen = _config_for(name, values)
        if chosen is not None:
            config[name] = chosen
    return config
