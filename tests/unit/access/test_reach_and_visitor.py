"""Who can reach the app (the Settings sentence, the key warning) and a visitor's key."""

from __future__ import annotations

import pytest

from livechat.access.reach import is_loopback, reach
from livechat.access.rules import parse_access_rules
from livechat.access.visitor import VisitorKey, VisitorKeyError, visitor_analyst

SERVER = parse_access_rules({})
VISITOR = parse_access_rules({"access": {"key_policy": "visitor"}})
TEAM = parse_access_rules({"access": {"allowed_domains": ["example.com"], "admins": ["a@example.com"]}})
KEY = "AIza" + "k" * 35


@pytest.mark.parametrize(("address", "local"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.0.2", True),
    ("", False), (None, False), ("0.0.0.0", False), ("::", False), ("192.168.1.4", False), ("app.example.com", False),
])
def test_loopback_addresses(address: str | None, local: bool) -> None:
    assert is_loopback(address) is local


def test_a_server_key_open_to_the_network_without_sign_in_warns() -> None:
    found = reach(SERVER, sign_in=False, address="0.0.0.0", server_key=True)
    assert found.warn_key and "anyone who can open its address" in found.sentence
    assert "every network interface" in reach(SERVER, sign_in=False, address="", server_key=True).sentence


@pytest.mark.parametrize(("rules", "sign_in", "address", "server_key"), [
    (SERVER, False, "127.0.0.1", True),  # this machine only
    (SERVER, True, "0.0.0.0", True),  # sign-in on
    (VISITOR, False, "0.0.0.0", True),  # visitors' own keys
    (SERVER, False, "0.0.0.0", False),  # no key (offline emulator)
])
def test_no_warning_otherwise(rules, sign_in: bool, address: str, server_key: bool) -> None:
    assert not reach(rules, sign_in=sign_in, address=address, server_key=server_key).warn_key


def test_the_sentence_names_the_set_up() -> None:
    assert reach(SERVER, sign_in=False, address="127.0.0.1", server_key=True).sentence.startswith("Single user")
    team = reach(TEAM, sign_in=True, address="0.0.0.0", server_key=True).sentence
    assert "Sign-in is on" in team and "example.com" in team and "1 admin" in team
    assert "nobody yet" in reach(SERVER, sign_in=True, address="", server_key=True).sentence
    public = reach(VISITOR, sign_in=False, address="", server_key=False).sentence
    assert "their own Gemini API key" in public and "yours is never used" in public


def test_a_visitor_key_never_prints_itself() -> None:
    key = VisitorKey(f"  {KEY}\n")
    assert key.value == KEY
    assert KEY not in repr(key) and KEY not in str(key) and KEY not in repr({"slot": key})


@pytest.mark.parametrize("pasted", ["", "short", "k" * 10 + "é" * 20, "k" * 19])
def test_text_that_cannot_be_a_key_is_refused_without_repeating_it(pasted: str) -> None:
    with pytest.raises(VisitorKeyError) as caught:
        VisitorKey(pasted)
    assert not pasted or pasted not in str(caught.value)


def test_a_visitor_is_the_same_analyst_for_the_same_key_only() -> None:
    one, again, other = visitor_analyst(VisitorKey(KEY)), visitor_analyst(VisitorKey(KEY)), \
        visitor_analyst(VisitorKey(KEY[:-1] + "x"))
    assert one == again and one.id != other.id
    assert one.id.startswith("visitor-") and KEY not in one.id and "k" * 10 not in one.id
    assert not one.is_admin and not one.signed_in
