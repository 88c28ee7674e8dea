"""Every error the Talk page can show, and what the analyst should do next: one table.

The page meets two kinds of failure:

- its own (``Situation``): no usable configuration, a broken ICE/TURN secret, a voice
  component that failed, a session that could not start, a question that could not be
  sent. ``page_message(situation, detail)`` gives the sentence with its next step;
- the Live session's, which reach the transcript as text (``livechat.live.errors`` and
  ``livechat.live.tokens`` word them; ``livechat.voice.bridge`` words a dropped stream).
  ``SESSION_STEPS`` maps what such a message says to the next step, first match wins,
  and ``session_next_step(message)`` looks it up; the default is to press START again.

Plain data (no streamlit); the rows read top to bottom as the list of what can go wrong.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from livechat.ui.visitor_key import KEY_NAME
from livechat.usage.limits import LIMIT_NAMES

__all__ = [
    "PAGE_STEPS",
    "SESSION_STEPS",
    "SessionStep",
    "Situation",
    "page_message",
    "session_next_step",
    "with_next_step",
]

SETTINGS = "Settings & diagnostics"


class Situation(enum.Enum):
    """A failure the Talk page detects itself."""

    CONFIG = "config"  # the service configuration is unusable (key file, CA file, ...)
    ICE = "ice"  # the ice_servers secret (STUN/TURN) is malformed
    RELAY = "relay"  # the managed TURN service (Cloudflare, Twilio) refused or is unreachable
    PREPARE = "prepare"  # anything else while preparing the page
    COMPONENT = "component"  # the voice component raised (e.g. a signalling timeout)
    SESSION_START = "session_start"  # START was pressed but the Live session could not start
    SEND = "send"  # a typed question could not be sent


# Situation -> (what happened, what to do next). The message's detail goes after the first part.
PAGE_STEPS: dict[Situation, tuple[str, str]] = {
    Situation.CONFIG: ("Voice is not configured correctly",
                       f"Fix that setting (the {SETTINGS} page shows what is set), then reload this page."),
    Situation.ICE: ("Voice is not configured correctly",
                    f"Check the TURN settings (`ice_servers` in the app's secrets; {SETTINGS} shows how many "
                    "are configured), then reload this page."),
    Situation.RELAY: ("Voice cannot connect",
                      f"Check the TURN service's two secrets ({SETTINGS} names the service), "
                      "then reload this page."),
    Situation.PREPARE: ("Voice is unavailable: the session could not be prepared",
                        "Reload the page; if it happens again, the server log has the details."),
    Situation.COMPONENT: ("The voice connection failed",
                          "Press START again; if it keeps failing on a hosted app, check the TURN settings on "
                          f"{SETTINGS}."),
    Situation.SESSION_START: ("The voice session could not start",
                              f"Press START again; if it keeps failing, check the key and endpoint on {SETTINGS}."),
    Situation.SEND: ("The question could not be sent", "Send it again."),
}


@dataclass(frozen=True)
class SessionStep:
    """One row: a session error whose text contains any of ``needles`` gets ``step``."""

    what: str  # why the row exists, for the reader of this table
    needles: tuple[str, ...]
    step: str


SESSION_STEPS: tuple[SessionStep, ...] = (
    SessionStep("a budget refused the token or ended the call (livechat.usage.decide words it: the limit "
                "and when it resets)",
                tuple(f"limit {name}" for name in LIMIT_NAMES),
                "The limit is this app's budget, set by its operator; the message says when it allows again."),
    SessionStep("recoverable: the session retries on its own (livechat.conversation.transcript adds this)",
                ("Reconnecting…",), "Wait a moment: the session reconnects on its own."),
    SessionStep("the microphone stream ended or stalled (livechat.voice.bridge)",
                ("microphone stream ended", "No audio has arrived from the microphone"),
                "Press STOP, then START to talk again."),
    SessionStep("a visitor's own key was refused at minting (livechat.ui.visitor_key)",
                (KEY_NAME,),
                "Press “Forget my key” in the sidebar and paste a valid key, then press START again."),
    SessionStep("the key was refused at minting (livechat.live.tokens) or at connecting (close 1007 bad key)",
                ("API key was rejected", "GEMINI_API_KEY", "API key not valid"),
                f"Check the API key on the {SETTINGS} page, then press START again."),
    SessionStep("the token, model or credentials were refused (close 1008)",
                ("close 1008",),
                f"Press START again (it mints a new token); if it keeps failing, check the key and the model "
                f"on the {SETTINGS} page."),
    SessionStep("the session settings were refused (close 1007, HTTP 400)",
                ("close 1007", "refused the session settings"),
                f"Check the model on the {SETTINGS} page, then press START again."),
    SessionStep("the endpoint is wrong (HTTP 404, refused upgrade)",
                ("GEMINI_BASE_URL",),
                f"Check the endpoint (GEMINI_BASE_URL) on the {SETTINGS} page."),
    SessionStep("the endpoint's certificate is not trusted",
                ("GEMINI_CA_FILE", "TLS certificate"),
                f"Check the CA file (GEMINI_CA_FILE) on the {SETTINGS} page."),
    SessionStep("the media path (ICE/TURN) failed",
                ("TURN", "ICE", "relay"),
                f"Check the TURN settings on the {SETTINGS} page, then press START again."),
    SessionStep("quota or rate limit (HTTP 429)",
                ("HTTP 429", "quota"),
                "Wait a minute, then press START again."),
)
DEFAULT_SESSION_STEP = "Press START again."


def page_message(situation: Situation, detail: str = "") -> str:
    """The sentence the page shows for ``situation``: what happened, the detail, the next step."""
    what, step = PAGE_STEPS[situation]
    detail = detail.strip()
    head = f"{what}: {detail}" if detail else what
    if not head.endswith((".", "!", "?")):
        head += "."
    return f"{head} {step}"


def session_next_step(message: str) -> str:
    """The next step for a session error shown in the transcript (first matching row)."""
    for row in SESSION_STEPS:
        if any(needle in message for needle in row.needles):
            return row.step
    return DEFAULT_SESSION_STEP


def _known_steps() -> tuple[str, ...]:
    steps = {step for _, step in PAGE_STEPS.values()} | {row.step for row in SESSION_STEPS}
    return tuple(sorted(steps | {DEFAULT_SESSION_STEP}))


def with_next_step(message: str) -> str:
    """``message`` followed by its next step, unless it already ends with a next step.

    Messages the page words itself (``page_message``) and the bridge's stream messages
    already carry one; a session error gets the first matching row of ``SESSION_STEPS``.
    """
    text = message.strip()
    if text.endswith(_known_steps()):
        return text
    return f"{text} {session_next_step(text)}"
