"""The Usage section of Settings (admins only): who used what, the deployment's cap, the trail.

Today and the last 30 days per analyst (voice minutes, tokens, calls, tool calls), the
deployment's voice minutes today against ``voice_minutes_per_day_total``, the limits in
force, and the audit trail as CSV (built only when the button is pressed). Figures come
from the store (``livechat.usage.report``); when it cannot be read, the section says so.

Script thread, except the CSV's builder (Streamlit runs it on its own thread: it gets the
store writer as an argument and touches no session state).
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from livechat.store.audit import events_csv, read_events
from livechat.store.writer import StoreWriter
from livechat.usage.limits import LimitsError
from livechat.usage.report import usage_report
from livechat.ui import access, budgets, conversations, slots

__all__ = ["render_usage"]


def _trail_csv(writer: StoreWriter) -> str:
    return events_csv(writer.read(lambda store: read_events(store), []))


def _table(report) -> pd.DataFrame:
    return pd.DataFrame([{
        "analyst": a.analyst,
        "minutes today": round(a.today.seconds / 60.0, 1),
        "tokens today": a.today.tokens,
        "calls today": a.today.calls,
        "tool calls today": a.today.tool_calls,
        f"minutes ({report.days} days)": round(a.period.seconds / 60.0, 1),
        f"tokens ({report.days} days)": a.period.tokens,
        f"calls ({report.days} days)": a.period.calls,
    } for a in report.analysts])


def render_usage() -> None:
    """The Usage section, for admins; nothing for anyone else."""
    if not access.current_analyst().is_admin:
        return
    st.header("Usage")
    try:
        limits = budgets.current_limits()
    except LimitsError as exc:
        st.error(f"The limits are not usable, so no voice session starts: {exc}")
        return
    writer = conversations.store_writer()
    report = writer.read(lambda store: usage_report(store, limits, now=time.time()), None)
    if report is None:
        st.warning("Usage cannot be read: the store is not reachable (calls are counted once it is back).")
        return
    used = report.deployment_minutes_today
    if report.cap_minutes:
        st.progress(min(1.0, used / report.cap_minutes),
                    text=f"Voice minutes today (UTC {report.day}): {used:,.1f} of {report.cap_minutes:g} "
                         "for the whole deployment (voice_minutes_per_day_total)")
    else:
        st.markdown(f"**Voice minutes today** (UTC {report.day}): {used:,.1f}, no deployment cap")
    st.markdown("**Limits:** " + (", ".join(f"`{name}` = {value:g}" for name, value in limits.items())
                                  if limits.any else "none set (usage is counted, nothing is refused)"))
    if report.analysts:
        st.dataframe(_table(report), hide_index=True)
    else:
        st.caption(f"No usage in the last {report.days} days.")
    st.download_button("Download the audit trail (CSV)", data=lambda: _trail_csv(writer),
                       file_name="livechat-audit.csv", mime="text/csv", key=slots.USAGE_TRAIL_WIDGET.key,
                       on_click="ignore")
