"""One rule for "this column names things, it does not measure them".

An identifier is no measure: its histogram, mean and sum mean nothing, so the Data page's
quick charts leave it out and the model's summary calls it ``identifier-like`` instead of
giving statistics. Both ask this module. Pure functions; any thread.
"""

from __future__ import annotations

import re

__all__ = ["KEY_DISTINCT_SHARE", "ROW_NUMBER_MIN_ROWS", "is_identifier", "looks_like_id"]

# A column of consecutive whole numbers from 0 or 1 is a row number only when it is long
# enough for that to be no coincidence (a 5-row table of 1..5 counts may well be counts).
ROW_NUMBER_MIN_ROWS = 100
# A column named like a key is one when (nearly) every value is different.
KEY_DISTINCT_SHARE = 0.9

_ID_NAME = re.compile(
    r"(?:^|[\s_.\-/])(?:id|uuid|guid|key|pk|code)$|^(?:id|uuid|guid|pk)(?:[\s_.\-]|$)",
    re.IGNORECASE,
)
_ID_NAME_CAMEL = re.compile(r"[a-z](?:Id|ID|Uuid|UUID|Key)$")


def looks_like_id(label: str) -> bool:
    """Whether a column name reads like a key ("id", "order_id", "customerId", "uuid", …)."""
    return bool(_ID_NAME.search(label) or _ID_NAME_CAMEL.search(label))


def is_identifier(
    label: str, *, count: int, distinct: int, low: float, high: float, exact: bool = True
) -> bool:
    """Whether a whole-number column of ``count`` non-null values is an identifier.

    It is when it is a row number (every value different, consecutive from 0 or 1, at least
    ``ROW_NUMBER_MIN_ROWS`` of them; needs an ``exact`` distinct count) or when its name reads
    like a key and at least ``KEY_DISTINCT_SHARE`` of its values are different.
    """
    if count < 2:
        return False
    row_number = (
        exact
        and distinct == count
        and high - low + 1 == count
        and low in (0, 1)
        and count >= ROW_NUMBER_MIN_ROWS
    )
    return row_number or (looks_like_id(label) and distinct >= KEY_DISTINCT_SHARE * count)
