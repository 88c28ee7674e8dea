"""Budgets: how much each analyst (and the deployment) may talk, counted where every replica sees it.

- ``limits``: the limits from secrets (``[limits]``) and the environment.
- ``decide``: pure decisions: the UTC day and its reset, may this call start, how long may
  it go on, which limit and when it resets.
- ``ledger``: the counts in the store (daily counters per analyst, open calls with a
  heartbeat), read before every mint and added to as calls go.
- ``meter``: one Live session's guard: checks before each mint, counts what the session
  uses, says when a limit ends the call, writes the audit trail.
- ``report``: what the admin's Usage section shows (today and 30 days per analyst).

Never imports streamlit. Imports ``store`` (the counts and the audit trail) and ``live``
(the ``SessionGuard`` contract the meter fulfils); nothing of the live session itself.
"""

from livechat.usage.limits import LIMIT_NAMES, Limits, LimitsError, resolve_limits

__all__ = ["LIMIT_NAMES", "Limits", "LimitsError", "resolve_limits"]
