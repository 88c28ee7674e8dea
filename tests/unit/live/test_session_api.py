"""LiveSession's caller-facing rules and the failure classification, without any network."""

from __future__ import annotations

from datetime import timedelta

import ssl

import pytest
from google.genai import errors
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from livechat.config import ConfigError, ServiceConfig
from livechat.live.events import SessionState, StateChanged
from livechat.live.session import LiveSession, SessionError, SessionOptions
from livechat.live.errors import LinkFailure, classify_close, classify_error
from livechat.live.tokens import LiveSettings, TokenError

SETTINGS = LiveSettings(model="gemini-2.5-flash-native-audio-preview-12-2025",
                        system_instruction="si")
CONFIG = ServiceConfig(api_key="unit-test-key", base_url="https://127.0.0.1:9")


class _Sink:
    def write(self, pcm24k: bytes) -> None: ...

    def clear(self) -> None: ...

    def end_of_turn(self) -> None: ...


def _session(**kwargs) -> LiveSession:
    return LiveSession(config=CONFIG, settings=SETTINGS, **kwargs)



@pytest.mark.parametrize("kwargs,pattern", [
    ({"setup_timeout": 0}, "setup_timeout must be positive"),
    ({"max_reconnects": -1}, "max_reconnects must be 0 or more"),
    ({"audio_buffer_seconds": 0}, "audio_buffer_seconds, max_events and tool_workers"),
    ({"token_lifetime": timedelta(seconds=1)}, "token_lifetime must exceed 1 s"),
])
def test_options_reject_impossible_values(kwargs: dict, pattern: str) -> None:
    with pytest.raises(SessionError, match=pattern):
        SessionOptions(**kwargs)


def test_a_session_takes_its_name_from_its_options() -> None:
    assert _session(options=SessionOptions(name="named")).name == "named"
    assert _session().name == SessionOptions().name


def test_audio_must_be_whole_pcm16_samples_at_a_positive_rate() -> None:
    session = _session()
    with pytest.raises(SessionError, match="even length"):
        session.send_audio(b"\x00\x01\x02", 16_000)
    with pytest.raises(SessionError, match="sample_rate must be a positive integer"):
        session.send_audio(b"\x00\x00", 0)
    with pytest.raises(SessionError, match="sample_rate must be a positive integer"):
        session.send_audio(b"\x00\x00", True)  # type: ignore[arg-type]


def test_audio_waiting_for_a_connection_is_capped_dropping_the_oldest() -> None:
    session = _session(options=SessionOptions(audio_buffer_seconds=1.0))
    second = b"\x01\x00" * 16_000  # one second at 16 kHz
    for _ in range(3):
        session.send_audio(second, 16_000)
    stats = session.stats()
    assert stats["audio_chunks_in"] == 3
    assert stats["audio_chunks_dropped"] == 2
    assert stats["audio_buffered_seconds"] == pytest.approx(1.0)


def test_text_must_be_non_empty_and_bounded() -> None:
    session = _session()
    with pytest.raises(SessionError, match="non-empty"):
        session.send_text("   ")
    with pytest.raises(SessionError, match="at most 4000 characters"):
        session.send_text("x" * 4001)


def test_read_audio_needs_the_default_playback_buffer() -> None:
    assert len(_session().read_audio(960)) == 960  # silence before anything arrives
    with pytest.raises(SessionError, match="was given an audio_sink"):
        _session(audio_sink=_Sink()).read_audio(960)


def test_stop_before_start_closes_and_a_stopped_session_cannot_restart() -> None:
    session = _session()
    assert session.stop() is True
    assert session.stop() is True  # idempotent
    assert session.state is SessionState.CLOSED
    assert session.poll_events() == [StateChanged(SessionState.CLOSED, "Stopped")]
    with pytest.raises(SessionError, match="was stopped; create a new one"):
        session.start()
    with pytest.raises(SessionError, match="session has ended"):
        session.send_text("hello")
    session.send_audio(b"\x00\x00", 16_000)  # ignored, counted
    assert session.stats()["audio_chunks_dropped"] == 1


def test_poll_events_with_a_timeout_returns_empty_when_nothing_happens() -> None:
    assert _session().poll_events(timeout=0.01) == []


# --------------------------------------------------------------------------- classification


@pytest.mark.parametrize("code,retryable", [(1006, True), (1011, True), (1001, True),
                                            (1007, False), (1008, False), (4000, False)])
def test_close_codes(code: int, retryable: bool) -> None:
    failure = classify_close(code, "reason text")
    assert failure is not None and failure.code == code and failure.retryable is retryable
    assert "reason text" in failure.message


def test_a_normal_close_is_not_a_failure() -> None:
    assert classify_close(1000, "") is None


def test_sdk_close_errors_are_classified_by_code() -> None:
    failure = classify_error(errors.APIError(1008, "Method doesn't allow unregistered callers"),
                             where="x")
    assert failure.code == 1008 and not failure.retryable
    assert "unregistered callers" in failure.message


def test_an_http_rejection_of_the_upgrade() -> None:
    exc = InvalidStatus(Response(503, "Service Unavailable", Headers()))
    failure = classify_error(exc, where="https://h:1")
    assert failure.code == 503 and failure.retryable and "https://h:1" in failure.message


@pytest.mark.parametrize("exc,fragment,retryable", [
    (ConnectionRefusedError(111, "Connection refused"), "Could not reach", True),
    (TimeoutError(), "did not finish the session setup", True),
    (ssl.SSLCertVerificationError("CERTIFICATE_VERIFY_FAILED"), "not trusted", False),
    (ValueError("Failed to parse response: b'x'"), "cannot read", True),
    (TokenError("The API key was rejected", status=400), "API key was rejected", False),
    (ConfigError("GEMINI_CA_FILE must be ..."), "GEMINI_CA_FILE", False),
    (RuntimeError("boom"), "Unexpected failure", False),
])
def test_other_failures(exc: BaseException, fragment: str, retryable: bool) -> None:
    failure = classify_error(exc, where="https://h:1")
    assert fragment in failure.message and failure.retryable is retryable


def test_a_link_failure_passes_through() -> None:
    failure = LinkFailure("as is", 1011, True)
    assert classify_error(failure, where="x") is failure


def test_secrets_in_reasons_are_masked() -> None:
    failure = classify_close(1008, "bad token auth_tokens/abcdef0123456789")
    assert failure is not None and "abcdef0123456789" not in failure.message
