"""Limits from secrets and the environment (livechat.usage.limits)."""

from __future__ import annotations

import pytest

from livechat.usage.limits import LIMIT_NAMES, Limits, LimitsError, resolve_limits


def test_no_section_and_no_environment_means_no_limits():
    limits = resolve_limits({}, {})
    assert limits == Limits() and not limits.any and limits.items() == []


def test_every_limit_is_read_from_the_limits_section():
    secrets = {"limits": {"voice_minutes_per_day": 30, "tokens_per_day": 200_000, "tool_calls_per_day": 50,
                          "max_call_minutes": 12.5, "max_concurrent_calls": 2, "voice_minutes_per_day_total": "600"}}
    limits = resolve_limits(secrets, {})
    assert limits == Limits(30.0, 200_000, 50, 12.5, 2, 600.0)
    assert [name for name, _ in limits.items()] == list(LIMIT_NAMES)


def test_the_environment_fills_what_secrets_leave_unset_and_secrets_win():
    env = {"LIVECHAT_VOICE_MINUTES_PER_DAY": "10", "LIVECHAT_MAX_CALL_MINUTES": "0.5",
           "LIVECHAT_TOKENS_PER_DAY": "99"}
    limits = resolve_limits({"limits": {"tokens_per_day": 5, "max_call_minutes": ""}}, env)
    assert limits.voice_minutes_per_day == 10.0
    assert limits.max_call_minutes == 0.5  # blank in secrets: the environment's value
    assert limits.tokens_per_day == 5


def test_zero_is_a_limit_not_the_absence_of_one():
    assert resolve_limits({"limits": {"max_concurrent_calls": 0}}, {}).max_concurrent_calls == 0


@pytest.mark.parametrize("name, raw, words", [
    ("voice_minutes_per_day", "half an hour", "voice_minutes_per_day must be a number of minutes"),
    ("tokens_per_day", 1.5, "tokens_per_day must be a whole number"),
    ("tool_calls_per_day", "ten", "tool_calls_per_day must be a whole number"),
    ("max_call_minutes", -1, "max_call_minutes must be 0 or more"),
    ("max_concurrent_calls", True, "max_concurrent_calls must be a whole number"),
    ("voice_minutes_per_day_total", "inf", "voice_minutes_per_day_total must be 0 or more"),
])
def test_an_unusable_value_names_the_setting_and_the_value(name, raw, words):
    with pytest.raises(LimitsError) as caught:
        resolve_limits({"limits": {name: raw}}, {})
    assert words in str(caught.value) and repr(raw) in str(caught.value)


def test_a_misspelt_setting_is_refused_rather_than_leaving_a_budget_unset():
    with pytest.raises(LimitsError, match="voice_minutes_a_day"):
        resolve_limits({"limits": {"voice_minutes_a_day": 5}}, {})
