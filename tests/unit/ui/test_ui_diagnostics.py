"""livechat.ui.diagnostics: installed versions, and a clear answer for a missing one."""

from __future__ import annotations

from importlib import metadata

from livechat.ui.diagnostics import DIAGNOSTIC_PACKAGES, package_versions


def test_reports_the_installed_version_of_each_package() -> None:
    versions = package_versions()
    assert list(versions) == list(DIAGNOSTIC_PACKAGES)
    assert versions["streamlit"] == metadata.version("streamlit")
    assert versions["google-genai"] == metadata.version("google-genai")


def test_a_missing_package_says_not_installed() -> None:
    assert package_versions(("surely-not-a-real-distribution-xyz",)) == {
        "surely-not-a-real-distribution-xyz": "not installed"
    }
