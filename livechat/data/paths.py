"""Where the app keeps files of its own: ``LIVECHAT_DATA_DIR``, by default ``.livechat/``.

The folder is git-ignored and relative to the working directory (the app's checkout on
Community Cloud). Read on every call, so tests can point it elsewhere with the variable.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "data_dir"]

DATA_DIR_ENV = "LIVECHAT_DATA_DIR"
_DEFAULT = ".livechat"


def data_dir() -> Path:
    """The app's data folder (not created here: writers create what they need)."""
    return Path(os.environ.get(DATA_DIR_ENV) or _DEFAULT)
