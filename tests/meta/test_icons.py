"""Every icon the integration names exists in the Material Design Icons Home Assistant ships.

An icon name the frontend does not know shows as a blank square, and nothing
else checks it (hassfest validates the format of icons.json only).  The names
are checked against the list vendored next to this file (@mdi/svg 7.4.47, the
set both Home Assistant ends ship, see its header) and, where the frontend is
installed, against the frontend's own list too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "wallbox_modbus"
VENDORED = Path(__file__).with_name("mdi-7.4.47-icon-names.txt")


def vendored_names() -> set[str]:
    lines = VENDORED.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def frontend_names() -> set[str] | None:
    """The names in the installed frontend's icon list (None: no frontend here)."""
    spec = find_spec("hass_frontend")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "static" / "mdi" / "iconList.json"
    if not path.exists():
        return None
    return {icon["name"] for icon in json.loads(path.read_text(encoding="utf-8"))}


def icons_in(tree: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """(place, icon) for every string of icons.json."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from icons_in(value, f"{where}.{key}" if where else key)
    elif isinstance(tree, str):
        yield where, tree


ICONS = sorted(icons_in(json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))))


def test_the_vendored_list_is_the_whole_set() -> None:
    names = vendored_names()
    assert len(names) == 7447
    assert {"ev-station", "power-plug", "lock", "current-ac"} <= names
    assert "power-plug-lock" not in names  # it never existed (it showed blank)


def test_icons_json_has_icons() -> None:
    assert len(ICONS) > 20


@pytest.mark.parametrize(("where", "icon"), ICONS, ids=[where for where, _ in ICONS])
def test_icon_exists(where: str, icon: str) -> None:
    assert re.fullmatch(r"mdi:[a-z0-9]+(-[a-z0-9]+)*", icon), f"{where}: {icon}"
    name = icon.removeprefix("mdi:")
    assert name in vendored_names(), f"{where}: {icon} is not in MDI 7.4.47"
    installed = frontend_names()
    if installed is not None:
        assert name in installed, f"{where}: {icon} is not in the installed frontend"


def test_the_installed_frontend_ships_the_vendored_set() -> None:
    installed = frontend_names()
    if installed is None:
        pytest.skip("no Home Assistant frontend installed here")
    assert installed == vendored_names()


def test_icons_are_set_in_icons_json_only() -> None:
    """icon-translations: no icon is set in the code."""
    for path in INTEGRATION.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "mdi:" not in text, path.name
        assert not re.search(r"\b_attr_icon\b|\bicon=", text), path.name
