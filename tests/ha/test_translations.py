"""Static checks of manifest, strings, translations and icons (hassfest does not run here)."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.binary_sensor import BINARY_SENSORS
from custom_components.wallbox_modbus.button import BUTTONS, VERIFY_BUTTONS
from custom_components.wallbox_modbus.charger import MAP_MESSAGES, MODELS
from custom_components.wallbox_modbus.config_flow import MAP_PLACEHOLDERS
from custom_components.wallbox_modbus.lock import LOCKS
from custom_components.wallbox_modbus.number import NUMBERS
from custom_components.wallbox_modbus.select import SELECTS
from custom_components.wallbox_modbus.sensor import SENSORS
from custom_components.wallbox_modbus.switch import SWITCHES, TOGGLES

INTEGRATION = Path(__file__).resolve().parents[2] / "custom_components" / "wallbox_modbus"
PLATFORMS = {
    "binary_sensor": BINARY_SENSORS,
    "button": (*BUTTONS, *VERIFY_BUTTONS),
    "lock": LOCKS,
    "number": NUMBERS,
    "select": SELECTS,
    "sensor": SENSORS,
    "switch": (*SWITCHES, *TOGGLES),
}


def load(name: str) -> dict[str, Any]:
    """A JSON file of the integration."""
    data: dict[str, Any] = json.loads((INTEGRATION / name).read_text(encoding="utf-8"))
    return data


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every string of a nested dictionary, by dotted path."""
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(leaves(value, f"{path}."))
        else:
            out[path] = value
    return out


def placeholders(text: str) -> set[str]:
    """The {placeholders} of a string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_manifest() -> None:
    """hassfest's order (domain, name, then alphabetical) and a floor-only requirement."""
    manifest = load("manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "wallbox_modbus"
    assert manifest["name"] == "Wallbox Modbus"
    assert manifest["config_flow"] is True
    assert manifest["integration_type"] == "device"
    assert manifest["iot_class"] == "local_polling"
    assert manifest["version"] == "0.1.0"
    assert manifest["requirements"] == ["pymodbus>=3.8.3"]
    for requirement in manifest["requirements"]:
        assert not re.search(r"<|==|~=|!=", requirement), requirement


def test_strings_are_english_translation() -> None:
    """translations/en.json is strings.json."""
    assert load("strings.json") == load("translations/en.json")


@pytest.mark.parametrize("language", ["de"])
def test_translation_complete(language: str) -> None:
    """Every string is translated, with the same placeholders."""
    english = leaves(load("strings.json"))
    other = leaves(load(f"translations/{language}.json"))
    assert set(other) == set(english)
    for path, text in english.items():
        assert placeholders(other[path]) == placeholders(text), path
        assert other[path].strip(), path


def test_every_entity_is_translated() -> None:
    """Every description has a name, every enum state a translation, every key an icon or none."""
    strings = load("strings.json")["entity"]
    icons = load("icons.json")["entity"]
    for platform, descriptions in PLATFORMS.items():
        for description in descriptions:
            assert description.translation_key == description.key
            entry = strings[platform][description.key]
            assert entry["name"]
            options = getattr(description, "options", None)
            if options:
                assert set(entry["state"]) == set(options), description.key
        assert set(icons.get(platform, {})) <= {d.key for d in descriptions}
        assert set(strings[platform]) == {d.key for d in descriptions}


def test_translation_keys_are_valid() -> None:
    """Home Assistant's rule for translation keys (lower case, digits, - and _)."""
    pattern = re.compile(r"^[a-z0-9-_]+$")
    strings = load("strings.json")
    for platform in strings["entity"].values():
        for key, entry in platform.items():
            assert pattern.match(key), key
            for state in entry.get("state", {}):
                assert pattern.match(state), state
    for key in strings["exceptions"]:
        assert pattern.match(key), key


def test_config_flow_strings() -> None:
    """Every field has a label and a description; every model a name."""
    config = load("strings.json")["config"]
    for step in config["step"].values():
        assert set(step["data"]) == set(step["data_description"])
        for section in step.get("sections", {}).values():
            assert set(section["data"]) == set(section["data_description"])
    assert config["step"]["user"]["data"] == {"model": "Model"}
    # The model comes back on the details form after wrong_model or layout_too_old.
    assert set(config["step"]["details"]["data"]) == {"model", "host", "port", "unit_id"}
    assert set(config["step"]["dhcp_confirm"]["data"]) == {"model", "host", "port", "unit_id"}
    assert set(config["error"]) == {
        "cannot_connect",
        "timeout",
        "wrong_model",
        "layout_too_old",
        "modbus_error",
        "unknown",
        # reconfigure: another entry's address, another box
        "already_configured",
        "wrong_device",
        "map_gone",
        *(f"map_{code}" for code in MAP_MESSAGES),
    }
    for code in MAP_MESSAGES:  # a user map's mistakes: file, place and details
        assert placeholders(config["error"][f"map_{code}"]) <= set(MAP_PLACEHOLDERS), code
    options = load("strings.json")["options"]["step"]["init"]
    assert set(options["data"]) == set(options["data_description"]) == {"scan_interval"}
    # Model names are proper nouns from the maps: no translation to keep in step.
    assert "selector" not in load("strings.json")
    assert all(model.title for model in MODELS.values())


def test_exceptions_used_are_translated() -> None:
    """Every translation_key raised in the code is in the exceptions section."""
    exceptions = set(load("strings.json")["exceptions"])
    used: set[str] = set()
    for path in INTEGRATION.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'translation_domain=DOMAIN,\s*translation_key="([a-z_]+)"', text))
    assert used == exceptions
