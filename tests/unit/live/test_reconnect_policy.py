"""The reconnect policy on its own: what is retried, how often, with what token."""

from __future__ import annotations

from livechat.live.errors import LinkFailure
from livechat.live.link import Outcome
from livechat.live.reconnect import ReconnectPolicy
from livechat.live.seeding import FENCE_OPEN, TranscriptTracker
from livechat.live.tokens import LiveSettings

SETTINGS = LiveSettings(model="gemini-3.8-live", system_instruction="base instruction")
DROP = LinkFailure("dropped", 1006, True)


def _policy(**kwargs) -> tuple[ReconnectPolicy, TranscriptTracker]:
    transcript = TranscriptTracker(lambda event: None)
    options = dict(max_reconnects=3, backoff_s=0.25, backoff_max_s=1.0,
                   seed_max_turns=20, seed_max_chars=4_000)
    options.update(kwargs)
    return ReconnectPolicy(settings=SETTINGS, transcript=transcript, **options), transcript


def test_a_first_attempt_that_never_connected_gives_up_at_once() -> None:
    policy, _ = _policy()
    policy.next_settings(SETTINGS.system_instruction)
    assert policy.after_failure(DROP).action == "give_up"


def test_a_drop_resumes_with_the_latest_handle_and_backs_off_up_to_the_cap() -> None:
    policy, _ = _policy()
    policy.next_settings("base instruction")
    policy.connected()
    policy.remember_handle("h1")
    decisions = []
    for _ in range(4):
        decisions.append(policy.after_failure(DROP))
        settings = policy.next_settings("base instruction")
        assert settings.resumption_handle == "h1"
        policy.connected()
    assert [d.action for d in decisions] == ["retry", "retry", "retry", "give_up"]
    assert [d.delay for d in decisions[:3]] == [0.0, 0.25, 0.5]
    assert "could not reconnect after 3 attempts" in decisions[-1].failure.message
    assert decisions[-1].failure.retryable is False


def test_a_completed_turn_resets_the_failure_count() -> None:
    policy, _ = _policy(max_reconnects=1)
    policy.next_settings("i")
    policy.connected()
    policy.remember_handle("h")
    assert policy.after_failure(DROP).action == "retry"
    policy.next_settings("i")
    policy.connected()
    policy.turn_completed()
    assert policy.after_failure(DROP).action == "retry"


def test_a_refused_resume_falls_back_to_a_new_session_seeded_with_the_transcript() -> None:
    policy, transcript = _policy()
    policy.next_settings("i")
    policy.connected()
    transcript.add_complete("user", "How many keepers?")
    policy.remember_handle("h")
    assert policy.after_failure(DROP).action == "retry"
    assert policy.next_settings("i").resumption_handle == "h"
    refused = policy.after_failure(LinkFailure("unavailable", 1011, True))
    assert refused.action == "new_session"
    fresh = policy.next_settings("i")
    assert fresh.resumption_handle is None
    assert FENCE_OPEN in fresh.system_instruction and "How many keepers?" in fresh.system_instruction


def test_a_configuration_refusal_is_never_retried() -> None:
    policy, _ = _policy()
    policy.next_settings("i")
    policy.connected()
    decision = policy.after_failure(LinkFailure("bad setup", 1007, False))
    assert decision.action == "give_up"


def test_a_goaway_without_a_handle_starts_a_seeded_session() -> None:
    policy, _ = _policy()
    policy.next_settings("i")
    policy.connected()
    policy.after_outcome(Outcome.GOAWAY)
    assert policy.next_settings("current").resumption_handle is None
    policy.remember_handle("h2")
    policy.connected()
    policy.after_outcome(Outcome.GOAWAY)
    resumed = policy.next_settings("current")
    assert resumed.resumption_handle == "h2" and resumed.system_instruction == "current"


MID_CALL_1008 = LinkFailure("aborted", 1008, False, recover_after_setup=True)


def test_a_mid_call_1008_after_setup_is_resumed_and_capped_with_a_clear_error() -> None:
    policy, _ = _policy(max_reconnects=2)
    decisions = []
    policy.next_settings("i")
    policy.connected()
    policy.remember_handle("h")
    for _ in range(3):
        decisions.append(policy.after_failure(MID_CALL_1008))
        assert policy.next_settings("i").resumption_handle == "h"
        policy.connected()
    assert [d.action for d in decisions] == ["retry", "retry", "give_up"]
    assert "kept closing the session" in decisions[-1].failure.message


def test_the_same_close_while_connecting_is_fatal() -> None:
    policy, _ = _policy()
    policy.next_settings("i")
    policy.connected()
    policy.after_outcome(Outcome.GOAWAY)  # a goAway move, no handle: a seeded new session
    policy.next_settings("i")  # this attempt never gets setupComplete
    assert policy.after_failure(MID_CALL_1008).action == "give_up"
