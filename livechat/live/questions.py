"""Which typed questions are still unanswered, so a lost connection does not lose them.

A close in the middle of a reply (the real service's routine 1008/1007 and 1011 drops,
LIVE_PROTOCOL §8) takes the reply being generated with it; a resumed session, or a new
one seeded with the transcript, does not answer it again by itself. The session asks
those typed questions again on the next connection (``InputSender``), without adding
them to the transcript a second time.

When is a question answered? The service gives no link between a question and a turn,
so: a turn that started producing output (audio, its transcription, a tool call) after
question N was sent answers questions 1..N once it ends, whether it completed or was
interrupted (an interruption means the analyst moved on). A connection that ends while
such a turn is still going answers nothing.

Spoken questions cannot be asked again (the audio is gone): their loss is what the
"Reconnected" notice stands for.

Loop thread only.
"""

from __future__ import annotations

from collections import deque

_MAX_PENDING = 8  # questions typed faster than answers come; older ones are let go


class TypedQuestions:
    """The typed questions of one session whose answers have not ended yet (loop thread)."""

    def __init__(self) -> None:
        self._pending: deque[tuple[int, str]] = deque(maxlen=_MAX_PENDING)
        self._sent = 0
        self._covers: int | None = None  # the current turn answers questions up to this one

    def sent(self, text: str) -> None:
        """``text`` went out on the current connection."""
        self._sent += 1
        self._pending.append((self._sent, text))

    def reply_started(self) -> None:
        """The model produced output in the current turn (idempotent within a turn)."""
        if self._covers is None:
            self._covers = self._sent

    def turn_ended(self) -> None:
        """The current turn completed or was interrupted: the questions it covers are answered."""
        if self._covers is not None:
            covers = self._covers
            while self._pending and self._pending[0][0] <= covers:
                self._pending.popleft()
        self._covers = None

    def take_unanswered(self) -> list[str]:
        """The connection was lost: the questions to ask again, oldest first (they are
        pending again once re-sent)."""
        texts = [text for _, text in self._pending]
        self._pending.clear()
        self._covers = None
        return texts

    @property
    def unanswered(self) -> int:
        return len(self._pending)
