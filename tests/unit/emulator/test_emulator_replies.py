"""Reply texts, tool commands, usage, transcripts, voice (livechat.emulator.replies, voice)."""

from __future__ import annotations

import numpy as np
import pytest

from livechat.emulator import replies
from livechat.emulator.voice import OUTPUT_RATE, Synthesizer, tone_sequence


def test_reply_quotes_the_first_line_and_the_length():
    instruction = "\nYou analyse lighthouse.csv.\nColumns: keeper, nights."
    assert replies.reply_text("How many?", instruction) == (
        f'You said: "How many?". My instructions begin: "You analyse lighthouse.csv." ({len(instruction)} characters).')


@pytest.mark.parametrize("instruction", ["", "  \n "])
def test_reply_without_instruction(instruction):
    assert replies.reply_text("Hi", instruction) == 'You said: "Hi". I have no system instruction.'


def test_reply_caps_a_very_long_first_line():
    reply = replies.reply_text("q", "x" * 5000)
    assert '"' + "x" * 200 + '…"' in reply and "(5000 characters)" in reply


def test_speech_placeholder():
    assert replies.speech_placeholder(1.84) == "[speech 1.8 s]"


@pytest.mark.parametrize("text, expected", [
    ('call get_weather {"city": "Paris"}', ("get_weather", {"city": "Paris"})),
    ("  call get_weather  ", ("get_weather", {})),
    ('call get_weather {"a": [1, {"b": 2}]}', ("get_weather", {"a": [1, {"b": 2}]})),
])
def test_tool_commands(text, expected):
    command = replies.parse_tool_command(text, ["get_weather"])
    assert (command.name, command.args) == expected


@pytest.mark.parametrize("text", ["call other {}", "call get_weather {bad json}", "call get_weather [1]",
                                  "please call get_weather {}"])
def test_not_tool_commands(text):
    assert replies.parse_tool_command(text, ["get_weather"]) is None


def test_tool_reply_is_sorted_json_truncated():
    assert replies.tool_reply_text("f", {"b": 1, "a": "x"}) == 'The f tool returned: {"a": "x", "b": 1}'
    long_reply = replies.tool_reply_text("f", {"rows": list(range(500))})
    assert long_reply.endswith("…") and len(long_reply) == len("The f tool returned: ") + 201


@pytest.mark.parametrize("pieces", [1, 3, 7, 100])
def test_split_transcript_concatenates_back(pieces):
    text = 'You said: "a b c". My instructions begin: "x" (1 characters).'
    parts = replies.split_transcript(text, pieces)
    assert "".join(parts) == text and 1 <= len(parts) <= pieces


def test_usage_metadata_counts_audio_at_32_tokens_per_second():
    usage = replies.usage_metadata(prompt_text_tokens=10, prompt_audio_s=2.0, response_audio_s=1.5)
    assert usage["promptTokenCount"] == 74 and usage["responseTokenCount"] == 48
    assert usage["totalTokenCount"] == 122
    assert usage["promptTokensDetails"] == [{"modality": "AUDIO", "tokenCount": 64}, {"modality": "TEXT", "tokenCount": 10}]


def test_tone_fallback_is_deterministic_audible_and_follows_the_text():
    short, again = tone_sequence("one two"), tone_sequence("one two")
    long = tone_sequence("one two three four five six seven eight")
    assert short == again and len(long) > 2 * len(short)
    samples = np.frombuffer(short, "<i2")
    assert np.abs(samples).max() > 8000
    assert tone_sequence("one two", "Kore") != short  # the voice changes the pitch


def test_synthesizer_is_deterministic_and_24khz():
    synth = Synthesizer()
    first = synth.synthesize("Hello there, keeper.", "Puck")
    assert first == Synthesizer().synthesize("Hello there, keeper.", "Puck")
    seconds = len(first) / (2 * OUTPUT_RATE)
    assert 0.5 < seconds < 4.0
    assert np.abs(np.frombuffer(first, "<i2")).max() > 8000


def test_synthesizer_without_espeak_uses_tones():
    synth = Synthesizer(espeak=None)
    assert synth.engine == "tones"
    assert synth.synthesize("abc def") == tone_sequence("abc def")


def test_a_faster_speech_rate_speaks_the_same_words_in_less_time():
    synth = Synthesizer()
    if synth.engine != "espeak-ng":
        pytest.fail("espeak-ng is part of the test environment (.ci/run installs it)")
    text = "You said the lighthouse count. My instructions begin with the dataset name."
    natural, fast = synth.synthesize(text, "Puck"), synth.synthesize(text, "Puck", 400)
    assert synth.synthesize(text, "Puck", 190) == natural  # the rate is part of the cache key
    assert len(fast) < 0.6 * len(natural)


@pytest.mark.parametrize("wpm", [79, 451, 300.0, True])
def test_speech_rate_outside_what_espeak_speaks_is_refused(wpm):
    from livechat.emulator.errors import EmulatorOptionsError
    from livechat.emulator.options import EmulatorOptions

    with pytest.raises(EmulatorOptionsError, match="speech_wpm"):
        EmulatorOptions(speech_wpm=wpm)
