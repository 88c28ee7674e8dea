"""When a Live connection ends, what next: resume, start a seeded new session, or give up.

``ReconnectPolicy`` holds what the session knows across connections (the latest
resumption handle, consecutive failures) and answers two questions for the connection
loop:

- *with what token*: ``next_settings`` gives the settings to lock into the next token:
  the first connection starts clean; a reconnection resumes with the latest handle and
  the instruction the session was started with; with no handle, or when the service
  refused the handle, a new session starts with the instruction plus the fenced
  transcript so far (``seed_instruction``).
- *retry or not, how soon*: ``after_failure`` classifies a failed attempt. A session
  that never connected reports its first failure. A refused resume (the service closed
  the resuming setup, or the network failed it twice) falls back to a seeded new session.
  Otherwise a retryable failure is retried at once, then with exponential backoff, for at
  most ``max_reconnects`` consecutive failures (a completed turn resets the count); so is
  a 1007/1008 the close table marks ``recover_after_setup`` when the failed connection
  had completed its setup; anything else ends the session.

Loop thread only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

from livechat.live.errors import LinkFailure
from livechat.live.link import Outcome
from livechat.live.seeding import TranscriptTracker, seed_instruction
from livechat.live.tokens import LiveSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt.

    ``give_up``: end the session with ``failure``. ``new_session``: connect again at once
    as a seeded new session. ``retry``: report ``failure`` as recoverable, wait ``delay``
    seconds and connect again.
    """

    action: Literal["give_up", "new_session", "retry"]
    failure: LinkFailure
    delay: float = 0.0


class ReconnectPolicy:
    """Reconnection state and rules of one session (loop thread)."""

    def __init__(
        self,
        *,
        settings: LiveSettings,
        transcript: TranscriptTracker,
        max_reconnects: int,
        backoff_s: float,
        backoff_max_s: float,
        seed_max_turns: int,
        seed_max_chars: int,
        name: str = "live-session",
    ) -> None:
        self._settings = settings
        self._transcript = transcript
        self._max_reconnects = max_reconnects
        self._backoff = backoff_s
        self._backoff_max = backoff_max_s
        self._seed_max_turns = seed_max_turns
        self._seed_max_chars = seed_max_chars
        self._name = name
        self.handle: str | None = None  # the latest resumable handle the service sent
        self.first = True  # no connection has been attempted yet
        self._fresh = False  # the next connection is a new session seeded with the transcript
        self._failures = 0
        self._resume_setup_failures = 0
        self._healthy_since_failure = False
        self._attempt_connected = False
        self._resuming = False

    # ------------------------------------------------------------------ told by the link

    def remember_handle(self, handle: str) -> None:
        """The service sent a new resumption handle."""
        self.handle = handle

    def turn_completed(self) -> None:
        """A turn ended normally: the link is healthy, so failures count from zero again."""
        self._healthy_since_failure = True

    def connected(self) -> None:
        """The current attempt got its setupComplete."""
        self._attempt_connected = True

    # ------------------------------------------------------------------ asked by the loop

    def next_settings(self, current_instruction: str) -> LiveSettings:
        """The settings to lock into the next token; starts a new attempt."""
        self._attempt_connected = False
        if self.first:
            settings = replace(self._settings, resumption_handle=None)
        elif self._fresh or not self.handle:
            seeded = seed_instruction(
                self._settings.system_instruction,
                self._transcript.history,
                max_turns=self._seed_max_turns,
                max_chars=self._seed_max_chars,
            )
            settings = replace(self._settings, system_instruction=seeded, resumption_handle=None)
        else:
            # Resuming keeps the instruction the session was started with (seeded or not).
            settings = replace(self._settings, system_instruction=current_instruction,
                               resumption_handle=self.handle)
        self._resuming = settings.resumption_handle is not None
        return settings

    def after_outcome(self, outcome: Outcome) -> None:
        """The connection ended without a failure (a goAway move follows, or the end)."""
        self.first = False
        self._resume_setup_failures = 0
        if outcome is Outcome.GOAWAY:
            self._fresh = not self.handle

    def after_failure(self, failure: LinkFailure) -> Decision:
        """The attempt failed with ``failure``: what next."""
        if self.first and not self._attempt_connected:
            # A session that never connected has nothing to resume: report it.
            return Decision("give_up", failure)
        if self._resuming and not self._attempt_connected:
            self._resume_setup_failures += 1
            # The server answered the resume with a close (1011 "currently unavailable"
            # is how a refused resumption is reported): do not retry the handle. A network
            # failure retries it once more.
            if failure.code is not None or self._resume_setup_failures >= 2:
                # The service will not resume this handle: start a new session seeded with
                # the transcript. A 1007/1008 there ends the session.
                logger.info("live session %s: resumption refused (%s); starting a new "
                            "session", self._name, failure.code)
                self.handle = None
                self._fresh = True
                self._resume_setup_failures = 0
                return Decision("new_session", failure)
        if self._healthy_since_failure:
            self._failures = 0
            self._healthy_since_failure = False
        self._failures += 1
        # A 1007/1008 that is not about credentials, the model or the setup ends healthy
        # calls on the real service (errors.CLOSE_RULES): once this connection had its
        # setupComplete, it is recovered like a drop, within the same cap.
        mid_call = failure.recover_after_setup and self._attempt_connected
        retryable = failure.retryable or mid_call
        if not retryable or self._failures > self._max_reconnects:
            if mid_call:
                failure = LinkFailure(
                    f"The Live service kept closing the session and it could not be recovered "
                    f"after {self._max_reconnects} attempts. Last error: {failure.message}",
                    failure.code,
                    False,
                )
            elif failure.retryable:
                failure = LinkFailure(
                    f"Lost the connection to the Live service and could not reconnect "
                    f"after {self._max_reconnects} attempts. Last error: {failure.message}",
                    failure.code,
                    False,
                )
            return Decision("give_up", failure)
        delay = 0.0 if self._failures == 1 else min(
            self._backoff * 2 ** (self._failures - 2), self._backoff_max
        )
        if self._attempt_connected:
            self._fresh = not self.handle
            self._resume_setup_failures = 0
        else:
            self._fresh = self._fresh or not self.handle
        self.first = False
        return Decision("retry", failure, delay)
