"""The floors, checked from the imports (ast): handlers/kit → features → bot/ → storage/.

A feature module (handlers/<name>.py) imports the kit, bot/ and storage/, never another feature
(not even lazily inside a function); the kit imports no feature; storage/ imports nothing from
bot/ or handlers/; of bot/, only app.py (the wiring) imports handlers/ (and a channel bridge
the kit).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = sorted(p for p in (ROOT / "handlers").glob("*.py") if p.name != "__init__.py")


def imported(path: Path) -> set[str]:
    """Every module a file imports, anywhere in it (`from handlers import a` gives handlers.a)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def features_in(names: set[str]) -> set[str]:
    """The feature modules among imported names (handlers.<feature>, not the kit)."""
    return {n.split(".")[1] for n in names
            if n.startswith("handlers.") and n.split(".")[1] != "kit"
            and (ROOT / "handlers" / f"{n.split('.')[1]}.py").exists()}


def test_the_checker_sees_a_feature_import_even_inside_a_function(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from handlers import stats, charts as c\n"
                      "from handlers.kit import menu\n")
    assert features_in(imported(sample)) == {"stats", "charts"}


def test_there_are_features_and_a_kit() -> None:
    names = {p.stem for p in FEATURES}
    assert {"stats", "registration", "privacy", "fallback"} <= names
    assert (ROOT / "handlers" / "kit" / "answers.py").exists()


def test_no_feature_imports_another_feature() -> None:
    found = {p.stem: sorted(features_in(imported(p)) - {p.stem}) for p in FEATURES}
    assert {name: others for name, others in found.items() if others} == {}


def test_the_kit_imports_no_feature() -> None:
    found = {p.name: sorted(features_in(imported(p)))
             for p in (ROOT / "handlers" / "kit").glob("*.py")}
    assert {name: others for name, others in found.items() if others} == {}


def test_storage_imports_neither_bot_nor_handlers() -> None:
    found = {p.name: sorted(n for n in imported(p) if n.split(".")[0] in ("bot", "handlers"))
             for p in (ROOT / "storage").rglob("*.py")}
    assert {name: names for name, names in found.items() if names} == {}


def test_only_the_wiring_in_bot_imports_handlers() -> None:
    """bot/app.py wires the features; a channel bridge (bot/channels/) may read the kit's
    typed-answer registry, nothing else of handlers/."""
    found = {str(p.relative_to(ROOT)): sorted(n for n in imported(p)
                                              if n.split(".")[0] == "handlers")
             for p in (ROOT / "bot").rglob("*.py")}
    bridge_ok = {name for name, names in found.items() if name.startswith("bot/channels/")
                 and all(n.startswith("handlers.kit") for n in names)}
    assert {name: names for name, names in found.items()
            if names and name != "bot/app.py" and name not in bridge_ok} == {}
