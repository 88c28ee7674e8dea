"""The conversation as a file the analyst takes away: Markdown in a zip, or one HTML page.

Both are built from the same turns (``livechat.conversation.record.turns``): the dataset
and the instruction's summary hash first, then each turn's question, answer, figures,
the SQL that ran with the rows returned to the model, and the charts. Charts arrive as
PNG bytes from the caller (rendering needs the dataset; see
``livechat.tools.charts.chart_png``): the zip holds them as files the Markdown links to,
the HTML page carries them inline, so it opens with no network at all.

Everything in a report is untrusted text from a spreadsheet or a transcript: Markdown
escapes what would change the document's structure, HTML escapes everything. Known
secret shapes (API keys, ``auth_tokens/`` names) are masked as a last line of defence,
though nothing that carries one is ever given to the report.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from livechat.conversation.record import ToolWork, Turn
from livechat.redact import redact_text

__all__ = ["ReportContext", "chart_file_name", "markdown_report", "html_report", "report_zip"]

MAX_TABLE_ROWS = 50  # the tools already cap results at 50 rows; a bound for anything else
MARKDOWN_NAME = "conversation.md"
HTML_NAME = "conversation.html"
_NO_CHARTS: Mapping[int, bytes] = MappingProxyType({})
TRUSTED_MARK = "trusted query: "  # an answer built on one of the analyst's trusted queries


@dataclass(frozen=True)
class ReportContext:
    """What the report says about where the conversation happened."""

    dataset: str  # file (and sheet) name
    rows: int
    columns: int
    summary_hash: str | None  # the data block's nonce: identifies the exact instruction
    model: str
    exported_at: str  # e.g. "2026-12-06 10:30 UTC"
    tables: tuple[str, ...] = ()  # SQL names of the tables, when there are several

    @property
    def shape(self) -> str:
        return f"{self.rows:,} rows × {self.columns:,} columns"


def chart_file_name(work: ToolWork) -> str:
    """The zip path of a tool call's chart (stable: the transcript position)."""
    return f"charts/chart-{work.index:04d}.png"


# ------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!])")


def _md_text(text: str) -> str:
    """Untrusted text as Markdown that renders as the same characters (secrets masked first)."""
    return _MD_SPECIAL.sub(r"\\\1", redact_text(text))


def _md_cell(value: Any) -> str:
    text = "" if value is None else (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return _md_text(text).replace("\r", " ").replace("\n", " ")


def _md_quote(text: str) -> str:
    return "\n".join("> " + _md_text(line) if line else ">" for line in text.splitlines() or [""])


def _md_fence(text: str, language: str) -> str:
    # A fence longer than any backtick run inside, so a query cannot close it early.
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def _md_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "| " + " | ".join(_md_cell(c) for c in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows[:MAX_TABLE_ROWS]]
    return "\n".join([head, rule, *body])


def _tool_heading(work: ToolWork) -> str:
    parts = [f"Tool: {work.tool}"]
    if work.elapsed_ms is not None:
        parts.append(f"({work.elapsed_ms:,.1f} ms)")
    if work.pending:
        parts.append("(still running when exported)")
    elif work.cancelled:
        parts.append("(cancelled)")
    elif work.error is not None:
        parts.append("(failed)")
    return " ".join(parts)


def _md_tool(work: ToolWork, charts: Mapping[int, bytes]) -> list[str]:
    out = [f"#### {_md_text(_tool_heading(work))}", ""]
    if work.sql is not None:
        out += [_md_fence(work.sql, "sql"), ""]
    elif work.args:
        out += [_md_fence(json.dumps(work.args, ensure_ascii=False, indent=2), "json"), ""]
    if work.error is not None:
        out += [f"Error: {_md_text(work.error)}", ""]
    if work.columns:
        out += [_md_table(work.columns, work.rows), ""]
        if work.row_cap_note:
            out += [f"_{_md_text(work.row_cap_note)}_", ""]
    elif work.result is not None and work.error is None and work.chart is None:
        out += [_md_fence(json.dumps(work.result, ensure_ascii=False, indent=2), "json"), ""]
    if work.chart is not None:
        title = str(work.chart.get("title") or work.chart.get("kind") or "chart")
        if work.index in charts:
            out += [f"![{_md_text(title)}]({chart_file_name(work)})", ""]
        else:
            out += [f"_Chart: {_md_text(title)} (not rendered: the dataset it was drawn from is gone)._", ""]
    return out


def markdown_report(turns: Sequence[Turn], context: ReportContext, *, charts: Mapping[int, bytes] = _NO_CHARTS) -> str:
    """The whole conversation as Markdown; charts link to ``charts/chart-NNNN.png``."""
    out = ["# Live Data Chat: conversation record", ""]
    out += [f"- Dataset: {_md_text(context.dataset)} ({context.shape})"]
    if context.tables:
        out += [f"- Tables: {', '.join('`' + t + '`' for t in context.tables)}"]
    out += [f"- Instruction summary hash: `{context.summary_hash or 'none'}`"]
    out += [f"- Model: {_md_text(context.model)}", f"- Exported: {_md_text(context.exported_at)}", ""]
    if not turns:
        out += ["_No conversation yet._", ""]
    for number, turn in enumerate(turns, start=1):
        out += [f"## Turn {number}", ""]
        out += ["**Question**", ""]
        if turn.question is None:
            out += ["_(the model spoke before any question)_", ""]
        else:
            out += [_md_quote(turn.question), ""]
        out += ["**Answer**" + (" (interrupted)" if turn.interrupted else ""), ""]
        out += [_md_quote(turn.answer) if turn.answer else "_(no spoken answer)_", ""]
        if turn.figures:
            out += ["_" + _md_text(" · ".join(turn.figures)) + "_", ""]
        for question in turn.trusted:
            out += [f"_{_md_text(TRUSTED_MARK + question)}_", ""]
        for note in turn.notes:
            out += [f"Note: {_md_text(note)}", ""]
        for error in turn.errors:
            out += [f"Error: {_md_text(error)}", ""]
        if turn.tools:
            out += ["### How the answer was found", ""]
            for work in turn.tools:
                out += _md_tool(work, charts)
    return redact_text("\n".join(out).rstrip() + "\n")


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1f2328;line-height:1.5}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
.meta{color:#57606a}.q,.a{white-space:pre-wrap;padding:.5rem .8rem;border-radius:.4rem}
.q{background:#eef3ff}.a{background:#f6f8fa}.figures{color:#57606a;font-size:.9rem}
details{margin:.6rem 0;border:1px solid #d0d7de;border-radius:.4rem;padding:.4rem .8rem}
summary{cursor:pointer;font-weight:600}pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}
table{border-collapse:collapse;font-size:.9rem;margin:.4rem 0}td,th{border:1px solid #d0d7de;padding:.2rem .5rem}
.error{color:#b42318}.note{color:#57606a;font-style:italic}img.chart{max-width:100%}
""".strip()


def _h(text: Any) -> str:
    return html.escape(redact_text("" if text is None else str(text)), quote=True)


def _html_cell(value: Any) -> str:
    return _h(value if isinstance(value, str) or value is None else json.dumps(value, ensure_ascii=False))


def _html_tool(work: ToolWork, charts: Mapping[int, bytes]) -> list[str]:
    out = [f'<details class="tool" data-tool="{_h(work.tool)}"><summary>{_h(_tool_heading(work))}</summary>']
    if work.sql is not None:
        out.append(f'<pre><code class="language-sql">{_h(work.sql)}</code></pre>')
    elif work.args:
        out.append(f"<pre><code>{_h(json.dumps(work.args, ensure_ascii=False, indent=2))}</code></pre>")
    if work.error is not None:
        out.append(f'<p class="error">Error: {_h(work.error)}</p>')
    if work.columns:
        out.append("<table><thead><tr>" + "".join(f"<th>{_h(c)}</th>" for c in work.columns) + "</tr></thead><tbody>")
        for row in work.rows[:MAX_TABLE_ROWS]:
            out.append("<tr>" + "".join(f"<td>{_html_cell(v)}</td>" for v in row) + "</tr>")
        out.append("</tbody></table>")
        if work.row_cap_note:
            out.append(f'<p class="note">{_h(work.row_cap_note)}</p>')
    out.append("</details>")
    if work.chart is not None:
        title = work.chart.get("title") or work.chart.get("kind") or "chart"
        png = charts.get(work.index)
        if png is not None:
            data = base64.b64encode(png).decode("ascii")
            out.append(f'<figure><img class="chart" alt="{_h(title)}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{_h(title)}</figcaption></figure>")
        else:
            out.append(f'<p class="note">Chart: {_h(title)} (not rendered: the dataset it was drawn from is gone).</p>')
    return out


def html_report(turns: Sequence[Turn], context: ReportContext, *, charts: Mapping[int, bytes] = _NO_CHARTS) -> str:
    """The whole conversation as one self-contained HTML page (charts inline as PNG)."""
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           # Self-contained by rule: nothing may be fetched when the file is opened.
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "img-src data:; style-src 'unsafe-inline'\">",
           f"<title>Live Data Chat: {_h(context.dataset)}</title><style>{_CSS}</style></head><body>",
           "<h1>Live Data Chat: conversation record</h1>",
           f'<p class="meta">Dataset: <strong>{_h(context.dataset)}</strong> ({_h(context.shape)})<br>']
    if context.tables:
        out.append(f"Tables: {_h(', '.join(context.tables))}<br>")
    out.append(f"Instruction summary hash: <code>{_h(context.summary_hash or 'none')}</code><br>"
               f"Model: {_h(context.model)}<br>Exported: {_h(context.exported_at)}</p>")
    if not turns:
        out.append('<p class="note">No conversation yet.</p>')
    for number, turn in enumerate(turns, start=1):
        out.append(f'<section class="turn"><h2>Turn {number}</h2>')
        question = turn.question if turn.question is not None else "(the model spoke before any question)"
        out.append(f'<div class="q"><strong>Question</strong>\n{_h(question)}</div>')
        label = "Answer (interrupted)" if turn.interrupted else "Answer"
        out.append(f'<div class="a"><strong>{label}</strong>\n{_h(turn.answer or "(no spoken answer)")}</div>')
        if turn.figures:
            out.append(f'<p class="figures">{_h(" · ".join(turn.figures))}</p>')
        out += [f'<p class="trusted">{_h(TRUSTED_MARK + q)}</p>' for q in turn.trusted]
        out += [f'<p class="note">{_h(n)}</p>' for n in turn.notes]
        out += [f'<p class="error">{_h(e)}</p>' for e in turn.errors]
        for work in turn.tools:
            out += _html_tool(work, charts)
        out.append("</section>")
    out.append("</body></html>")
    return redact_text("\n".join(out) + "\n")


# ------------------------------------------------------------------------------ zip

def report_zip(turns: Sequence[Turn], context: ReportContext, *, charts: Mapping[int, bytes] = _NO_CHARTS) -> bytes:
    """``conversation.md`` + ``charts/*.png`` (+ the HTML page) in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MARKDOWN_NAME, markdown_report(turns, context, charts=charts))
        archive.writestr(HTML_NAME, html_report(turns, context, charts=charts))
        for turn in turns:
            for work in turn.tools:
                if work.chart is not None and work.index in charts:
                    archive.writestr(chart_file_name(work), charts[work.index])
    return buffer.getvalue()
