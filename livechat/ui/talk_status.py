"""What the Talk page's status row shows: the state pill, "the model is speaking", the meter.

Plain data and pure functions (no streamlit), so the rules are unit-tested without a page:

- ``PILLS``: one row per badge state (``livechat.voice.bridge.BADGE_STATES``) with the
  Material Symbols icon name, a tone (the pill's colour family) and a caption;
- ``model_speaking``: whether reply audio is playing to the browser, read from two
  snapshots of the ``PlaybackBuffer`` counters (``BridgeStats.playback``). Driven by the
  audio itself, not by the session's "responding" state: a reply that was interrupted
  (barge-in clears the buffer) stops the indicator at once, and a reply still draining
  from the buffer after ``turnComplete`` keeps it on until the browser has heard it;
- ``meter_live``: the input meter moves only while the session listens;
- ``latest_reply``: what the screen-reader announcer reads: the newest finished reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from livechat.audio.playback import PlaybackStats
from livechat.conversation.transcript import Entry

__all__ = ["PILLS", "Pill", "latest_reply", "meter_live", "model_speaking", "pill_for"]


@dataclass(frozen=True)
class Pill:
    """How one session state looks: icon (a Material Symbols name), tone and caption."""

    state: str
    icon: str
    tone: str  # neutral | progress | live | speaking | warning | danger
    caption: str


PILLS: dict[str, Pill] = {
    pill.state: pill
    for pill in (
        Pill("idle", "mic_off", "neutral", "Press START to talk."),
        Pill("connecting", "sync", "progress", "Connecting to the model…"),
        Pill("listening", "mic", "live", "Listening: ask your question."),
        Pill("responding", "graphic_eq", "speaking", "The model is answering."),
        Pill("reconnecting", "autorenew", "warning", "The connection dropped; reconnecting…"),
        Pill("error", "error", "danger", "The session stopped: see the message below."),
        Pill("closed", "stop_circle", "neutral", "The session has ended. Press START to talk again."),
    )
}


def pill_for(state: str) -> Pill:
    """The pill of a badge state; an unknown word (a newer bridge) looks neutral, never fails."""
    return PILLS.get(state) or Pill(state, "help", "neutral", "")


def model_speaking(previous: PlaybackStats | None, current: PlaybackStats, *, streaming: bool) -> bool:
    """True while reply audio is playing to the browser.

    ``previous`` is the snapshot taken at the page's last poll (None on the first). Audio is
    playing when some is still queued for the downlink, or when the downlink read reply
    audio since the last poll (the tail of a reply leaves the queue before it is heard).
    Without a voice stream nothing is played (a typed question's answer is offered as a
    player instead), so it is never "speaking".
    """
    if not streaming:
        return False
    if current.buffered_bytes > 0:
        return True
    return previous is not None and current.read_bytes > previous.read_bytes


def meter_live(state: str) -> bool:
    """The microphone meter moves only while the session is listening."""
    return state == "listening"


def latest_reply(entries: Sequence[Entry]) -> str | None:
    """The text of the newest *finished* model reply, or None.

    A reply still streaming is skipped (the one before it stays), so the announcer's text
    changes once per reply, when it is complete; an interrupted reply counts as finished.
    """
    for entry in reversed(entries):
        if entry.kind == "message" and entry.role == "model" and entry.final and entry.text.strip():
            return entry.text.strip()
    return None
