"""The analyst behind a browser session.

Without sign-in the app is single-user: everyone is ``LOCAL_ANALYST`` (id ``local``, the
owner the store has always written), who is also its admin. With sign-in, the id is the
verified email the identity provider returned, lower-cased.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LOCAL_ANALYST", "Analyst"]


@dataclass(frozen=True)
class Analyst:
    """One person using the app: ``id`` keys their conversations, usage and audit rows."""

    id: str
    name: str = ""
    is_admin: bool = False
    signed_in: bool = False

    @property
    def label(self) -> str:
        """What the UI shows for this analyst (the name when the provider gave one)."""
        return self.name or self.id


LOCAL_ANALYST = Analyst(id="local", name="local", is_admin=True, signed_in=False)
