"""Beside the Live session: the read-only tools the model may call (SQL in a DuckDB worker
process, column statistics, charts) and their declarations.

May import: data, summary and the cross-cutting helpers.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "TOOL_NAMES": "declarations",
    "TOOL_BEHAVIOR": "declarations",
    "response_scheduling": "declarations",
    "ToolBox": "toolbox",
    "function_declarations": "declarations",
    "live_tools": "declarations",
    "ChartSpec": "charts",
    "ChartRenderError": "charts",
    "chart_png": "charts",
    "ChartSpecError": "charts",
    "build_chart": "charts",
    "chart_data": "charts",
    "validate_spec": "charts",
    "SqlError": "sql_sandbox",
    "SqlLimits": "sql_sandbox",
    "SqlSandbox": "sql_sandbox",
    "TrustedQueryRunner": "trusted",
    "check_definitions": "trusted",
    "mark_broken": "trusted",
    "trusted_query_declaration": "declarations",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
