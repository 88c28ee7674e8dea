"""Who is asking: the analyst behind a browser session, and whether they may use the app.

- ``identity``: ``Analyst``, the id every owned row and every count is kept under.
"""

from livechat.access.identity import LOCAL_ANALYST, Analyst

__all__ = ["LOCAL_ANALYST", "Analyst"]
