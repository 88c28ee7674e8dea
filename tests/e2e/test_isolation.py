"""Two analysts at once (issue 10.3): each browser session keeps its own dataset, audio and transcript.

Browser A keeps the sample dataset; browser B uploads a small CSV through the Data page
and reaches the Talk page through the sidebar (the same Streamlit session, so the upload
is kept). Each asks a different spoken question once and then stays quiet (so each
reply runs to its end and its transcript is whole), and both talk at the same time. The emulator's
records then show whose instruction and whose audio each session had, and each page must
show only its own conversation.
"""

from __future__ import annotations

import pytest

from tests.e2e import harness
from tests.e2e.harness import SAMPLE_NAME, instruction_text, squash, voice_sessions

pytestmark = pytest.mark.e2e

UPLOAD_NAME = "harbour_tides.csv"
UPLOAD_CSV = (
    "harbour,day,high_tide_m,boats_out\n"
    "Oban,Monday,4.1,12\nWick,Monday,3.2,7\nStromness,Tuesday,3.8,9\n"
    "Oban,Tuesday,4.4,15\nWick,Wednesday,2.9,4\n"
)
QUESTION_B = "Which harbour had the highest tide on Tuesday morning?"
MIN_OWN_CORRELATION = 0.6
# Each session's audio must look clearly more like its own question than the other's.
MIN_CORRELATION_MARGIN = 0.1


def _dataset_of(session: dict) -> str:
    first = instruction_text(session["effective_setup"]).split("\n", 1)[0]
    for name in (SAMPLE_NAME, UPLOAD_NAME):
        if f'"{name}"' in first:
            return name
    return first


def _finished_turn(session: dict) -> dict | None:
    return next((t for t in session["turns"] if t["output"] and not t["interrupted"] and t["kind"] == "audio"), None)


def test_two_browsers_at_once_never_cross(e2e_stack, browser_factory, single_question_wav, e2e_assets):
    emulator, app = e2e_stack.emulator, e2e_stack.app
    wav_a = single_question_wav
    wav_b = harness.make_speech_wav(e2e_assets, QUESTION_B, name="speech-b-single.wav", pad_before=2.0,
                                    pad_after=harness.QUIET_AFTER_S)
    upload = e2e_assets / UPLOAD_NAME
    upload.write_text(UPLOAD_CSV)
    envelopes = {SAMPLE_NAME: harness.wav_envelope(wav_a), UPLOAD_NAME: harness.wav_envelope(wav_b)}

    tab_a = browser_factory(wav_a).new_page()
    tab_b = browser_factory(wav_b).new_page()
    tab_a.open_talk(app.url)
    tab_b.goto(app.url, "/")
    tab_b.upload(upload)
    tab_b.model_view_instruction(UPLOAD_NAME)
    tab_b.navigate_to_talk()
    known = e2e_stack.session_ids()

    tab_a.start_voice()
    tab_b.start_voice()

    def both_answered(sessions: list[dict]) -> bool:
        mine = [s for s in voice_sessions(sessions) if s["id"] not in known]
        return len(mine) >= 2 and all(_finished_turn(s) for s in mine)

    sessions = emulator.wait_for(both_answered, timeout=60)
    mine = [s for s in voice_sessions(sessions) if s["id"] not in known]
    assert len(mine) == 2, harness.sessions_summary(mine)
    by_dataset = {_dataset_of(s): s for s in mine}
    assert set(by_dataset) == {SAMPLE_NAME, UPLOAD_NAME}, harness.sessions_summary(mine)

    # Audio: each session heard its own browser's question, not the other's.
    for name, session in by_dataset.items():
        other = UPLOAD_NAME if name == SAMPLE_NAME else SAMPLE_NAME
        own = harness.envelope_match(session["audio_in_envelope"], envelopes[name], looping=False)
        cross = harness.envelope_match(session["audio_in_envelope"], envelopes[other], looping=False)
        print(f"{name}: envelope correlation with its own question {own:.2f}, with the other's {cross:.2f}")
        assert own >= MIN_OWN_CORRELATION and own >= cross + MIN_CORRELATION_MARGIN, (
            f"{name}: correlation with its own question {own:.2f}, with the other browser's {cross:.2f}")
        assert session["audio_out_seconds"] > 0

    # Transcripts: each page shows its own reply whole, and nothing of the other's.
    for tab, name in ((tab_a, SAMPLE_NAME), (tab_b, UPLOAD_NAME)):
        other = UPLOAD_NAME if name == SAMPLE_NAME else SAMPLE_NAME
        own_reply = _finished_turn(by_dataset[name])["output"]
        other_reply = _finished_turn(by_dataset[other])["output"]
        transcript = squash(tab.wait_for_transcript(squash(own_reply), timeout_s=15))
        assert f'"{other}"' not in transcript
        assert squash(other_reply) not in transcript

    # Both browsers received reply audio on their own connection.
    for tab, name in ((tab_a, SAMPLE_NAME), (tab_b, UPLOAD_NAME)):
        samples = tab.energy_samples()
        assert samples and samples[-1].energy > 0, f"no reply audio reached the {name} browser"

    for tab in (tab_a, tab_b):
        tab.stop_voice()
    emulator.wait_for(lambda ss: all(s["ended"] for s in ss if s["id"] in {m["id"] for m in mine}), timeout=5)
