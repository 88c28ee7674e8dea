"""The conversation as the analyst sees it: the transcript built from the session's events.

May import: voice, live and below.
"""

from livechat._exports import lazy_exports

_EXPORTS = {
    "Entry": "transcript",
    "EntryKind": "transcript",
    "Transcript": "transcript",
    "TranscriptError": "transcript",
    "ToolWork": "record",
    "Turn": "record",
    "turns": "record",
    "ReportContext": "report",
    "markdown_report": "report",
    "html_report": "report",
    "report_zip": "report",
    "RecordSnapshot": "saved",
    "record_snapshot": "saved",
    "transcript_from_saved": "saved",
    "new_conversation_id": "saved",
    "valid_conversation_id": "saved",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
