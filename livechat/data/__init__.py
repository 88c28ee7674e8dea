"""Stage 1 of the flow: uploaded bytes in, a clean DataFrame out.

May import: nothing of livechat but the cross-cutting helpers.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "DataLoadError": "load",
    "LoadedTable": "load",
    "ColumnConversion": "load",
    "encoding_label": "load",
    "load_table": "load",
    "list_sheets": "load",
    "TableLayout": "load",
    "content_digest": "load",
    "SUPPORTED_EXTENSIONS": "load",
    "EXCEL_EXTENSIONS": "load",
    "is_workbook": "load",
    "MAX_UPLOAD_BYTES": "load",
    "MAX_UPLOAD_MB": "load",
    "MAX_COLUMNS": "load",
    "MAX_CELLS": "load",
    "profile_columns": "profile",
    "chart_candidates": "profile",
    "ChartCandidates": "profile",
    "column_type": "profile",
    "DATA_ALIAS": "tableset",
    "MAX_TABLES": "tableset",
    "NamedTable": "tableset",
    "TableFailure": "tableset",
    "TableSetLoad": "tableset",
    "TableSetLoadError": "tableset",
    "load_table_set": "tableset",
    "sql_table_name": "sql_names",
    "unique_sql_names": "sql_names",
    "nonempty_sheet_names": "workbook",
    "load_sample": "sample",
    "SAMPLE_NAME": "sample",
    "SAMPLE_PATH": "sample",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
