"""Facts for the Settings & diagnostics page: installed versions of the libraries that matter,
and the memory the app uses against its limit."""

from __future__ import annotations

from importlib import metadata

from livechat.data.budget import MEMORY_LIMIT_ENV, format_gb, memory_limit_bytes
from livechat.procstat import pss_bytes, tree_pids

# The distributions whose versions explain most field reports about this app.
DIAGNOSTIC_PACKAGES: tuple[str, ...] = (
    "streamlit",
    "streamlit-webrtc",
    "google-genai",
    "av",
    "duckdb",
    "pandas",
)


def package_versions(names: tuple[str, ...] = DIAGNOSTIC_PACKAGES) -> dict[str, str]:
    """Map each distribution name to its installed version, or "not installed"."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def memory_sentence() -> str:
    """The Settings line on memory: the app's process tree (PSS) against its limit."""
    pids = tree_pids()
    return describe_memory(sum(pss_bytes(pid) for pid in pids), memory_limit_bytes(), len(pids))


def describe_memory(in_use: int, limit: int | None, processes: int) -> str:
    """``memory_sentence`` from its figures: ``in_use`` bytes held by ``processes``
    processes, against ``limit`` bytes (None: no limit)."""
    tree = "the app" if processes <= 1 else f"the app and its {processes - 1} helper process(es)"
    if limit is None:
        return (f"**Memory:** {format_gb(in_use)} used by {tree}; no limit set "
                f"(set {MEMORY_LIMIT_ENV} to refuse files that would not fit).")
    share = in_use / limit if limit else 0.0
    return (f"**Memory:** {format_gb(in_use)} of {format_gb(limit)} used by {tree} ({share:.0%}); "
            f"{format_gb(max(limit - in_use, 0))} free for new tables.")
