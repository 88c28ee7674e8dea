"""Unit tests for livechat.ui.ice and the Talk page's webrtc_streamer arguments.

The ICE configuration must reach both peers as an explicit list: otherwise streamlit-webrtc
looks ICE servers up on the internet (``get_available_ice_servers``).
"""

from __future__ import annotations

import inspect

import pytest
from streamlit_webrtc import WebRtcMode, webrtc_streamer
from streamlit_webrtc import component as webrtc_component

from livechat.ui.ice import IceConfigError, ice_servers_from_secrets, rtc_configuration
from livechat.ui.talk import (
    AUDIO_PROCESSING_ENV,
    VOICE_KEY,
    audio_processing_default,
    media_constraints,
    webrtc_kwargs,
)

TURN = {"urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u", "credential": "secret-c"}


def test_no_secret_means_an_explicit_empty_list() -> None:
    assert ice_servers_from_secrets({}) == []
    assert rtc_configuration([]) == {"iceServers": []}


def test_array_of_tables_and_single_table_are_read() -> None:
    stun = {"urls": "stun:stun.example.org:3478"}
    assert ice_servers_from_secrets({"ice_servers": [stun, TURN]}) == [
        {"urls": ["stun:stun.example.org:3478"]}, TURN]
    assert ice_servers_from_secrets({"ice_servers": TURN}) == [TURN]


@pytest.mark.parametrize(("entry", "rule"), [
    ({"username": "u"}, "must have urls"),
    ({"urls": []}, "at least one url"),
    ({"urls": ["http://example.org"]}, "must start with"),
    ({"urls": "turn:t.example.org", "username": "u"}, "needs both username and credential"),
    ({"urls": "stun:s.example.org", "credential": ""}, "credential must be non-empty text"),
    ("stun:s.example.org", "must be a table"),
])
def test_malformed_entries_are_refused_with_the_rule(entry: object, rule: str) -> None:
    with pytest.raises(IceConfigError, match=rule) as info:
        ice_servers_from_secrets({"ice_servers": [entry]})
    assert "entry 1" in str(info.value)


def test_a_bad_credential_is_named_not_echoed() -> None:
    with pytest.raises(IceConfigError) as info:
        ice_servers_from_secrets({"ice_servers": [{"urls": "stun:s", "credential": 12345}]})
    assert "12345" not in str(info.value)


def test_ice_servers_must_be_a_list() -> None:
    with pytest.raises(IceConfigError, match="array of tables"):
        ice_servers_from_secrets({"ice_servers": "turn:x"})


def _kwargs(servers: list[dict], processing: bool = True) -> dict:
    return webrtc_kwargs(rtc_configuration=rtc_configuration(servers), processing=processing,
                         sink=object(), source=object())


def test_the_ice_configuration_reaches_both_peers() -> None:
    kwargs = _kwargs([TURN])
    assert kwargs["frontend_rtc_configuration"] == {"iceServers": [TURN]}
    assert kwargs["server_rtc_configuration"] == {"iceServers": [TURN]}
    assert kwargs["frontend_rtc_configuration"] is not kwargs["server_rtc_configuration"]
    assert kwargs["key"] == VOICE_KEY and kwargs["mode"] is WebRtcMode.SENDRECV
    # Every name is a parameter of the installed webrtc_streamer.
    inspect.signature(webrtc_streamer).bind(**kwargs)


def test_the_library_never_looks_ice_servers_up_with_our_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden() -> list:
        raise AssertionError("get_available_ice_servers was called")

    monkeypatch.setattr(webrtc_component, "get_available_ice_servers", forbidden)
    for servers in ([], [TURN]):
        kwargs = _kwargs(servers)
        server = webrtc_component._resolve_server_rtc_configuration(kwargs["server_rtc_configuration"])
        assert [s.urls for s in server.iceServers] == [s["urls"] for s in servers]
        frontend = webrtc_component.enhance_frontend_rtc_configuration(kwargs["frontend_rtc_configuration"])
        assert frontend["iceServers"] == servers


def test_webrtc_kwargs_refuse_a_configuration_without_a_list() -> None:
    with pytest.raises(ValueError, match="iceServers list"):
        webrtc_kwargs(rtc_configuration={}, processing=True, sink=None, source=None)


@pytest.mark.parametrize(("value", "expected"), [
    (None, True), ("on", True), ("", True), ("off", False), ("OFF", False), ("0", False), ("false", False)])
def test_audio_processing_default_follows_the_environment(value: str | None, expected: bool) -> None:
    env = {} if value is None else {AUDIO_PROCESSING_ENV: value}
    assert audio_processing_default(env) is expected


@pytest.mark.parametrize("processing", [True, False])
def test_media_constraints_are_audio_only_with_explicit_processing(processing: bool) -> None:
    assert media_constraints(processing) == {
        "audio": {"echoCancellation": processing, "noiseSuppression": processing,
                  "autoGainControl": processing},
        "video": False,
    }
    assert _kwargs([], processing)["media_stream_constraints"] == media_constraints(processing)


# --------------------------------------------------------------------- TURN minting and relay check

from livechat.config import TurnCredentials, TurnSettings  # noqa: E402
from livechat.ui.ice import (  # noqa: E402
    NO_RELAY_MESSAGE,
    RELAY_GATHER_TIMEOUT_S,
    minted_server,
    relay_candidate_seen,
    relay_problem,
)

HOST = {"candidate": "candidate:1 1 udp 2122260223 10.77.0.2 50000 typ host generation 0", "sdpMid": "0"}
RELAY = {"candidate": "candidate:2 1 udp 41885439 10.77.0.2 49170 typ relay raddr 10.77.0.2 rport 5000",
         "sdpMid": "0"}


def test_relay_policy_is_passed_to_the_browser_only_with_a_turn_server() -> None:
    config = rtc_configuration([TURN], policy="relay")
    assert config == {"iceServers": [TURN], "iceTransportPolicy": "relay"}
    assert "iceTransportPolicy" not in rtc_configuration([TURN])
    with pytest.raises(IceConfigError, match="no TURN server is configured"):
        rtc_configuration([{"urls": ["stun:s:3478"]}], policy="relay")


def test_the_minted_entry_carries_the_session_credentials_not_the_secret() -> None:
    settings = TurnSettings(urls=("turn:10.77.0.2:3478",), secret="long-term-secret")
    creds = TurnCredentials(username="123:abc", credential="c2lnbmVk", expires_at=123)
    entry = minted_server(settings, creds)
    assert entry == {"urls": ["turn:10.77.0.2:3478"], "username": "123:abc", "credential": "c2lnbmVk"}
    assert "long-term-secret" not in repr(entry)


def test_a_relay_candidate_is_recognised_among_trickled_candidates() -> None:
    assert not relay_candidate_seen(None)
    assert not relay_candidate_seen({"sdpOffer": {"sdp": "v=0"}, "iceCandidates": {"a": HOST}})
    assert relay_candidate_seen({"sdpOffer": {"sdp": "v=0"}, "iceCandidates": {"a": HOST, "b": RELAY}})


def test_no_relay_candidate_after_the_gathering_time_is_reported() -> None:
    stuck = {"sdpOffer": {"sdp": "v=0"}, "iceCandidates": {}}
    late = RELAY_GATHER_TIMEOUT_S + 0.1
    assert relay_problem(relay_only=True, signalling_for_s=late, component_value=stuck) == NO_RELAY_MESSAGE
    # not yet, not forced, not signalling, or a relay candidate was found
    assert relay_problem(relay_only=True, signalling_for_s=1.0, component_value=stuck) is None
    assert relay_problem(relay_only=False, signalling_for_s=late, component_value=stuck) is None
    assert relay_problem(relay_only=True, signalling_for_s=None, component_value=stuck) is None
    found = {"sdpOffer": {"sdp": "v=0"}, "iceCandidates": {"b": RELAY}}
    assert relay_problem(relay_only=True, signalling_for_s=late, component_value=found) is None


def test_uplink_stall_timeout_defaults_to_fifteen_seconds_and_reads_the_environment() -> None:
    from livechat.ui.talk import uplink_stall_timeout

    assert uplink_stall_timeout({}) == 15.0
    assert uplink_stall_timeout({"LIVECHAT_UPLINK_STALL_S": "3"}) == 3.0
    assert uplink_stall_timeout({"LIVECHAT_UPLINK_STALL_S": "120"}) == 120.0
    for bad in ("0", "-1", "abc", "9999"):
        assert uplink_stall_timeout({"LIVECHAT_UPLINK_STALL_S": bad}) == 15.0
