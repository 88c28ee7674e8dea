"""The process tree's memory: the app and its children, shared pages counted once (PSS)."""

from __future__ import annotations

import os
import subprocess
import sys

from livechat.procstat import pss_bytes, rss_bytes, tree_memory_bytes, tree_pids


def test_the_tree_holds_this_process_and_its_children() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        pids = tree_pids()
        assert pids[0] == os.getpid() and child.pid in pids
        assert pss_bytes(child.pid) > 0 and tree_memory_bytes() > pss_bytes(child.pid)
    finally:
        child.communicate(b"")
    assert child.pid not in tree_pids()


def test_pss_is_at_most_rss_and_zero_for_a_process_that_is_gone() -> None:
    assert 0 < pss_bytes() <= rss_bytes()
    assert pss_bytes(None) == 0
    assert pss_bytes(2**22 + 12345) == 0
