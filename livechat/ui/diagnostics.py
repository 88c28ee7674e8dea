"""Facts for the Settings & diagnostics page: installed versions of the libraries that matter."""

from __future__ import annotations

from importlib import metadata

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
