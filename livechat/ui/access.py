"""Who is using this browser session (the identity work replaces this with sign-in)."""

from livechat.access.identity import LOCAL_ANALYST, Analyst


def current_analyst() -> Analyst:
    return LOCAL_ANALYST
