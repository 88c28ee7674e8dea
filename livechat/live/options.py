"""What a Live session may be tuned with: one frozen options object, checked once.

``SessionOptions`` holds the numbers (timeouts, caps, backoff, buffer sizes); the session's
collaborators (sink, tool executor, token source, loop) are passed beside it. Plain data,
any thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["SessionError", "SessionOptions"]


class SessionError(RuntimeError):
    """A ``LiveSession`` was built or used against its rules (the message says which)."""


@dataclass(frozen=True)
class SessionOptions:
    """A Live session's tunables; the defaults are the product's.

    ``name`` prefixes the session's task and thread names. ``setup_timeout`` bounds the wait
    for ``setupComplete``; ``max_reconnects`` caps consecutive failed recoveries, with
    exponential backoff from ``reconnect_backoff_s`` up to ``reconnect_backoff_max_s``.
    ``audio_buffer_seconds`` of microphone audio are kept while no connection is open.
    ``max_events`` bounds the UI's event queue; ``seed_max_turns``/``seed_max_chars`` bound
    the transcript a new session is seeded with; ``tool_workers`` is the tool pool's size;
    ``token_lifetime`` the life of each minted token (connections are recycled before it).
    """

    name: str = "live-session"
    setup_timeout: float = 15.0
    max_reconnects: int = 5
    reconnect_backoff_s: float = 0.25
    reconnect_backoff_max_s: float = 4.0
    audio_buffer_seconds: float = 2.0
    max_events: int = 2_000
    seed_max_turns: int = 20
    seed_max_chars: int = 4_000
    tool_workers: int = 2
    token_lifetime: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.setup_timeout <= 0:
            raise SessionError(f"setup_timeout must be positive, got {self.setup_timeout!r}")
        if self.max_reconnects < 0:
            raise SessionError(f"max_reconnects must be 0 or more, got {self.max_reconnects!r}")
        if self.token_lifetime <= timedelta(seconds=1):
            raise SessionError(f"token_lifetime must exceed 1 s, got {self.token_lifetime}")
        if self.audio_buffer_seconds <= 0 or self.max_events <= 0 or self.tool_workers <= 0:
            raise SessionError(
                "audio_buffer_seconds, max_events and tool_workers must be positive, got "
                f"{self.audio_buffer_seconds!r}, {self.max_events!r}, {self.tool_workers!r}"
            )
