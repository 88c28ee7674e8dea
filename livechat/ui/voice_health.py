"""The Settings page's "Voice calls on this server" lines: gaps and how calls ended.

Reads the process-wide ledger (``livechat.voice.gaps``): a host too small for its load
shows up as microphone gaps over 1 s (calls go on through them) and, beyond the stall
bound, as calls ended for "stalled". Each replica shows its own figures.
"""

from __future__ import annotations

import streamlit as st

from livechat.voice.gaps import LedgerSnapshot, voice_ledger

__all__ = ["ledger_lines", "render_voice_health"]


def ledger_lines(snapshot: LedgerSnapshot, stall_timeout_s: float) -> list[str]:
    """The lines shown for ``snapshot`` (plain Markdown)."""
    lines = [f"**Calls since the server started:** {snapshot.calls}"]
    if snapshot.gaps:
        lines.append(f"**Microphone gaps over 1 s:** {snapshot.gaps} (longest {snapshot.longest_gap_s:.1f} s, "
                     f"{snapshot.gap_seconds:.0f} s in all): frames came late, the calls went on. Many "
                     "gaps mean this host is too busy for its load.")
    else:
        lines.append("**Microphone gaps over 1 s:** none")
    if snapshot.ended:
        ended = ", ".join(f"{reason} {count}" for reason, count in sorted(snapshot.ended.items()))
        lines.append(f"**How calls ended:** {ended}")
    lines.append(f"**Stall bound:** a call ends after {stall_timeout_s:g} s without microphone audio "
                 "(`LIVECHAT_UPLINK_STALL_S`); a closed tab ends it within about a second.")
    return lines


def render_voice_health(stall_timeout_s: float) -> None:
    """The section's lines, from this process's ledger."""
    for line in ledger_lines(voice_ledger().snapshot(), stall_timeout_s):
        st.markdown(line)
