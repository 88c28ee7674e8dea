"""Nothing lost (issue 26), in a real browser: an upload and two typed questions come back
after a reload and after the app is SIGKILLed and started again on the same data
directory, tables included (no re-upload: the restored table answers SQL); then Delete
removes the conversation from the list and from the database, and the database file
never held the API key or a token name.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from livechat.store import ConversationStore
from livechat.store.engine import make_engine
from tests.e2e import harness
from tests.e2e.harness import voice_sessions

pytestmark = pytest.mark.e2e

ROWS = 37
COUNT_SQL = "SELECT count(*) AS n, sum(tons) AS total FROM data"
TOTAL = sum(i * 3 + 1 for i in range(ROWS))


def _csv(folder: Path) -> Path:
    path = folder / "harbour_store.csv"
    path.write_text("ship,tons\n" + "".join(f"ship-{i},{i * 3 + 1}\n" for i in range(ROWS)))
    return path


def _sql_results(emulator) -> list[dict]:
    return [c["response"] for s in voice_sessions(emulator.sessions()) for c in s["tool_calls"]
            if c["name"] == "run_sql" and c["response"] is not None]


def _saved(db_url: str, conversation: str):
    store = ConversationStore(make_engine(db_url))
    try:
        return store.load(conversation)
    finally:
        store.close()


def _wait_saved(db_url: str, conversation: str, questions: int, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        saved = _saved(db_url, conversation)
        if saved is not None and saved.row.questions >= questions and saved.members:
            check = ConversationStore(make_engine(db_url))
            try:
                if all(check.has_blob(m.table_key) for m in saved.members):
                    return saved
            finally:
                check.close()
        time.sleep(0.2)  # polling the database file, not a timing assumption
    raise AssertionError(f"conversation {conversation} was not saved with {questions} questions")


def _conversation_of(page) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(page.url).query)["conversation"][0]


def _ask_sql(tab, emulator, before: int) -> dict:
    tab.ask(f"call run_sql {json.dumps({'query': COUNT_SQL})}")
    emulator.wait_for(lambda ss: len(_sql_results(emulator)) > before, timeout=30)
    return _sql_results(emulator)[-1]


def test_tables_and_record_survive_reload_and_restart_then_delete(browser_factory, speech_wav, tmp_path):
    data_dir = tmp_path / "data"
    db_url = f"sqlite:///{data_dir / 'livechat.db'}"
    key = harness.random_api_key()
    emulator = harness.start_emulator(key)
    env = {"LIVECHAT_DATA_DIR": str(data_dir)}
    app = harness.AppServer.for_emulator(emulator, key, log_path=tmp_path / "app-1.log", extra_env=env).start()
    second = None
    try:
        with harness.app_failure_context(app, emulator):
            tab = browser_factory(speech_wav).new_page()
            tab.goto(app.url, "/")
            tab.upload(_csv(tmp_path))
            tab.navigate_to_talk()
            result = _ask_sql(tab, emulator, 0)
            assert result["rows"] == [[ROWS, TOTAL]]
            tab.wait_for_transcript("The run_sql tool returned", timeout_s=30)
            tab.ask("Which ship carried the most?")
            tab.wait_for_transcript('You said: "Which ship carried the most?"', timeout_s=30)
            conversation = _conversation_of(tab.page)

            # (a) A reload: the same record, and the same table (not the sample) on both pages.
            tab.page.reload(wait_until="domcontentloaded")
            text = tab.wait_for_transcript("Which ship carried the most?", timeout_s=60)
            assert "call run_sql" in text
            tab.page.get_by_text("Restored the conversation").first.wait_for(timeout=10_000)
            assert tab.page.locator('[data-testid="stSidebar"]').get_by_text("harbour_store.csv").count() > 0
            tab.navigate("Data", "/")
            tab.page.locator('[data-testid="stHeading"]', has_text="harbour_store.csv").first.wait_for(timeout=30_000)

        saved = _wait_saved(db_url, conversation, questions=2)
        assert [m.source for m in saved.members] == ["harbour_store.csv"]

        # (b) The app is killed outright and started again on the same data directory.
        os.killpg(app.pid, signal.SIGKILL)
        app.stop()
        second = harness.AppServer.for_emulator(emulator, key, log_path=tmp_path / "app-2.log",
                                                extra_env=env).start()
        with harness.app_failure_context(second, emulator):
            tab.goto(second.url, f"/talk?conversation={conversation}")
            text = tab.wait_for_transcript("Which ship carried the most?", timeout_s=60)
            assert "call run_sql" in text
            # The restored table answers a new question's SQL: no upload happened here.
            result = _ask_sql(tab, emulator, len(_sql_results(emulator)))
            assert result["rows"] == [[ROWS, TOTAL]]
            assert _conversation_of(tab.page) == conversation

            # (d) Delete: gone from the list and from the database.
            sidebar = tab.page.locator('[data-testid="stSidebar"]')
            listed = sidebar.locator(f".st-key-livechat-widget-conversation-open-{conversation}")
            assert listed.count() == 1
            sidebar.get_by_role("button", name="Delete").click()
            tab.page.wait_for_url(lambda url: conversation not in url, timeout=15_000)
            listed.wait_for(state="detached", timeout=15_000)
        deadline = time.monotonic() + 30
        while _saved(db_url, conversation) is not None and time.monotonic() < deadline:
            time.sleep(0.2)  # the delete is written by the background writer
        assert _saved(db_url, conversation) is None
    finally:
        for server in (app, second):
            if server is not None:
                server.stop()
        emulator.stop()

    # Nothing secret in the database: not the key, not a token name (SQLite file and WAL).
    files = [p for p in data_dir.iterdir() if p.name.startswith("livechat.db")]
    assert files
    for path in files:
        blob = path.read_bytes()
        assert key.encode() not in blob and b"auth_tokens/" not in blob, path.name
