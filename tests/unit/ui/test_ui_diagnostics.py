"""livechat.ui.diagnostics: installed versions, and a clear answer for a missing one."""

from __future__ import annotations

from importlib import metadata

from livechat.ui.diagnostics import DIAGNOSTIC_PACKAGES, describe_memory, package_versions


def test_reports_the_installed_version_of_each_package() -> None:
    versions = package_versions()
    assert list(versions) == list(DIAGNOSTIC_PACKAGES)
    assert versions["streamlit"] == metadata.version("streamlit")
    assert versions["google-genai"] == metadata.version("google-genai")


def test_a_missing_package_says_not_installed() -> None:
    assert package_versions(("surely-not-a-real-distribution-xyz",)) == {
        "surely-not-a-real-distribution-xyz": "not installed"
    }


def test_the_memory_line_weighs_the_process_tree_against_the_limit() -> None:
    line = describe_memory(450_000_000, 2_700_000_000, 3)
    assert line == ("**Memory:** 450 MB of 2.7 GB used by the app and its 2 helper process(es) (17%); "
                    "2.2 GB free for new tables.")
    assert describe_memory(3_000_000_000, 2_700_000_000, 1).endswith("0 MB free for new tables.")


def test_without_a_limit_the_memory_line_says_how_to_set_one() -> None:
    line = describe_memory(300_000_000, None, 1)
    assert line.startswith("**Memory:** 300 MB used by the app; no limit set")
    assert "LIVECHAT_MEMORY_LIMIT_MB" in line
