"""The [access] rules: parsing (fail closed on a bad value) and the decision for one person."""

from __future__ import annotations

import pytest

from livechat.access.rules import (
    AccessRules,
    AccessSettingsError,
    KeyPolicy,
    Refusal,
    decide,
    parse_access_rules,
    sign_in_configured,
)

RULES = parse_access_rules({"access": {
    "allowed_emails": ["Solo@Elsewhere.net"], "allowed_domains": ["example.com", "@Team.org"],
    "admins": ["boss@admins.io"]}})


def _user(email: object, verified: object = True, **more: object) -> dict[str, object]:
    claims = {"is_logged_in": True, "email": email, **more}
    if verified is not None:
        claims["email_verified"] = verified
    return claims


def test_absent_section_means_defaults_and_nobody_listed() -> None:
    rules = parse_access_rules({})
    assert rules == AccessRules()
    assert rules.key_policy is KeyPolicy.SERVER and not rules.require_sign_in and not rules.lets_anyone_in
    # Deny by default: with sign-in on and no list, a verified person is still refused.
    assert decide(rules, _user("ana@example.com")).refusal is Refusal.NOT_LISTED


def test_lists_are_normalised() -> None:
    assert RULES.allowed_emails == {"solo@elsewhere.net"}
    assert RULES.allowed_domains == {"example.com", "team.org"}
    assert parse_access_rules({"access": {"admins": "one@x.io"}}).admins == {"one@x.io"}


@pytest.mark.parametrize(("section", "names"), [
    ({"allowed_emails": [1, 2]}, "allowed_emails"),
    ({"allowed_domains": ["ana@example.com"]}, "allowed_domains"),
    ({"allowed_domains": ["localhost"]}, "allowed_domains"),
    ({"require_sign_in": "yes"}, "require_sign_in"),
    ({"key_policy": "owner"}, "key_policy"),
    ({"trust_unverified_emails": 1}, "trust_unverified_emails"),
])
def test_a_value_of_the_wrong_shape_is_refused_naming_the_setting(section: dict, names: str) -> None:
    with pytest.raises(AccessSettingsError, match=names):
        parse_access_rules({"access": section})


def test_access_must_be_a_table() -> None:
    with pytest.raises(AccessSettingsError):
        parse_access_rules({"access": "everyone"})


def test_flags_and_policy_are_read() -> None:
    rules = parse_access_rules({"access": {"require_sign_in": True, "key_policy": " Visitor "}})
    assert rules.require_sign_in and rules.key_policy is KeyPolicy.VISITOR


def test_sign_in_needs_a_non_empty_auth_table() -> None:
    assert sign_in_configured({"auth": {"client_id": "x"}})
    assert not sign_in_configured({}) and not sign_in_configured({"auth": {}})
    assert not sign_in_configured({"auth": "on"})


def test_a_verified_address_at_an_allowed_domain_is_let_in_as_itself() -> None:
    decision = decide(RULES, _user("Ana@Example.com", name="Ana"))
    assert decision.allowed and decision.refusal is None
    assert decision.analyst is not None
    assert (decision.analyst.id, decision.analyst.name, decision.analyst.signed_in) == ("ana@example.com", "Ana", True)
    assert not decision.analyst.is_admin


@pytest.mark.parametrize("verified", [False, None, "false"])
def test_a_domain_match_needs_a_verified_email(verified: object) -> None:
    decision = decide(RULES, _user("ana@example.com", verified=verified))
    assert not decision.allowed and decision.refusal is Refusal.UNVERIFIED_EMAIL


def test_verified_as_text_counts() -> None:
    assert decide(RULES, _user("ana@example.com", verified="true")).allowed


def test_another_domain_is_refused_even_a_subdomain_or_lookalike() -> None:
    for email in ("eve@other.org", "eve@sub.example.com", "eve@example.com.evil.io", "eve@notexample.com"):
        decision = decide(RULES, _user(email))
        assert decision.refusal is Refusal.NOT_LISTED, email
        assert decision.email == email


def test_no_email_is_refused() -> None:
    assert decide(RULES, {"is_logged_in": True, "sub": "123"}).refusal is Refusal.NO_EMAIL
    assert decide(RULES, _user("not-an-address")).refusal is Refusal.NO_EMAIL


def test_a_listed_address_needs_verification_unless_the_operator_trusts_a_missing_claim() -> None:
    assert decide(RULES, _user("solo@elsewhere.net")).allowed
    assert decide(RULES, _user("solo@elsewhere.net", verified=None)).refusal is Refusal.UNVERIFIED_EMAIL
    trusting = parse_access_rules({"access": {"allowed_emails": ["solo@elsewhere.net"],
                                              "allowed_domains": ["example.com"],
                                              "trust_unverified_emails": True}})
    assert decide(trusting, _user("solo@elsewhere.net", verified=None)).allowed
    # Never an address marked unverified, and never a domain match.
    assert not decide(trusting, _user("solo@elsewhere.net", verified=False)).allowed
    assert not decide(trusting, _user("ana@example.com", verified=None)).allowed


def test_admins_are_let_in_and_marked() -> None:
    decision = decide(RULES, _user("Boss@Admins.io"))
    assert decision.analyst is not None and decision.analyst.is_admin
    assert decision.analyst.label == "boss@admins.io"
