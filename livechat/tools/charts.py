"""Charts the model asks for: a small validated spec, and the Altair chart it describes.

``ChartSpec`` is what the ``show_chart`` tool returns and what the Talk page keeps in
its history (``to_dict``/``from_dict`` round-trip through plain JSON). ``validate_spec``
checks a spec against a DataFrame and fills in defaults; ``chart_data`` pre-aggregates
in pandas so that a chart never carries more than ``MAX_POINTS`` points to the browser;
``build_chart`` turns that into an ``altair.Chart`` (the page renders it).

Aggregated frames use the column names ``x``/``y``/``x2`` and put the real names in axis
titles: Vega-Lite reads dots and brackets in field names as paths, and analysts' column
names contain both.

Pure functions (no Streamlit); safe from any thread, they only read the DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from livechat.tools.columns import ColumnNotFoundError, column_kind, resolve_column

__all__ = [
    "AGGREGATES",
    "CHART_KINDS",
    "MAX_BARS",
    "MAX_BINS",
    "MAX_POINTS",
    "ChartData",
    "ChartSpec",
    "ChartRenderError",
    "ChartSpecError",
    "chart_png",
    "build_chart",
    "chart_data",
    "validate_spec",
]

CHART_KINDS: tuple[str, ...] = ("bar", "line", "scatter", "histogram")
AGGREGATES: tuple[str, ...] = ("sum", "mean", "count", "min", "max", "none")
MAX_POINTS: int = 5_000  # also Altair's default max_rows for inline data
MAX_BARS: int = 50  # more bars than this are unreadable beside a transcript
MAX_BINS: int = 50
MAX_TITLE_CHARS: int = 120

_SOURCE_KEYS = ("table", "query")
_DEFAULT_AGGREGATE = {"bar": "sum", "line": "mean", "scatter": "none", "histogram": "count"}
_AXIS_KINDS = ("numeric", "datetime", "boolean")  # what can sit on a quantitative/temporal axis


class ChartSpecError(ValueError):
    """A chart request does not fit the data; ``str()`` tells the model what to change."""


class ChartRenderError(RuntimeError):
    """A chart could not be turned into an image (for a report); ``str()`` says why."""


@dataclass(frozen=True)
class ChartSpec:
    """One chart: ``kind`` of ``y`` (aggregated by ``aggregate``) against ``x``."""

    kind: str
    x: str
    y: str | None = None
    aggregate: str | None = None
    title: str | None = None
    # Where the points come from when not the single table: one table of a set by its
    # SQL name, or a read-only query whose result is charted (``ToolBox.chart_frame``).
    table: str | None = None
    query: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Plain JSON-ready dict (the tool result and the Talk page history keep this).

        ``table`` and ``query`` appear only when set, so a single-table spec reads as before.
        """
        values = asdict(self)
        for key in _SOURCE_KEYS:
            if values[key] is None:
                del values[key]
        return values

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChartSpec:
        """Rebuild a spec from ``to_dict`` output. Raises ``ChartSpecError`` on bad shape."""
        if not isinstance(data, Mapping):
            raise ChartSpecError(f"a chart spec must be a mapping, got {type(data).__name__}")
        keys = ("kind", "x", "y", "aggregate", "title", *_SOURCE_KEYS)
        unknown = sorted(set(data) - set(keys))
        if unknown:
            raise ChartSpecError(f"unknown chart spec keys: {', '.join(map(str, unknown))}")
        values: dict[str, str | None] = {}
        for key in keys:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ChartSpecError(f"chart spec {key} must be text, got {type(value).__name__}")
            values[key] = value
        if not values["kind"] or not values["x"]:
            raise ChartSpecError("a chart spec needs kind and x")
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ChartData:
    """The points a chart draws, after aggregation and capping, and the validated spec."""

    spec: ChartSpec  # as validate_spec returned it: exact names, defaults filled
    frame: pd.DataFrame  # columns x, y, and x2 for binned bars
    x_type: str  # Vega-Lite type: quantitative, temporal, nominal, ordinal
    y_type: str
    x_title: str
    y_title: str
    groups: int  # points before capping
    note: str | None = None  # what capping did, for the model and the caption


def validate_spec(df: pd.DataFrame, spec: ChartSpec) -> ChartSpec:
    """Check ``spec`` against ``df``; return it with exact column names and defaults filled.

    Raises ``ChartSpecError`` with a message the model can act on.
    """
    kind = (spec.kind or "").strip().lower()
    if kind not in CHART_KINDS:
        raise ChartSpecError(f'Chart kind must be one of {", ".join(CHART_KINDS)}; got "{spec.kind}".')
    aggregate = (spec.aggregate or "").strip().lower() or None
    if aggregate is not None and aggregate not in AGGREGATES:
        raise ChartSpecError(
            f'Aggregate must be one of {", ".join(AGGREGATES)}; got "{spec.aggregate}".')
    x = _column(df, spec.x, "x")
    y = _column(df, spec.y, "y") if spec.y not in (None, "") else None
    x_kind = column_kind(df[x])
    if kind == "histogram":
        if y is not None:
            raise ChartSpecError("A histogram takes only x (the column to bin); leave y empty "
                                 "or use a bar chart.")
        if aggregate not in (None, "count"):
            raise ChartSpecError(f'A histogram counts rows; aggregate must be count, got "{aggregate}".')
        if x_kind == "timedelta":
            raise ChartSpecError(f'Column "{x}" holds durations, which cannot be binned.')
        aggregate = "count"
    else:
        aggregate = aggregate or (_DEFAULT_AGGREGATE[kind] if y is not None else "count")
        if y is None and aggregate != "count":
            raise ChartSpecError(f'A {kind} chart with aggregate "{aggregate}" needs a y column; '
                                 'or use aggregate "count" to count rows.')
        if kind == "scatter" and y is None:
            raise ChartSpecError("A scatter chart needs both x and y columns.")
        if y is not None:
            _check_y(df, y, aggregate)
        if aggregate == "none" or kind == "scatter":
            if x_kind == "timedelta":
                raise ChartSpecError(f'Column "{x}" holds durations and cannot be an axis.')
    title = (spec.title or "").strip()[:MAX_TITLE_CHARS] or _default_title(kind, x, y, aggregate)
    return ChartSpec(kind=kind, x=x, y=y, aggregate=aggregate, title=title,
                     table=spec.table, query=spec.query)


def _column(df: pd.DataFrame, name: str | None, role: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ChartSpecError(f"The chart needs an {role} column name.")
    try:
        return str(resolve_column(df, name))
    except ColumnNotFoundError as exc:
        raise ChartSpecError(str(exc)) from None


def _check_y(df: pd.DataFrame, y: str, aggregate: str) -> None:
    y_kind = column_kind(df[y])
    if aggregate in ("sum", "mean") and y_kind not in ("numeric", "boolean"):
        raise ChartSpecError(f'Aggregate "{aggregate}" needs a numeric y, but "{y}" holds '
                             f"{y_kind} values. Use count, or pick a numeric column.")
    if aggregate in ("min", "max", "none") and y_kind not in _AXIS_KINDS:
        raise ChartSpecError(f'Aggregate "{aggregate}" needs a numeric or date y, but "{y}" holds '
                             f"{y_kind} values. Use count, or pick a numeric column.")


def _default_title(kind: str, x: str, y: str | None, aggregate: str) -> str:
    if kind == "histogram":
        return f"Distribution of {x}"[:MAX_TITLE_CHARS]
    if kind == "scatter" and aggregate == "none":
        return f"{y} vs {x}"[:MAX_TITLE_CHARS]
    if y is None:
        return f"Rows by {x}"[:MAX_TITLE_CHARS]
    if aggregate == "none":
        return f"{y} by {x}"[:MAX_TITLE_CHARS]
    return f"{aggregate.capitalize()} of {y} by {x}"[:MAX_TITLE_CHARS]


def chart_data(df: pd.DataFrame, spec: ChartSpec) -> ChartData:
    """Validate ``spec`` and compute the at most ``MAX_POINTS`` points it draws."""
    spec = validate_spec(df, spec)
    x = df[resolve_column(df, spec.x)]
    x_kind = column_kind(x)
    if spec.kind == "histogram":
        return _histogram(x, x_kind, spec)
    y = df[resolve_column(df, spec.y)] if spec.y is not None else None
    if spec.aggregate == "none":
        assert y is not None  # validate_spec guarantees it
        return _raw_points(x, y, x_kind, spec)
    return _grouped(x, y, x_kind, spec)


def _vl_type(kind: str, *, ordered: bool = False) -> str:
    if kind == "numeric":
        return "quantitative"
    if kind == "datetime":
        return "temporal"
    return "ordinal" if ordered else "nominal"


def _raw_points(x: pd.Series, y: pd.Series, x_kind: str, spec: ChartSpec) -> ChartData:
    # reset_index keeps the dtypes (tz, nullable) and, copy-on-write, copies nothing yet.
    frame = pd.DataFrame({"x": x.reset_index(drop=True), "y": y.reset_index(drop=True)}).dropna()
    groups, note = len(frame), None
    if groups > MAX_POINTS:
        # Deterministic sample: the same request draws the same chart.
        frame = frame.sample(MAX_POINTS, random_state=0)
        note = f"a random sample of {MAX_POINTS:,} of {groups:,} points"
    if spec.kind == "line":
        frame = frame.sort_values("x", kind="stable")
    if x_kind == "boolean":
        frame["x"] = frame["x"].map({True: "true", False: "false"})
    return ChartData(spec, frame.reset_index(drop=True), _vl_type(x_kind), _vl_type(column_kind(y)),
                     spec.x, str(spec.y), groups, note)


def _grouped(x: pd.Series, y: pd.Series | None, x_kind: str, spec: ChartSpec) -> ChartData:
    aggregate = spec.aggregate or "count"
    if y is None:  # count rows
        values, how, y_title = pd.Series(1, index=x.index, dtype="int64"), "sum", "rows"
    elif aggregate == "count":  # count rows where y is present
        values, how, y_title = y.notna().astype("int64"), "sum", f"count of {spec.y}"
    else:
        values, how, y_title = _aggregatable(y), aggregate, f"{aggregate} of {spec.y}"
    frame = pd.DataFrame({"k": x.reset_index(drop=True), "v": values.reset_index(drop=True)})
    frame = frame[frame["k"].notna()]
    y_type = "temporal" if y is not None and how in ("min", "max") and column_kind(y) == "datetime" \
        else "quantitative"
    cap = MAX_BARS if spec.kind == "bar" else MAX_POINTS
    distinct = int(frame["k"].nunique())
    if distinct > cap and x_kind in ("numeric", "datetime"):
        return _binned(frame, x_kind, how, cap, spec, y_title, y_type, distinct)
    grouped = frame.groupby("k", sort=True, observed=True)["v"]
    # A group whose y values are all missing has no sum (pandas would say 0).
    result = (grouped.sum(min_count=1) if how == "sum" else grouped.agg(how)).reset_index()
    result.columns = ["x", "y"]
    note = None
    if len(result) > cap:
        if spec.kind == "bar":
            result = result.sort_values("y", ascending=False, kind="stable").head(cap)
            note = f"the top {cap} of {distinct:,} {spec.x} values by {y_title}"
        else:
            result = result.head(cap)
            note = f"the first {cap:,} of {distinct:,} {spec.x} values"
    elif spec.kind == "bar" and x_kind not in ("numeric", "datetime"):
        result = result.sort_values("y", ascending=False, kind="stable")
    if x_kind == "boolean":
        result["x"] = result["x"].map({True: "true", False: "false"})
    return ChartData(spec, result.reset_index(drop=True), _vl_type(x_kind, ordered=spec.kind == "line"),
                     y_type, spec.x, y_title, distinct, note)


def _aggregatable(y: pd.Series) -> pd.Series:
    kind = column_kind(y)
    if kind in ("boolean", "numeric"):
        # Float64 keeps NA as missing: sum of a boolean = number of trues, mean = share.
        return y.astype("Float64")
    return y  # datetime, for min/max


def _binned(frame: pd.DataFrame, x_kind: str, how: str, bins: int, spec: ChartSpec,
            y_title: str, y_type: str, distinct: int) -> ChartData:
    keys = frame["k"]
    low, high = keys.min(), keys.max()
    width = (high - low) / bins
    offsets = (keys - low) / width if x_kind == "datetime" else (
        (keys.astype("float64") - float(low)) / float(width))
    codes = np.minimum(np.floor(offsets.to_numpy(dtype="float64")), bins - 1).astype("int64")
    grouped = frame["v"].groupby(codes)
    agg = grouped.sum(min_count=1) if how == "sum" else grouped.agg(how)
    starts = [low + width * int(code) for code in agg.index]
    ends = [low + width * (int(code) + 1) for code in agg.index]
    result = pd.DataFrame({"x": starts, "x2": ends, "y": agg.to_numpy()})
    note = f"{distinct:,} distinct {spec.x} values grouped into {bins} equal intervals"
    return ChartData(spec, result, _vl_type(x_kind), y_type, spec.x, y_title, distinct, note)


def _histogram(x: pd.Series, x_kind: str, spec: ChartSpec) -> ChartData:
    name = spec.x
    present = x.dropna()
    if x_kind in ("numeric", "datetime") and len(present):
        tz = getattr(present.dtype, "tz", None)
        if x_kind == "datetime":
            stamps = (present.dt.tz_convert(None) if tz is not None else present).to_numpy()
            unit = np.datetime_data(stamps.dtype)[0]
            raw = stamps.view("int64").astype("float64")
        else:
            raw = present.to_numpy(dtype="float64")
            raw = raw[np.isfinite(raw)]
        if not len(raw):
            raw = np.array([0.0])
        edges = np.histogram_bin_edges(raw, bins="auto")
        if len(edges) - 1 > MAX_BINS:
            edges = np.linspace(raw.min(), raw.max(), MAX_BINS + 1)
        counts, edges = np.histogram(raw, bins=edges)
        starts: Any = edges[:-1]
        ends: Any = edges[1:]
        if x_kind == "datetime":
            starts = pd.to_datetime(np.round(starts).astype("int64"), unit=unit, utc=tz is not None)
            ends = pd.to_datetime(np.round(ends).astype("int64"), unit=unit, utc=tz is not None)
            if tz is not None:
                starts, ends = starts.tz_convert(tz), ends.tz_convert(tz)
        frame = pd.DataFrame({"x": starts, "x2": ends, "y": counts.astype("int64")})
        return ChartData(spec, frame, _vl_type(x_kind), "quantitative", name, "rows", len(frame))
    # Text or boolean: one bar per value, most frequent first.
    labels = present.map({True: "true", False: "false"}) if x_kind == "boolean" else present
    counts = labels.astype("string").value_counts(sort=True)
    distinct = len(counts)
    note = f"the {MAX_BARS} most frequent of {distinct:,} values" if distinct > MAX_BARS else None
    counts = counts.head(MAX_BARS)
    frame = pd.DataFrame({"x": counts.index.astype(object), "y": counts.to_numpy(dtype="int64")})
    return ChartData(spec, frame, "nominal", "quantitative", name, "rows", distinct, note)


def build_chart(df: pd.DataFrame, spec: ChartSpec) -> alt.Chart:
    """The Altair chart for ``spec`` over ``df`` (at most ``MAX_POINTS`` points inline).

    Raises ``ChartSpecError`` if the spec does not fit ``df``.
    """
    data = chart_data(df, spec)
    spec, frame = data.spec, data.frame
    # Bars over intervals span x..x2; a line or scatter plots each interval at its start.
    binned = "x2" in frame.columns and spec.kind in ("bar", "histogram")
    x_enc = alt.X("x", type=data.x_type, title=data.x_title,  # type: ignore[arg-type]
                  bin="binned" if binned else alt.Undefined,
                  sort=None if data.x_type == "nominal" else alt.Undefined)
    y_enc = alt.Y("y", type=data.y_type, title=data.y_title)  # type: ignore[arg-type]
    tooltip = [alt.Tooltip("x", type=data.x_type, title=data.x_title),  # type: ignore[arg-type]
               alt.Tooltip("y", type=data.y_type, title=data.y_title)]  # type: ignore[arg-type]
    chart = alt.Chart(frame)
    if spec.kind == "scatter":
        chart = chart.mark_circle(opacity=0.6)
    elif spec.kind == "line":
        chart = chart.mark_line(point=len(frame) <= 60)
    else:
        chart = chart.mark_bar()
    encoding: dict[str, Any] = {"x": x_enc, "y": y_enc, "tooltip": tooltip}
    if binned:
        encoding["x2"] = alt.X2("x2")
    title = spec.title or ""
    if data.note:
        return chart.encode(**encoding).properties(title=alt.TitleParams(title, subtitle=data.note))
    return chart.encode(**encoding).properties(title=title)


def chart_png(chart: alt.Chart, *, scale: float = 1.0) -> bytes:
    """``chart`` as PNG bytes, rendered without a browser (vl-convert's bundled Vega).

    Used only when the analyst exports a report, so the native renderer is imported
    here and not at start-up. Raises ``ChartRenderError``.
    """
    import vl_convert  # noqa: PLC0415 - ~40 MB native module, loaded on first export

    try:
        return bytes(vl_convert.vegalite_to_png(chart.to_dict(), scale=scale))
    except Exception as exc:  # vl-convert raises ValueError/RuntimeError with Vega's message
        raise ChartRenderError(f"The chart could not be rendered as an image: {exc}") from exc
