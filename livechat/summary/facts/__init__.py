"""Per-column facts for the data summary: semantic type, nulls, distinct values, statistics.

Exact where it is cheap (row and null counts, numeric min/max/mean/std/sum, datetime
range, category counts, low-cardinality value counts); everything else (quantiles,
high-cardinality distinct counts and top values, text lengths and examples, date
granularity) is computed on a deterministic sample of at most :data:`SAMPLE_ROWS` rows and
marked with ``~`` in the rendered text. Distinct values and value counts of big columns
come from :mod:`livechat.summary.counts` (exact when cheap, else estimated).

One module per job: ``model`` (the row sample and ``ColumnProfile``), ``common`` (labels,
dtype tests, null masks, top lists), one module per kind of column (``numbers``,
``categories``, ``dates``, ``text``, ``objects``) and ``profile`` (:func:`profile_column`,
which picks the kind). Every function is pure (no shared state) and may be called from
any thread. :func:`profile_column` never raises: a column it cannot understand is
profiled as ``other`` with examples only.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "SAMPLE_ROWS": "model",
    "TOP_VALUES": "model",
    "EXAMPLES": "model",
    "RowSample": "model",
    "TopValue": "model",
    "ColumnProfile": "model",
    "row_sample": "model",
    "column_label": "common",
    "coarse_kind": "common",
    "profile_column": "profile",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
