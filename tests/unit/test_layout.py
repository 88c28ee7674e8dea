"""The folder tree is the data flow: every import in livechat/ points down the flow.

The README's Layout table is the map; this test keeps it true. Ranks follow the flow of
shared/DESIGN.md (load → summarize → token/live session ↔ voice bridge ↔ browser, tools
beside the session). A module may import its own package and packages of a lower rank,
never a sibling of the same rank or anything above it. The emulator is a separate
program: it imports nothing of the product, and only the UI's runtime (which starts it
for the offline mode) imports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "livechat"

# Cross-cutting helpers at the top of livechat/: rank 0, import only each other.
CROSS_CUTTING = {"config", "redact", "procstat", "_exports", "managed_turn", "allocators"}
RANKS = {
    "store": 1,  # what outlives a process: plain rows and bytes, imports no stage
    "access": 1,  # who is asking and may they: identity and rules, imports no stage
    "data": 1,
    "summary": 2,
    "audio": 2,
    "tools": 3,
    "live": 3,
    "voice": 4,
    "usage": 4,  # budgets: a session's guard (live) counted in the store
    "conversation": 5,
    "ui": 6,
}
EMULATOR_IMPORTERS = {"livechat.ui.runtime"}


def _unit(parts: list[str]) -> str:
    """The package (or cross-cutting module) a dotted livechat name belongs to."""
    return parts[1] if len(parts) > 1 else ""


def _rank(unit: str) -> int:
    if unit in CROSS_CUTTING:
        return 0
    if unit in RANKS:
        return RANKS[unit]
    raise AssertionError(f"livechat.{unit} is neither a stage package nor a cross-cutting module: add it to the map")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, package: str = "") -> list[tuple[int, str]]:
    """Absolute names of what *path* imports; relative imports resolve against *package*."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return [(line, name) for line, name in found if name == "livechat" or name.startswith("livechat.")]


def _violations() -> list[str]:
    bad: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        parts = module.split(".")
        here = _unit(parts)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for line, target in _imports(path, package):
            tparts = target.split(".")
            there = _unit(tparts)
            where = f"{path.relative_to(ROOT.parent)}:{line}: {module} imports {target}"
            if not here:  # the package root runs first on any import: cross-cutting helpers only
                if there and there not in CROSS_CUTTING:
                    bad.append(f"{where} (the package root imports only cross-cutting helpers)")
                continue
            if here == "emulator":
                if there != "emulator":
                    bad.append(f"{where} (the emulator imports nothing of the product)")
                continue
            if there == "emulator":
                if module not in EMULATOR_IMPORTERS:
                    bad.append(f"{where} (only {sorted(EMULATOR_IMPORTERS)} may start the emulator)")
                continue
            if not there or there == here or {here, there} <= CROSS_CUTTING:
                continue
            if _rank(there) >= _rank(here):
                bad.append(f"{where} (rank {_rank(there)} is not below rank {_rank(here)})")
    return bad


def test_imports_point_down_the_flow() -> None:
    assert _violations() == []


def test_every_top_level_entry_is_mapped() -> None:
    entries = {p.stem if p.suffix == ".py" else p.name for p in ROOT.iterdir()
               if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    assert entries == CROSS_CUTTING | set(RANKS) | {"emulator"}


@pytest.mark.parametrize("source, expected", [
    ("from livechat.ui.state import X\n", "livechat.ui.state"),
    ("import livechat.voice.bridge\n", "livechat.voice.bridge"),
    ("from livechat import ui\n", "livechat.ui"),
    ("from .handshake import x\n", "livechat.emulator.handshake"),
    ("from .. import config\n", "livechat.config"),
])
def test_the_walker_sees_each_import_form(tmp_path: Path, source: str, expected: str) -> None:
    # A checker that missed an import form would pass any tree; prove each form is seen.
    file = tmp_path / "m.py"
    file.write_text(source)
    assert expected in [name for _, name in _imports(file, "livechat.emulator")]


def test_an_upward_import_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "livechat"
    (fake / "live").mkdir(parents=True)
    (fake / "live" / "__init__.py").write_text("")
    (fake / "live" / "bad.py").write_text("from livechat.ui.state import CurrentDataset\n")
    monkeypatch.setattr(f"{__name__}.ROOT", fake)
    assert any("livechat.live.bad imports livechat.ui.state" in v for v in _violations())
