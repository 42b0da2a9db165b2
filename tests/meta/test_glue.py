"""The Home Assistant glue builds entities from capabilities and descriptions only.

Read from the source, not imported: no module of the glue imports a module of
the device layer other than its package (where the families would live), no
platform or ``entity.py`` names a family or a family's model, variant or map, and
none looks a register up by a literal key (``snapshot.get("charging_state")``,
``charger.point("max_power")``): a description's key is the catalog's word, and
the device layer maps it onto registers.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "wallbox_modbus"
MAPS = INTEGRATION / "charger" / "maps"
GLUE = sorted(p for p in INTEGRATION.glob("*.py"))
PLATFORM_NAMES = {
    "binary_sensor",
    "button",
    "event",
    "lock",
    "number",
    "select",
    "sensor",
    "switch",
}
PLATFORMS_AND_ENTITY = [p for p in GLUE if p.stem in PLATFORM_NAMES | {"entity"}]
# Calls that would look a register or value up by its key.
LOOKUPS = {"point", "find", "has", "serves", "get", "setting", "limit", "write_setting"}


def family_words() -> set[str]:
    """Every family, manufacturer, model and map name of the shipped maps (lower case).

    A variant alone ("home", "solo") is an ordinary word; with its family it is a model.
    """
    words: set[str] = set()
    for path in MAPS.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        words |= {data["family"], path.stem, str(data.get("manufacturer", ""))}
        for variant, spec in data["variants"].items():
            words.add(spec.get("model_id", f"{data['family']}_{variant}"))
    return {w.lower() for w in words if w}


def names_in(tree: ast.AST) -> list[tuple[int, str]]:
    """Every identifier and string literal, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.Attribute):
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.lineno, node.name))
        elif isinstance(node, ast.alias):
            found.append((getattr(node, "lineno", 0), node.asname or node.name))
    return found


def test_the_checks_see_the_glue() -> None:
    """The scan covers the platforms, and knows every family of the maps."""
    assert {p.stem for p in PLATFORMS_AND_ENTITY} >= {"sensor", "number", "switch", "entity"}
    assert {"vestel", "amperfied", "compleo", "compleo_duo"} <= family_words()


@pytest.mark.parametrize("path", GLUE, ids=lambda p: p.name)
def test_glue_imports_the_device_layer_as_a_package(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            assert not node.module.startswith("charger."), (
                f"{path.name}:{node.lineno} imports {node.module}: use the package's exports"
            )


@pytest.mark.parametrize("path", PLATFORMS_AND_ENTITY, ids=lambda p: p.name)
def test_platforms_name_no_family(path: Path) -> None:
    words = family_words()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for line, name in names_in(tree):
        lowered = name.lower()
        hits = [w for w in words if w in lowered]
        assert not hits, f"{path.name}:{line}: {name!r} names {hits}"
        assert not (name.endswith("Charger") and name != "Charger"), f"{path.name}:{line}: {name}"


@pytest.mark.parametrize("path", PLATFORMS_AND_ENTITY, ids=lambda p: p.name)
def test_platforms_look_no_register_up_by_key(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        literal = next(
            (a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)),
            None,
        )
        assert node.func.attr not in LOOKUPS or literal is None, (
            f"{path.name}:{node.lineno}: {node.func.attr}({literal.value!r}) looks a key up"
            if literal is not None
            else ""
        )


def test_the_scan_catches_a_family_check(tmp_path: Path) -> None:
    """The checks can fail: a platform asking for a family class is caught."""
    bad = ast.parse(
        "from .charger.amperfied import AmperfiedCharger\n"
        "def f(charger):\n"
        "    return isinstance(charger, AmperfiedCharger) and charger.point('remote_lock')\n"
    )
    names = {name for _, name in names_in(bad)}
    assert any("amperfied" in n.lower() for n in names)
    calls = [
        n for n in ast.walk(bad) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert any(c.func.attr in LOOKUPS for c in calls)  # type: ignore[attr-defined]
    imports = [n for n in ast.walk(bad) if isinstance(n, ast.ImportFrom)]
    assert imports[0].module == "charger.amperfied" and imports[0].level == 1
