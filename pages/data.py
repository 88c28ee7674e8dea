"""Data page: upload a spreadsheet, look at it, and see exactly what the model is told.

Layout and widgets only; loading, caching and chart data come from ``livechat.ui``.
"""

import streamlit as st

from livechat.data.load import MAX_UPLOAD_MB, SUPPORTED_EXTENSIONS, encoding_label
from livechat.data.tableset import MAX_TABLES
from livechat.ui import cache, definitions, definitions_panel, model_panel, model_tables, shell, slots, state, tables
from livechat.ui import dataset as flows
from livechat.ui import quick_charts as qc
from livechat.ui.formatting import escape_markdown, format_bytes, format_shape

# Rows sent to the browser grid; the whole table stays on the server for the model.
PREVIEW_ROWS = 20_000

shell.ensure_shell()  # the shell without app.py; the access gate if nobody is admitted (livechat/ui/shell.py)

st.title("Data")

st.file_uploader(
    "Upload spreadsheets",
    type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS] + ["yaml", "yml"],
    key=state.upload_widget_key(),  # a new, empty uploader once a file is loaded
    on_change=flows.on_upload_change,
    max_upload_size=MAX_UPLOAD_MB,
    accept_multiple_files=True,
    help=(
        f"CSV, TSV, Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods), Parquet or JSON, up to {MAX_UPLOAD_MB} MB "
        f"in all. Several files, or a workbook's sheets, become tables the model can join (up to {MAX_TABLES}). "
        "A .definitions.yaml beside them holds your terms and trusted queries. "
        "Until you upload a file, a sample dataset is shown."
    ),
)

current = flows.ensure_dataset()
seen = model_tables.current()  # what the model sees: the session's set (of one for a single upload)
failure = state.load_failure()
if failure is not None:
    still = f" Still showing {current.table.name}." if current is not None else ""
    st.error(f"Not loaded: {failure.message}{still}")
if current is None or seen is None:
    st.stop()
definitions_error = state.definitions_error()
if definitions_error is not None:
    st.error(definitions_error)

table = current.table
df = table.df
# The ticks of a set of several tables, or the sheet picker of a single workbook.
tables.render_table_choice(seen.table_set, on_sheet_change=flows.on_sheet_change)

if table.encoding is not None and current.raw is not None:
    st.selectbox(
        "Text encoding",
        options=list(table.encoding_choices),
        index=list(table.encoding_choices).index(table.encoding),
        format_func=encoding_label,
        key=current.encoding_widget_key,
        on_change=flows.on_encoding_change,
        args=(current.encoding_widget_key,),
        help="The file is not UTF-8; this is the code page it was read with. If letters look wrong, pick another.",
    )

st.header(table.name)  # h2 under the h1 title: headings in order
st.caption(
    f"{format_shape(len(df), len(df.columns))} · "
    f"{format_bytes(cache.dataset_memory_bytes(current))} in memory"
)
if table.encoding is not None and current.raw is None:
    st.caption(f"Text encoding: {encoding_label(table.encoding)}")
for warning in table.warnings:
    st.warning(warning)
if table.conversions:
    st.info(
        "Read from text as the file writes them:\n"
        + "\n".join(f"- {conversion.describe()}" for conversion in table.conversions)
    )
if table.layout is not None:
    layout = table.layout
    found = escape_markdown(layout.describe(table.sheet))
    with st.expander(f"Found: {found}", expanded=bool(layout.adjustments)):
        for adjustment in layout.adjustments:
            st.markdown(f"- {escape_markdown(adjustment)}")
        st.number_input(
            "Header row",
            min_value=1,
            value=layout.header_row,
            step=1,
            key=current.header_widget_key,
            on_change=flows.on_header_row_change,
            args=(current.header_widget_key,),
            help="The row the column names are read from. Change it when the guess is wrong; "
            "the table is read again.",
        )

tab_table, tab_columns, tab_charts, tab_model, tab_definitions = st.tabs(
    ["Table", "Columns", "Quick charts", "What the model sees", "Definitions"]
)

with tab_table:
    if len(df) > PREVIEW_ROWS:
        st.caption(f"Showing the first {PREVIEW_ROWS:,} of {len(df):,} rows.")
    st.dataframe(
        df.head(PREVIEW_ROWS),
        column_config=cache.dataset_column_config(current),
        hide_index=True,
        width="stretch",
    )

with tab_columns:
    st.dataframe(cache.dataset_profile(current), hide_index=True, width="stretch")

with tab_charts:
    candidates = cache.dataset_chart_candidates(current)
    widget = slots.CHART_WIDGETS.key(f"{current.cache_key}.")
    col_hist, col_bar = st.columns(2)
    with col_hist:
        st.markdown("**Distribution**")
        if candidates.numeric:
            column = st.selectbox("Numeric column", list(candidates.numeric), key=widget + "hist")
            st.vega_lite_chart(cache.dataset_histogram(current, column), qc.histogram_spec(column), width="stretch")
        else:
            st.caption("No numeric column to plot.")
    with col_bar:
        st.markdown("**Top categories**")
        if candidates.categorical:
            column = st.selectbox("Category column", list(candidates.categorical), key=widget + "bar")
            st.vega_lite_chart(
                cache.dataset_top_categories(current, column), qc.top_categories_spec(column), width="stretch"
            )
        else:
            st.caption("No category column to count.")
    st.markdown("**Over time**")
    if candidates.datetime:
        col_time, col_value = st.columns(2)
        time_column = col_time.selectbox("Date/time column", list(candidates.datetime), key=widget + "time")
        value_choice = col_value.selectbox(
            "Value (mean per period)", [qc.ROW_COUNT, *candidates.numeric], key=widget + "value"
        )
        value_column = None if value_choice == qc.ROW_COUNT else value_choice
        series, period = cache.dataset_time_series(current, time_column, value_column)
        st.vega_lite_chart(
            series, qc.time_series_spec(time_column, value_choice, points=len(series) <= 60), width="stretch"
        )
        st.caption(f"One point per period ({period}).")
    else:
        st.caption("No date/time column to plot over.")

with tab_model:
    st.markdown(
        "This is the exact instruction a voice session starts with: the data summary, "
        "fenced as data, inside the rules the model follows."
    )
    budget = state.set_instruction_budget(
        st.number_input(
            "Summary budget (tokens)",
            min_value=state.MIN_BUDGET,
            max_value=state.MAX_BUDGET,
            value=state.instruction_budget(),
            step=state.BUDGET_STEP,
            key=state.BUDGET_WIDGET_KEY,
            help="A larger budget shows the model more rows and statistics, at a higher cost per session.",
        )
    )
    defined = definitions.model_view(seen, budget)  # one or several tables, definitions in
    view, section = defined.view, defined.section
    summary = view.summary
    used = (summary.estimated_tokens + section.estimated_tokens) / budget
    st.progress(
        min(used, 1.0),
        text=f"Data summary: about {summary.estimated_tokens:,} of {budget:,} tokens ({used:.0%} of the budget)"
        if not section.text else
        f"Data summary about {summary.estimated_tokens:,} + your definitions about "
        f"{section.estimated_tokens:,} of {budget:,} tokens ({used:.0%} of the budget)",
    )
    if section.omitted:
        st.warning("Definitions left out to fit the budget: " + "; ".join(section.omitted) + ".")
    st.caption(
        f"The whole instruction, with the rules around the data, is about {view.instruction_tokens:,} tokens."
    )
    if summary.omitted:
        st.info("Left out to fit the budget: " + "; ".join(summary.omitted) + ".")
    else:
        st.caption("Nothing was left out: everything fits the budget.")
    st.code(view.instruction, language=None, wrap_lines=True)
    vocabulary = definitions.vocabulary(seen)
    st.markdown(f"**Transcription vocabulary** ({len(vocabulary)} words and phrases)")
    st.caption(model_panel.vocabulary_note(model_panel.configured_model()))
    st.code("\n".join(vocabulary), language=None)

with tab_definitions:
    definitions_panel.render_panel(current, seen)
