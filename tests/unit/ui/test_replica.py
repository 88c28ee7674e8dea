"""Replica id and the "moved to another replica" decision (livechat.ui.replica)."""

from __future__ import annotations

import os

from livechat.ui.replica import moved_message, pinned_elsewhere, replica_id


def test_replica_id_comes_from_the_environment_or_host_and_pid() -> None:
    assert replica_id({"LIVECHAT_REPLICA_ID": " r2 "}) == "r2"
    assert replica_id({}).endswith(f"-{os.getpid()}")


def test_only_a_cookie_naming_another_replica_counts_as_moved() -> None:
    assert pinned_elsewhere(None, "r1") is None
    assert pinned_elsewhere("", "r1") is None
    assert pinned_elsewhere("r1", "r1") is None
    assert pinned_elsewhere("r1", "r2") == "r1"


def test_the_message_names_both_replicas_and_what_to_do() -> None:
    text = moved_message("r1", "r2")
    assert "replica r1" in text and "replica r2" in text and "upload your file again" in text
    restored = moved_message("r1", "r2", restored=True)
    assert "replica r1" in restored and "restored from the store" in restored and "upload" not in restored
