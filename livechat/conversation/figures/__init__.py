"""Every number checked: each figure a reply says, matched against the data it was given.

``spoken`` finds the figures (digits, and words through ``text2num``), ``evidence``
collects what the model was given (tool results of the turn and the two before it, the
instruction's data summary), ``matching`` finds each figure's best support (exact,
rounded, derived, or none), ``check`` ties them to the transcript and words the result.
Plain data in and out; no Streamlit, no I/O.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "Spoken": "spoken",
    "find_figures": "spoken",
    "Evidence": "evidence",
    "EvidenceSet": "evidence",
    "summary_evidence": "evidence",
    "tool_evidence": "evidence",
    "Mark": "matching",
    "match_figures": "matching",
    "FigureCheck": "check",
    "check_answer": "check",
    "check_transcript": "check",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
