"""The close table: each reported close of the real service, classified by its reason."""

from __future__ import annotations

import pytest

from livechat.live.errors import CLOSE_RULES, CloseKind, classify_close, close_rule


@pytest.mark.parametrize("code, reason, kind", [
    (1007, "The audio content type (CONTENT_TYPE_AUDIO) is not supported for this model configuration.",
     CloseKind.RECOVER),
    (1008, "The operation was aborted", CloseKind.RECOVER),
    (1008, "Connection aborted because the client failed to close the connection after receiving "
           "a GoAway signal", CloseKind.RECOVER),
    (1008, "Operation is not implemented, or supported, or enabled.", CloseKind.RECOVER),
    (1008, "Requested entity was not found", CloseKind.RECOVER),
    (1011, "Deadline expired before operation could complete.", CloseKind.RETRY),
    (1008, "models/gemini-9.9-live is not found for API version v1alpha, or is not supported for "
           "bidiGenerateContent. Call ListModels", CloseKind.FATAL),
    (1008, "Method doesn't allow unregistered callers (callers without established identity).",
     CloseKind.FATAL),
    (1008, "The auth token has expired.", CloseKind.FATAL),
    (1007, "API key not valid. Please pass a valid API key.", CloseKind.FATAL),
    (1007, "Request contains an invalid argument: no matching speaker voice for 'en-us-tavi'.",
     CloseKind.FATAL),
    (1007, "Cannot extract voices from a non-audio request.", CloseKind.FATAL),
    (1007, "Request contains an invalid argument.", CloseKind.FATAL),
    (1007, "something new", CloseKind.RECOVER),
    (1000, "", CloseKind.NORMAL),
    (4321, "odd", CloseKind.FATAL),
])
def test_each_reported_close_has_its_row(code: int, reason: str, kind: CloseKind) -> None:
    assert close_rule(code, reason).kind is kind


def test_every_row_names_a_source() -> None:
    assert all(rule.source.strip() for rule in CLOSE_RULES)


def test_an_unknown_model_is_named_in_plain_words() -> None:
    failure = classify_close(1008, "models/gemini-9 is not found for API version v1alpha, or is not "
                                   "supported for bidiGenerateContent.")
    assert failure is not None and not failure.retryable and not failure.recover_after_setup
    assert "does not know this model" in failure.message and "GEMINI_MODEL" in failure.message


def test_a_mid_call_close_is_recovered_only_after_setup() -> None:
    failure = classify_close(1008, "The operation was aborted")
    assert failure is not None and failure.recover_after_setup and not failure.retryable
