"""Budget decisions (livechat.usage.decide): which limit, when it resets, how long is left."""

from __future__ import annotations

import datetime as dt

import pytest

from livechat.usage.decide import Figures, Standing, day_of, format_left, next_reset, refusal, time_left
from livechat.usage.limits import Limits

# 2026-12-07 21:30:00 UTC: two and a half hours before the daily reset.
NOW = dt.datetime(2026, 12, 7, 21, 30, tzinfo=dt.timezone.utc).timestamp()
MIDNIGHT = dt.datetime(2026, 12, 8, tzinfo=dt.timezone.utc).timestamp()


def _standing(seconds=0.0, tokens=0, tool_calls=0, deployment=0.0, open_calls=0) -> Standing:
    return Standing(Figures(seconds=seconds, tokens=tokens, tool_calls=tool_calls), deployment, open_calls)


def test_days_are_utc_days_and_reset_at_the_next_utc_midnight():
    assert day_of(NOW) == "2026-12-07"
    assert next_reset(NOW) == MIDNIGHT
    assert next_reset(MIDNIGHT) == MIDNIGHT + 86400  # exactly midnight belongs to the new day
    assert day_of(MIDNIGHT) == "2026-12-08"


def test_nothing_is_refused_without_limits_or_under_them():
    assert refusal(Limits(), _standing(seconds=1e9, tokens=10**9), now=NOW, voice=True) is None
    assert refusal(Limits(voice_minutes_per_day=30), _standing(seconds=29 * 60), now=NOW, voice=True) is None


def test_a_daily_refusal_names_the_limit_and_when_it_resets():
    found = refusal(Limits(voice_minutes_per_day=30), _standing(seconds=30 * 60), now=NOW, voice=True)
    assert found is not None and found.limit == "voice_minutes_per_day" and found.resets_at == MIDNIGHT
    assert "voice_minutes_per_day" in found.message
    assert "It resets at 00:00 UTC (in 2 h 30 min)." in found.message


@pytest.mark.parametrize("limits, standing, expected", [
    (Limits(tokens_per_day=100), _standing(tokens=100), "tokens_per_day"),
    (Limits(tool_calls_per_day=3), _standing(tool_calls=3), "tool_calls_per_day"),
    (Limits(voice_minutes_per_day_total=60), _standing(deployment=3600.0), "voice_minutes_per_day_total"),
    (Limits(max_concurrent_calls=1), _standing(open_calls=1), "max_concurrent_calls"),
    (Limits(max_concurrent_calls=0), _standing(), "max_concurrent_calls"),
])
def test_each_limit_is_named_when_it_refuses(limits, standing, expected):
    found = refusal(limits, standing, now=NOW, voice=True)
    assert found is not None and found.limit == expected and expected in found.message


def test_per_call_and_concurrency_refusals_have_no_reset_time_but_say_what_frees_them():
    busy = refusal(Limits(max_concurrent_calls=2), _standing(open_calls=2), now=NOW, voice=True)
    assert busy.resets_at is None and "End another call" in busy.message
    long = refusal(Limits(max_call_minutes=10), _standing(), now=NOW, voice=True, call_seconds=600)
    assert long.limit == "max_call_minutes" and "Start a new call" in long.message


def test_a_typed_only_session_is_held_to_tokens_and_tool_calls_only():
    used_up = _standing(seconds=10_000, deployment=10_000, open_calls=5)
    voice_limits = Limits(voice_minutes_per_day=1, voice_minutes_per_day_total=1, max_concurrent_calls=1)
    assert refusal(voice_limits, used_up, now=NOW, voice=False) is None
    found = refusal(Limits(tool_calls_per_day=1), _standing(tool_calls=1), now=NOW, voice=False)
    assert found is not None and found.limit == "tool_calls_per_day"


def test_time_left_is_the_nearest_minutes_limit_and_names_it():
    limits = Limits(voice_minutes_per_day=30, max_call_minutes=20, voice_minutes_per_day_total=100)
    seconds, limit = time_left(limits, _standing(seconds=25 * 60, deployment=40 * 60), now=NOW, voice=True,
                               call_seconds=60)
    assert (seconds, limit.limit) == (300.0, "voice_minutes_per_day")
    seconds, limit = time_left(limits, _standing(), now=NOW, voice=True, call_seconds=19 * 60)
    assert (seconds, limit.limit) == (60.0, "max_call_minutes")
    assert "in 1 min" in limit.warning(seconds) and "max_call_minutes" in limit.warning(seconds)


def test_used_up_tokens_leave_no_time_and_minutes_do_not_apply_to_typed_sessions():
    seconds, limit = time_left(Limits(tokens_per_day=10), _standing(tokens=12), now=NOW, voice=False,
                               call_seconds=0)
    assert (seconds, limit.limit) == (0.0, "tokens_per_day")
    assert time_left(Limits(voice_minutes_per_day=1), _standing(seconds=600), now=NOW, voice=False,
                     call_seconds=0) is None
    assert time_left(Limits(), _standing(), now=NOW, voice=True, call_seconds=0) is None


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (40.2, "41 s"), (60, "1 min"), (95, "1 min 35 s"),
                                           (9000, "2 h 30 min")])
def test_durations_read_as_words(seconds, text):
    assert format_left(seconds) == text


def test_a_refusal_in_the_transcript_gets_no_press_start_again_advice():
    from livechat.ui.next_steps import DEFAULT_SESSION_STEP, with_next_step

    found = refusal(Limits(voice_minutes_per_day=5), _standing(seconds=300), now=NOW, voice=True)
    shown = with_next_step(found.message)
    assert shown.startswith(found.message) and DEFAULT_SESSION_STEP not in shown
