"""A visitor's own Gemini API key (``key_policy = "visitor"``): held, never shown or stored.

``VisitorKey`` wraps the pasted key so that ``repr``/``str`` never print it (a session-state
dump, a log line with the object, an exception message). Without sign-in the key is also
the visitor's identity: ``visitor_analyst`` derives a stable id from a one-way hash, so a
visitor who pastes the same key again (after a reload, on another replica) finds their own
conversations, and nobody else's. The hash is all the store ever sees.
"""

from __future__ import annotations

import hashlib

from livechat.access.identity import Analyst

__all__ = ["MIN_KEY_LENGTH", "VisitorKey", "VisitorKeyError", "visitor_analyst"]

MIN_KEY_LENGTH = 20  # Gemini keys are 39 characters; shorter text is a paste gone wrong
_ID_DOMAIN = b"livechat visitor key v1:"  # keeps these hashes apart from any other use of the key


class VisitorKeyError(ValueError):
    """Pasted text that cannot be an API key; the message never repeats it."""


class VisitorKey:
    """A pasted API key: ``value`` for the mint, nothing else ever prints it."""

    __slots__ = ("_value",)

    def __init__(self, pasted: str) -> None:
        value = "".join(pasted.split())  # a paste often carries a newline or spaces
        if len(value) < MIN_KEY_LENGTH or not value.isascii() or not value.isprintable():
            raise VisitorKeyError(
                f"That does not look like a Gemini API key (they are about 39 characters, "
                f"got {len(value)}).")
        self._value = value

    @property
    def value(self) -> str:
        """The key itself: only for minting tokens."""
        return self._value

    def __repr__(self) -> str:
        return "VisitorKey(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VisitorKey) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def visitor_analyst(key: VisitorKey) -> Analyst:
    """The analyst a key stands for when nobody signs in: ``visitor-<hash>``, never an admin."""
    digest = hashlib.sha256(_ID_DOMAIN + key.value.encode("ascii")).hexdigest()[:24]
    return Analyst(id=f"visitor-{digest}", name="visitor", is_admin=False, signed_in=False)
