"""Community Cloud's own files: ``packages.txt`` installs what the offline emulator speaks with."""

from __future__ import annotations

from pathlib import Path

from livechat.emulator.voice import Synthesizer

REPO = Path(__file__).resolve().parents[2]


def test_packages_txt_installs_the_emulators_voice() -> None:
    packages = (REPO / "packages.txt").read_text(encoding="utf-8").split()
    program = Synthesizer(espeak="espeak-ng").engine  # the program the emulator runs
    assert program in packages  # Debian's package has the program's name

