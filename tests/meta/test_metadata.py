"""Metadata checked the way hassfest and HACS validation would.

hassfest lives only in Home Assistant's core repository and cannot be installed
here, so its rules that matter for a custom integration are restated: manifest
keys and order, a floor-only pymodbus requirement, strings.json mirrored in
translations/en.json, every translation key present in both languages with
the same placeholders, every translation_key the code uses present in the
strings, icons only for known entities, a valid hacs.json and a brand icon.
"""

from __future__ import annotations

import ast
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "wallbox_modbus"
PLATFORMS = ("binary_sensor", "lock", "number", "select", "sensor", "switch")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def flatten(tree: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(tree, dict):
        out: dict[str, str] = {}
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else key))
        return out
    return {prefix: str(tree)}


STRINGS = load(INTEGRATION / "strings.json")
EN = load(INTEGRATION / "translations" / "en.json")
DE = load(INTEGRATION / "translations" / "de.json")


def test_manifest_as_hassfest_wants_it() -> None:
    manifest = load(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest: domain, name, then alphabetical"
    assert manifest["domain"] == "wallbox_modbus" == INTEGRATION.name
    for key in ("codeowners", "config_flow", "documentation", "iot_class", "issue_tracker"):
        assert key in manifest
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "device"
    assert manifest["iot_class"] == "local_polling"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"]), "HACS needs a version"
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    # pymodbus logs come from our use of it: Home Assistant names the integration with them
    assert manifest["loggers"] == ["custom_components.wallbox_modbus", "pymodbus"]


def test_requirements_declare_a_floor_only() -> None:
    """Home Assistant forces its own pymodbus pin: anything but a floor breaks loading."""
    requirements = load(INTEGRATION / "manifest.json")["requirements"]
    assert requirements == ["pymodbus>=3.8.3"]
    for req in requirements:
        assert not re.search(r"==|<|~=|!=", req)


def test_hacs_json() -> None:
    hacs = load(ROOT / "hacs.json")
    allowed = {
        "name", "content_in_root", "zip_release", "filename", "hide_default_branch",
        "country", "homeassistant", "hacs", "persistent_directory", "render_readme",
    }  # fmt: skip
    assert set(hacs) <= allowed
    assert hacs["name"] == "Wallbox Modbus"
    assert re.fullmatch(r"20\d\d\.\d+\.\d+", hacs["homeassistant"])
    assert tuple(int(p) for p in hacs["homeassistant"].split(".")) <= (2025, 4, 0)
    assert not hacs.get("content_in_root", False)
    assert (ROOT / "README.md").exists()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_brand_icons() -> None:
    assert _png_size(INTEGRATION / "brand" / "icon.png") == (256, 256)
    assert _png_size(INTEGRATION / "brand" / "icon@2x.png") == (512, 512)


def test_english_translation_mirrors_strings() -> None:
    assert EN == STRINGS


def test_german_has_every_key_and_nothing_else() -> None:
    en, de = flatten(STRINGS), flatten(DE)
    assert sorted(set(en) - set(de)) == []
    assert sorted(set(de) - set(en)) == []


@pytest.mark.parametrize("path", sorted(flatten(STRINGS)))
def test_placeholders_match_between_languages(path: str) -> None:
    en, de = flatten(STRINGS)[path], flatten(DE)[path]
    assert de.strip(), f"{path}: empty German text"
    assert set(re.findall(r"\{(\w+)\}", en)) == set(re.findall(r"\{(\w+)\}", de)), path


def _translation_keys(source: Path) -> tuple[list[str], list[str]]:
    """(entity keys, exception keys): translation_key literals, told apart by the call
    that carries them (an ...Error/...Exception constructor, or anything else)."""
    entity: list[str] = []
    exception: list[str] = []
    for node in ast.walk(ast.parse(source.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        for kw in node.keywords:
            value = kw.value
            if (
                kw.arg == "translation_key"
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                is_error = name.endswith(("Error", "Exception", "Failed", "NotReady"))
                (exception if is_error else entity).append(value.value)
    return entity, exception


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_entity_translation_key_is_translated(platform: str) -> None:
    source = INTEGRATION / f"{platform}.py"
    if not source.exists():
        pytest.skip(f"no {platform} platform")
    keys, _ = _translation_keys(source)
    assert keys, f"{platform}.py declares no translation keys"
    names = STRINGS.get("entity", {}).get(platform, {})
    missing = [k for k in keys if "name" not in names.get(k, {})]
    assert missing == []


def test_every_exception_translation_key_is_translated() -> None:
    exceptions = STRINGS.get("exceptions", {})
    for source in INTEGRATION.glob("*.py"):
        _, keys = _translation_keys(source)
        missing = [k for k in keys if k not in exceptions]
        assert missing == [], f"{source.name}: {missing}"


def test_config_flow_errors_and_aborts_are_translated() -> None:
    text = (INTEGRATION / "config_flow.py").read_text()
    errors = set(re.findall(r'errors\[[^\]]+\]\s*=\s*"(\w+)"', text))
    errors |= set(re.findall(r'"base":\s*"(\w+)"', text))
    aborts = set(re.findall(r'async_abort\(\s*reason="(\w+)"', text))
    config = STRINGS["config"]
    assert errors, "no errors found in config_flow.py"
    assert sorted(errors - set(config.get("error", {}))) == []
    for reason in aborts:
        assert reason in config.get("abort", {}), reason


def test_every_config_field_has_a_description() -> None:
    for flow in ("config", "options"):
        for step_id, step in STRINGS.get(flow, {}).get("step", {}).items():
            data = set(step.get("data", {}))
            described = set(step.get("data_description", {}))
            assert data <= described, f"{flow}.{step_id}: {sorted(data - described)}"


def test_icons_refer_to_translated_entities() -> None:
    icons = load(INTEGRATION / "icons.json")
    for platform, entries in icons.get("entity", {}).items():
        for key in entries:
            assert key in STRINGS["entity"].get(platform, {}), f"icon for unknown {platform}.{key}"


def test_blueprint_uses_only_catalog_entities() -> None:
    text = (
        ROOT / "blueprints" / "automation" / "wallbox_modbus" / "solar_surplus_charging.yaml"
    ).read_text()
    assert "integration: wallbox_modbus" in text
    for action in re.findall(r"action: (\w+\.\w+)", text):
        assert action in {"number.set_value", "switch.turn_on", "switch.turn_off"}
