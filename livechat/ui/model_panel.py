"""What the app knows about the configured Live model, for the Settings and Data pages.

``model_facts`` (pure) turns the model's row of ``livechat.live.models`` into label/value
lines and notes; ``render_model_section`` shows them. An unknown ``GEMINI_MODEL`` is
accepted (the service may know models we do not) with a warning; a preview or legacy
model gets a one-line note. Script thread only.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from livechat.config import DEFAULT_MODEL, ConfigError
from livechat.live.models import ModelInfo, known_model, model_info
from livechat.ui import runtime

__all__ = ["ModelFacts", "configured_model", "model_facts", "render_model_section", "vocabulary_note"]


@dataclass(frozen=True)
class ModelFacts:
    """The Settings page's view of one model."""

    model: str
    known: bool
    lines: tuple[tuple[str, str], ...]
    warning: str | None  # unknown model
    note: str | None  # preview / legacy
    notes: tuple[str, ...]


def _voices(info: ModelInfo) -> str:
    return "30 classic voices and catalog ids (en-us-…)" if info.catalog_voices else "30 classic voices"


def model_facts(model: str) -> ModelFacts:
    """Status, rules and notes of ``model`` from the table (conservative rules when unknown)."""
    info = model_info(model)
    known = known_model(model) is not None
    tools = ("asynchronous (NON_BLOCKING by default; BLOCKING per tool; results scheduled)"
             if info.async_tools else "blocking (the model waits for each result)")
    lines = (
        ("Status", info.status_label + (" (the default)" if info.id == DEFAULT_MODEL else "")),
        ("Response", " + ".join(info.response_modalities) + "; text from output transcription"),
        ("Tool calls", tools),
        ("Thinking", {"unsupported": "not supported (never sent)",
                      "levels": "thinking level (not sent by this app)",
                      "budget": "thinking budget (not sent by this app)"}[info.thinking]),
        ("Voices", _voices(info)),
        ("Transcription vocabulary", "the dataset's column names and categories"
         if info.custom_vocabulary else "not supported: not sent"),
    )
    warning = None
    if not known:
        warning = (f"`{info.id}` is not in this app's table of tested models. It is used "
                   f"anyway (the service may know it) with conservative settings; if the "
                   f"service refuses it, the Talk page says so. Tested default: `{DEFAULT_MODEL}`.")
    note = None
    if info.status == "preview":
        note = f"`{info.id}` is a preview model: Google may change or retire it. The default is `{DEFAULT_MODEL}`."
    elif info.status == "legacy":
        note = f"`{info.id}` is a legacy preview since 3.8. The default is `{DEFAULT_MODEL}`."
    return ModelFacts(model=info.id, known=known, lines=lines, warning=warning, note=note,
                      notes=info.notes if known else ())


def vocabulary_note(model: str) -> str:
    """Whether the vocabulary below reaches ``model``, in one sentence."""
    info = model_info(model)
    if info.custom_vocabulary:
        return (f"Sent to `{info.id}` as the input transcription's custom vocabulary, so it "
                "recognises these words when you speak.")
    return f"Not sent: `{info.id}` does not take a custom vocabulary (only 3.8 models do)."


def configured_model() -> str:
    """``GEMINI_MODEL`` as configured (the default when the configuration is unusable)."""
    try:
        return runtime.service_config().model
    except ConfigError:
        return DEFAULT_MODEL


def render_model_section(model: str) -> None:
    """The Settings page's model section."""
    facts = model_facts(model)
    st.markdown("**Model rules** (from `livechat/live/models.py`):")
    st.markdown("\n".join(f"- {label}: {value}" for label, value in facts.lines))
    if facts.warning:
        st.warning(facts.warning)
    if facts.note:
        st.info(facts.note)
    for line in facts.notes:
        st.caption(line)
