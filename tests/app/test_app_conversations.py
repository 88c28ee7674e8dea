"""Conversations in the store, through the app: a reload brings back the tables (the set,
its ticks) as well as the record; the sidebar lists, reopens and deletes conversations;
a store that is down is said on the page while the app keeps working."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from livechat.store.audit import EventKind, read_events
from livechat.ui import conversations
from livechat.ui.shared import WeakShared
from tests.app.apptest_support import new_app
from tests.app.test_app_talk_tables import ORDERS_CSV, _parquet

QUERY = conversations.QUERY_PARAM


def _upload_set(at: AppTest) -> AppTest:
    at.file_uploader[0].set_value([
        ("orders.csv", ORDERS_CSV, "text/csv"),
        ("customers.parquet", _parquet(), "application/octet-stream")]).run()
    assert not at.exception and not at.error
    return at


def _ticks(at: AppTest) -> dict[str, bool]:
    return {c.label.split("`")[1]: c.value for c in at.checkbox if c.key and "table_tick" in c.key}


def _list_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.sidebar.button if b.key and b.key.startswith("livechat.widget.conversation.open.")]


def _reload(conversation: str) -> AppTest:
    at = new_app()
    at.query_params[QUERY] = conversation
    return at.run()


def test_a_reload_restores_the_table_set_with_its_ticks() -> None:
    at = _upload_set(new_app().run())
    at.checkbox(key=next(c.key for c in at.checkbox if c.key and c.key.endswith(".customers"))).uncheck().run()
    conversation = at.query_params[QUERY]
    assert _ticks(at) == {"orders": True, "customers": False}

    reloaded = _reload(conversation)
    assert not reloaded.exception
    assert _ticks(reloaded) == {"orders": True, "customers": False}
    assert reloaded.query_params[QUERY] == conversation
    assert any(label.startswith("orders.csv, customers.parquet (2 tables)") for label in _list_labels(reloaded))
    reloaded.switch_page("pages/talk.py").run()
    assert not reloaded.exception
    assert any("1 tables in the conversation" in m.value for m in reloaded.sidebar.markdown)


def test_delete_removes_the_conversation_from_the_list_and_the_store() -> None:
    at = _upload_set(new_app().run())
    conversation = at.query_params[QUERY]
    at = _reload(conversation)
    assert any("customers.parquet" in label for label in _list_labels(at))
    at.sidebar.button(key="livechat.widget.conversation.delete").click().run()
    assert not at.exception
    assert at.query_params[QUERY] != conversation
    writer = conversations.store_writer()
    assert writer.flush(10.0)
    assert writer.read(lambda store: store.load(conversation), "down") is None
    deletions = writer.read(lambda store: read_events(store, kinds=[EventKind.DELETION]), [])
    assert ("local", {"conversation": conversation}) in [(e.analyst, dict(e.details)) for e in deletions]
    assert conversation not in [b.key.rsplit(".", 1)[-1] for b in at.sidebar.button if b.key]


def test_new_conversation_keeps_the_tables_and_starts_an_empty_record() -> None:
    at = _upload_set(new_app().run())
    before = at.query_params[QUERY]
    at.sidebar.button(key="livechat.widget.conversation.new").click().run()
    assert not at.exception
    assert at.query_params[QUERY] != before
    assert _ticks(at) == {"orders": True, "customers": True}


@pytest.fixture
def store_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LIVECHAT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    conversations.store_writer().close(5.0)  # the process's writer so far: written and stopped
    conversations.store_writer.clear()
    yield
    conversations.store_writer().close(1.0)
    conversations.store_writer.clear()


def test_a_store_that_is_down_is_said_on_every_page_and_the_app_works(store_down: None) -> None:
    at = new_app().run()
    assert not at.exception
    assert any(w.value.startswith("Conversations are not being saved: ") for w in at.warning)
    assert at.dataframe  # the sample is on the Data page all the same
    at.switch_page("pages/talk.py").run()
    assert not at.exception
    assert any(w.value.startswith("Conversations are not being saved: ") for w in at.warning)


def test_a_table_whose_stored_copy_is_gone_is_named_and_the_rest_opens(monkeypatch) -> None:
    at = _upload_set(new_app().run())
    conversation = at.query_params[QUERY]
    writer = conversations.store_writer()
    assert writer.flush(10.0)
    saved = writer.read(lambda store: store.load(conversation), None)
    customers = next(m for m in saved.members if m.sql_name == "customers")
    monkeypatch.setattr(conversations, "_RESTORED", WeakShared())  # as in a new process: nothing decoded yet

    def drop(store) -> None:
        from livechat.store.schema import blob_chunks

        with store.engine.begin() as connection:
            connection.execute(blob_chunks.delete().where(blob_chunks.c.table_key == customers.table_key))

    writer.read(drop, None)
    reloaded = _reload(conversation)
    assert not reloaded.exception
    note = " ".join(w.value for w in reloaded.warning)
    assert "could not be opened: customers (customers.parquet): its stored copy is incomplete" in note
    assert _ticks(reloaded) == {"orders": True}  # the rest opened
    assert writer.status().saving  # a missing table is not a store that is down


def test_a_restored_table_is_shared_while_held_and_forgotten_when_nobody_holds_it(monkeypatch) -> None:
    at = _upload_set(new_app().run())
    writer = conversations.store_writer()
    assert writer.flush(10.0)
    saved = writer.read(lambda store: store.load(at.query_params[QUERY]), None)
    monkeypatch.setattr(conversations, "_RESTORED", WeakShared())
    row = saved.members[0]
    held = conversations.restore_table(row)
    assert conversations.restore_table(row) is held  # one decoded copy for every session
    assert conversations._RESTORED.keys() == [row.table_key]
    del held
    gc.collect()
    assert conversations._RESTORED.keys() == []  # nobody holds it: nothing kept


def test_another_analysts_link_reads_as_not_found_and_is_not_listed() -> None:
    secrets = {"auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "c" * 32,
                        "client_id": "x", "client_secret": "y", "server_metadata_url": "http://127.0.0.1:9/x"},
               "access": {"allowed_domains": ["example.com"]}}

    def signed_in(email: str, conversation: str | None = None) -> AppTest:
        at = new_app()
        for name, value in secrets.items():
            at.secrets[name] = value
        at.user = {"is_logged_in": True, "email": email, "email_verified": True}
        if conversation is not None:
            at.query_params[QUERY] = conversation
        return at.run()

    mine = _upload_set(signed_in("ana@example.com"))
    conversation = mine.query_params[QUERY]
    assert conversations.store_writer().flush(10.0)
    assert signed_in("ana@example.com", conversation).query_params[QUERY] == conversation  # hers: it opens

    theirs = signed_in("ben@example.com", conversation)
    assert not theirs.exception
    assert theirs.query_params[QUERY] != conversation
    assert not any("customers.parquet" in label for label in _list_labels(theirs))
    theirs.switch_page("pages/talk.py").run()
    assert any(i.value.startswith(conversations.NOT_FOUND) for i in theirs.info)
