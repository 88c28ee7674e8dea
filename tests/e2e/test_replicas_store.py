"""Behind the replicas, nothing is lost (issue 26): ``deploy/serve`` runs two replicas on
one PostgreSQL store; an analyst uploads a table and asks two typed questions on one
replica, that replica is SIGKILLed, and on reloading (HAProxy sends them to the other
replica) the table and the record are there, restored from the store, and a new question
runs SQL on the restored table. Typed questions only: the voice path across replicas is
``test_replicas.py``'s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from livechat.store import ConversationStore
from livechat.store.engine import make_engine
from tests.e2e import harness
from tests.e2e.fleet import Fleet, fleet_unavailable_reason, replica_env
from tests.e2e.harness import voice_sessions
from tests.e2e.test_replicas import _cookie_replica, _FleetLog, _replica_on_settings
from tests.requirements_gate import unavailable

pytestmark = pytest.mark.e2e

ROWS = 45
SQL = "SELECT count(*) AS n, sum(crates) AS crates FROM data"
CRATES = sum(i * 7 % 50 for i in range(ROWS))


@pytest.fixture(scope="module")
def store_fleet(tmp_path_factory: pytest.TempPathFactory, postgres_server) -> Iterator[tuple[Fleet, object, str]]:
    reason = fleet_unavailable_reason() or (postgres_server if isinstance(postgres_server, str) else None)
    if reason is not None:
        unavailable(f"the replica store test cannot run: {reason}")
    database = postgres_server.new_database()
    key = harness.random_api_key()
    emulator = harness.start_emulator(key)
    env = replica_env(emulator, key, LIVECHAT_DATABASE_URL=database)
    fleet = Fleet(tmp_path_factory.mktemp("store-fleet"), env, replicas=2)
    try:
        fleet.start()
        yield fleet, emulator, database
    finally:
        fleet.stop()
        emulator.stop()


def _sql_rows(emulator) -> list:
    return [c["response"].get("rows") for s in voice_sessions(emulator.sessions()) for c in s["tool_calls"]
            if c["name"] == "run_sql" and c["response"] is not None]


def _wait_saved(database: str, conversation: str, questions: int, timeout_s: float = 30.0) -> None:
    store = ConversationStore(make_engine(database))
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            saved = store.load(conversation)
            if (saved is not None and saved.row.questions >= questions and saved.members
                    and all(store.has_blob(m.table_key) for m in saved.members)):
                return
            time.sleep(0.2)  # polling the database, not a timing assumption
    finally:
        store.close()
    raise AssertionError(f"conversation {conversation} was not saved with {questions} questions")


def test_a_killed_replicas_analyst_finds_tables_and_record_on_the_other(store_fleet, browser_factory, speech_wav,
                                                                        tmp_path: Path) -> None:
    fleet, emulator, database = store_fleet
    csv = tmp_path / "gamma_store.csv"
    csv.write_text("crate_id,crates\n" + "".join(f"c{i},{i * 7 % 50}\n" for i in range(ROWS)))
    with harness.app_failure_context(_FleetLog(fleet), emulator):
        browser = browser_factory(speech_wav)
        tab = browser.new_page()
        tab.goto(fleet.url, "/")
        tab.upload(csv)
        replica = _replica_on_settings(tab)
        tab.navigate("Data", "/")
        tab.navigate_to_talk()
        tab.ask("call run_sql " + json.dumps({"query": SQL}))
        tab.wait_for_transcript("The run_sql tool returned", timeout_s=30)
        tab.ask("How many crates in all?")
        tab.wait_for_transcript('You said: "How many crates in all?"', timeout_s=30)
        url = tab.page.url
        conversation = parse_qs(urlparse(url).query)["conversation"][0]
        _wait_saved(database, conversation, questions=2)

        fleet.kill(replica)
        tab.close()
        tab = browser.new_page()
        tab.page.goto(url, wait_until="domcontentloaded")  # the reload: HAProxy picks the other replica
        text = tab.wait_for_transcript("How many crates in all?", timeout_s=60)
        other = _cookie_replica(tab)
        assert other is not None and other != replica
        assert "call run_sql" in text
        tab.page.get_by_text("Restored the conversation").first.wait_for(timeout=15_000)
        sidebar = tab.page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("gamma_store.csv").count() > 0
        before = len(_sql_rows(emulator))
        tab.ask("call run_sql " + json.dumps({"query": SQL}))
        emulator.wait_for(lambda ss: len(_sql_rows(emulator)) > before, timeout=30)
        assert _sql_rows(emulator)[-1] == [[ROWS, CRATES]]  # SQL on the restored table, on the other replica
