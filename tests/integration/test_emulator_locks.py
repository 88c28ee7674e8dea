"""Lock semantics of constrained tokens, observed through the real SDK (LIVE_PROTOCOL 1.5-1.7)."""

from __future__ import annotations

import pytest

from livechat.emulator.voice import shared_synthesizer
from tests.integration.emulator_support import constraints, mint, only_session, text_turn

pytestmark = pytest.mark.filterwarnings("ignore::google.genai.errors.ExperimentalWarning")

CLIENT_SI = "Client instruction: the table has 12 rows.\nColumns: keeper, nights."
TOKEN_SI = "Token instruction: answer about the lighthouse table.\nRow 1: Ada, 3 nights. ✓"


def test_reported_failure_token_without_instruction_drops_the_clients(emulator):
    # The forum case (discuss.ai.google.dev/t/113346): constraints without an instruction, no lock list.
    token = mint(emulator, uses=1, live_connect_constraints=constraints(
        session_resumption={}, temperature=0.7, response_modalities=["AUDIO"]))

    turn = text_turn(emulator, token, "What is in the table?", config={
        "system_instruction": CLIENT_SI, "output_audio_transcription": {}, "input_audio_transcription": {}})

    record = only_session(emulator)
    assert record["client_setup"]["systemInstruction"]["parts"][0]["text"] == CLIENT_SI
    assert "systemInstruction" not in record["effective_setup"]
    # The client's transcription requests were dropped with the rest of its setup...
    assert turn.output_text == "" and turn.input_text == ""
    # ...so check the spoken words by their exact (deterministic) audio.
    expected = 'You said: "What is in the table?". I have no system instruction.'
    assert record["turns"][0]["output"] == expected
    assert turn.audio == shared_synthesizer().synthesize(expected, "Puck")


def test_reported_failure_visible_in_the_transcript_when_the_token_enables_it(emulator):
    token = mint(emulator, live_connect_constraints=constraints(
        response_modalities=["AUDIO"], output_audio_transcription={}))

    turn = text_turn(emulator, token, "Hi", config={"system_instruction": CLIENT_SI})

    assert turn.output_text == 'You said: "Hi". I have no system instruction.'


def test_instruction_locked_in_the_token_wins_byte_for_byte(emulator):
    token = mint(emulator, live_connect_constraints=constraints(
        system_instruction=TOKEN_SI, response_modalities=["AUDIO"], output_audio_transcription={}))

    turn = text_turn(emulator, token, "Who kept the light?", config={"system_instruction": CLIENT_SI})

    record = only_session(emulator)
    assert record["effective_setup"]["systemInstruction"] == {"parts": [{"text": TOKEN_SI}], "role": "user"}
    assert turn.output_text == ('You said: "Who kept the light?". My instructions begin: '
                                f'"Token instruction: answer about the lighthouse table." ({len(TOKEN_SI)} characters).')


def test_api_key_session_uses_the_clients_setup(emulator):
    turn = text_turn(emulator, "test-key", "Hello", config={
        "system_instruction": CLIENT_SI, "output_audio_transcription": {}})

    assert turn.output_text.endswith(f'"Client instruction: the table has 12 rows." ({len(CLIENT_SI)} characters).')
    assert only_session(emulator)["auth"] == "api_key"


def test_unconstrained_token_takes_the_clients_setup(emulator):
    token = mint(emulator, uses=1)

    turn = text_turn(emulator, token, "Hello", config={"system_instruction": CLIENT_SI,
                                                       "output_audio_transcription": {}})

    assert f"({len(CLIENT_SI)} characters)" in turn.output_text


@pytest.mark.parametrize("extra", [[], ["temperature"]])
def test_lock_additional_fields_locks_set_fields_and_takes_others_from_the_client(emulator, extra):
    token = mint(emulator, lock_additional_fields=extra, live_connect_constraints=constraints(
        response_modalities=["AUDIO"], speech_config={"voice_config": {"prebuilt_voice_config": {"voice_name": "Kore"}}},
        output_audio_transcription={}))

    turn = text_turn(emulator, token, "Hi", config={
        "system_instruction": CLIENT_SI, "temperature": 0.3, "top_p": 0.5,
        "speech_config": {"voice_config": {"prebuilt_voice_config": {"voice_name": "Puck"}}}})

    effective = only_session(emulator)["effective_setup"]
    generation = effective["generationConfig"]
    # Locked (set in the token): voice and modality; the client's Puck is overwritten.
    assert generation["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"] == "Kore"
    assert generation["responseModalities"] == ["AUDIO"]
    # Not locked: the client's instruction and top_p survive.
    assert effective["systemInstruction"]["parts"][0]["text"] == CLIENT_SI
    assert generation["topP"] == 0.5
    # temperature: the client's value unless it is in the lock list, where the unset token value clears it.
    if extra:
        assert "temperature" not in generation
    else:
        assert generation["temperature"] == 0.3
    assert f"({len(CLIENT_SI)} characters)" in turn.output_text
    assert turn.audio == shared_synthesizer().synthesize(turn.output_text, "Kore")


def test_locked_instruction_under_a_mask_overrides_the_client(emulator):
    token = mint(emulator, lock_additional_fields=[], live_connect_constraints=constraints(
        system_instruction=TOKEN_SI, output_audio_transcription={}))

    turn = text_turn(emulator, token, "Hi", config={"system_instruction": CLIENT_SI})

    assert f"({len(TOKEN_SI)} characters)" in turn.output_text
    assert only_session(emulator)["effective_setup"]["systemInstruction"]["parts"][0]["text"] == TOKEN_SI
