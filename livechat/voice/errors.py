"""The voice bridge's own exceptions (any thread)."""

from __future__ import annotations

__all__ = ["BridgeConfigError", "BridgeClosedError"]


class BridgeConfigError(ValueError):
    """A VoiceBridge was constructed with an impossible setting (the message names it)."""


class BridgeClosedError(RuntimeError):
    """The bridge was closed (its browser session ended); create a new one."""
