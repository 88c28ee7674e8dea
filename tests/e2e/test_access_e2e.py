"""Who may talk (issue 28), in a real browser against a real OIDC provider on 127.0.0.1.

One app stack for every case: sign-in through Streamlit's ``st.login`` (``[auth]`` in a
secrets file of the test's own), ``allowed_domains = ["example.com"]`` and
``key_policy = "visitor"``, the owner's GEMINI_API_KEY set to a key the emulator refuses
(so any mint on it would fail). Analyst A signs in through the provider's page, pastes a
wrong key (the mint's refusal is said in plain words), then the right one, and talks
(typed and voice). Analyst B, allowed too, opens A's conversation link and sees "not
found"; B signs out; then someone from another domain signs in and is refused. Neither
pasted key reaches any HTTP response, WebSocket frame, the DOM, the app log or the
database, and the audit trail holds the sign-ins, the refusal and the sign-out.
"""

from __future__ import annotations

import secrets as pysecrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from livechat.store import ConversationStore
from livechat.store.audit import EventKind, read_events
from livechat.store.engine import make_engine
from tests.e2e.harness import SAMPLE_NAME, TrafficRecorder, voice_sessions
from tests.e2e.oidc_provider import OidcProvider, Person

pytestmark = pytest.mark.e2e

ANA = Person("ana@example.com", "Ana Analyst")
BEN = Person("ben@example.com", "Ben Analyst")
EVE = Person("eve@other.org", "Eve Outsider")
OWNER_KEY = "owner-key-" + "0" * 30  # the emulator refuses it: a mint on it would fail
WRONG_KEY = "wrong-visitor-key-" + pysecrets.token_hex(12)
QUESTION = "Which keeper logged the most storm nights?"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider((ANA, BEN, EVE)) as running:
        yield running


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("access-data")


@pytest.fixture(scope="module")
def app_extra_env(provider: OidcProvider, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    secrets_file = tmp_path_factory.mktemp("access-secrets") / "secrets.toml"
    secrets_file.write_text(f"""
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{pysecrets.token_hex(32)}"
client_id = "livechat-e2e"
client_secret = "{pysecrets.token_hex(16)}"
server_metadata_url = "{provider.metadata_url}"

[access]
allowed_domains = ["example.com"]
key_policy = "visitor"
""")
    return {"STREAMLIT_SECRETS_FILES": str(secrets_file), "GEMINI_API_KEY": OWNER_KEY,
            "LIVECHAT_DATA_DIR": str(data_dir)}


def _db_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'livechat.db'}"


def _sign_in(tab, app_url: str, provider: OidcProvider, person: Person) -> None:
    """Through the app's Sign in button and the provider's own page, back to the app."""
    tab.goto(app_url, "/")
    tab.page.get_by_role("button", name="Sign in").click(timeout=30_000)
    tab.page.wait_for_url(lambda url: url.startswith(provider.base_url), timeout=30_000)
    tab.page.get_by_role("button", name=person.email).click(timeout=15_000)
    tab.page.wait_for_url(lambda url: url.startswith(app_url), timeout=30_000)


def _sign_out(tab, provider: OidcProvider) -> None:
    tab.page.locator('[data-testid="stSidebar"], [data-testid="stMain"]').get_by_role(
        "button", name="Sign out").first.click(timeout=15_000)
    tab.page.wait_for_url(lambda url: url.startswith(provider.base_url), timeout=30_000)
    tab.page.get_by_role("button", name="End session").click(timeout=15_000)
    tab.page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)


def _paste_key(tab, key: str) -> None:
    field = tab.page.get_by_label("Your Gemini API key", exact=True)
    field.fill(key, timeout=30_000)
    tab.page.get_by_role("button", name="Use my key").click()
    tab.wait_for_component()


def _conversation_of(page) -> str:
    return parse_qs(urlparse(page.url).query)["conversation"][0]


def _in_store(db_url: str, check: Callable[[ConversationStore], bool], what: str, timeout_s: float = 30.0) -> None:
    """Until ``check(store)`` holds: the background writer stores things a moment later."""
    store = ConversationStore(make_engine(db_url))
    try:
        deadline = time.monotonic() + timeout_s
        while not check(store):
            if time.monotonic() > deadline:
                raise AssertionError(f"the store never held {what}")
            time.sleep(0.2)  # polling the database file, not a timing assumption
    finally:
        store.close()


def test_sign_in_visitor_key_ownership_refusal_and_sign_out(e2e_stack, browser_factory, speech_wav, provider,
                                                             data_dir):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    visitor_key = e2e_stack.api_key  # the emulator's key: the only one that mints
    known = e2e_stack.session_ids()

    # --- A signs in, pastes a wrong key (refused in plain words), then the right one, and talks.
    ana = browser_factory(speech_wav).new_page()
    recorder = TrafficRecorder()
    recorder.attach(ana.page)
    _sign_in(ana, app.url, provider, ANA)
    ana.page.get_by_text(f"Signed in as {ANA.name}").wait_for(timeout=30_000)
    ana.navigate("Talk", "/talk")
    _paste_key(ana, WRONG_KEY)
    ana.ask(QUESTION, confirm=False)  # refused: the answer is the key problem, checked next
    ana.wait_for_transcript("Check the Gemini API key you pasted", timeout_s=30)
    assert "not a valid key" in ana.transcript_text()
    ana.page.get_by_role("button", name="Forget my key").click()
    _paste_key(ana, visitor_key)
    ana.ask(QUESTION)
    ana.wait_for_transcript(f'You said: "{QUESTION}"', timeout_s=30)
    ana.start_voice()
    emulator.wait_for(lambda ss: any(s["audio_out_seconds"] > 0 for s in voice_sessions(ss) if s["id"] not in known),
                      timeout=30)
    ana.stop_voice()
    conversation = _conversation_of(ana.page)
    # Stored under A's id first: B's "not found" below must not be a conversation not yet saved.
    _in_store(_db_url(data_dir), lambda store: getattr(store.load(conversation), "row", None) is not None
              and store.load(conversation).row.owner == ANA.email, f"{conversation} owned by {ANA.email}")

    # --- B, allowed too, opens A's link: "not found", nothing of A's, not in B's list.
    other = browser_factory(speech_wav).new_page()
    _sign_in(other, app.url, provider, BEN)
    other.page.get_by_text(f"Signed in as {BEN.name}").wait_for(timeout=30_000)
    other.goto(app.url, f"/talk?conversation={conversation}")
    other.page.get_by_text("Conversation not found").first.wait_for(timeout=30_000)
    assert QUESTION not in other.page.content()
    assert _conversation_of(other.page) != conversation
    assert other.page.locator(f".st-key-livechat-widget-conversation-open-{conversation}").count() == 0

    # --- B signs out (through the provider's end-session page), then an outsider is refused.
    _sign_out(other, provider)
    _sign_in(other, app.url, provider, EVE)
    other.page.get_by_text("Sorry, this account cannot use this app").wait_for(timeout=30_000)
    shown = other.page.locator("body").inner_text()
    assert "Dataset" not in shown and SAMPLE_NAME not in shown and "Conversations" not in shown

    # --- Neither pasted key anywhere the browser, the log or the database could show it.
    dom = ana.page.content().encode()
    recorder.collect_bodies()
    assert recorder.find([QUESTION]), "the recording misses the question the page showed: nothing was checked"
    needles = [visitor_key, WRONG_KEY]
    leaks = recorder.find(needles) + [f"{n[:12]}… in the final DOM" for n in needles if n.encode() in dom]
    assert not leaks, "a visitor's key reached the browser:\n" + "\n".join(leaks)
    log = app.log_text()
    assert not [n for n in needles if n in log], "a visitor's key is in the app log"
    for path in data_dir.glob("livechat.db*"):
        raw = path.read_bytes()
        assert not [n for n in needles if n.encode() in raw], f"a visitor's key is in {path.name}"
    assert any(t.get("name") for t in emulator.tokens()), "no token was minted: the key was never used"

    # --- The audit trail: who signed in, who was refused, who signed out.
    _in_store(_db_url(data_dir), lambda store: any(e.kind == EventKind.SIGN_IN_REFUSED for e in read_events(store)),
              "the refused sign-in")
    store = ConversationStore(make_engine(_db_url(data_dir)))
    try:
        events = {(e.kind, e.analyst) for e in read_events(store)}
    finally:
        store.close()
    assert {(EventKind.SIGN_IN, ANA.email), (EventKind.SIGN_IN, BEN.email), (EventKind.SIGN_OUT, BEN.email),
            (EventKind.SIGN_IN_REFUSED, EVE.email)} <= events
