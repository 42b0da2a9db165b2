"""Register maps: the shipped ones are valid and complete, malformed ones fail clearly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from charger.errors import RegisterMapError
from charger.models import MODELS
from charger.registers import MAPS_DIR, Rung, load_map, load_map_file, parse_map

ROOT = Path(__file__).resolve().parents[2]
MAP_NAMES = sorted(p.stem for p in MAPS_DIR.glob("*.json"))

# Keys the entity catalog (shared/spec/entities.md) lists per family: a contract.
EVERY = [
    "status", "vehicle_connected", "charging", "power", "current_l1", "current_l2",
    "current_l3", "voltage_l1", "voltage_l2", "voltage_l3", "energy_session",
    "charging_current",
]  # fmt: skip
CATALOG = {
    "vestel": [
        "energy_total", "cable_state", "equipment_state", "fault_code", "power_l1", "power_l2",
        "power_l3", "session_duration", "phases", "rated_power", "evse_min_current",
        "evse_max_current", "cable_max_current", "session_max_current", "failsafe_current",
        "failsafe_timeout",
    ],
    "amperfied": [
        "energy_total", "energy_since_power_on", "temperature", "external_lock", "remote_lock",
        "hw_max_current", "hw_min_current", "layout_version", "failsafe_current",
        "watchdog_timeout", "phase_switch", "phase_switch_state", "mid_energy_total",
    ],
    "compleo": [
        "station_max_power", "fallback_power", "fallback_timeout", "station_power",
        "connectors", "max_power", "status", "error_code", "status_word", "power",
        "current_l1", "current_l2", "current_l3", "voltage_l1", "voltage_l2", "voltage_l3",
        "session_duration", "energy_session", "derating",
    ],
}  # fmt: skip
DERIVED = {"status", "vehicle_connected", "charging"}  # computed by the family module


def raw_map(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MAPS_DIR / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("name", MAP_NAMES)
def test_shipped_map_loads_and_names_its_document(name: str) -> None:
    regmap = load_map(name)
    assert regmap.document["revision"]
    assert (ROOT.parent / "shared" / "seeds").exists() is False or (
        ROOT.parent / "shared" / "seeds" / regmap.document["file"]
    ).exists()
    assert len(regmap.points) > 10


@pytest.mark.parametrize("name", MAP_NAMES)
def test_rung_is_backed_by_tests_that_exist(name: str) -> None:
    """A map claims a rung only with the tests that earn it; CI runs them."""
    regmap = load_map(name)
    assert regmap.rung.level < Rung.HARDWARE_VERIFIED.level, "needs a report from a real box"
    for rung in list(Rung)[1 : regmap.rung.level + 1]:
        for ref in regmap.evidence[rung.value]:
            path, _, test = ref.partition("::")
            file = ROOT / path
            assert file.exists(), f"{name}: evidence {ref} missing"
            if test:
                func = test.split("[")[0]
                assert re.search(rf"def {func}\b", file.read_text()), ref
                param = test.partition("[")[2].rstrip("]")
                assert not param or param == name, f"{ref} is evidence for another map"


@pytest.mark.parametrize("model", sorted(MODELS))
def test_catalog_keys_exist_in_the_map(model: str) -> None:
    info = MODELS[model]
    regmap = load_map(info.map_name)
    keys = {p.key for p in regmap.available_points(info.variant, None)}
    keys |= {bit for p in regmap.points for bit in (p.bits or {})}
    wanted = set(EVERY + CATALOG[info.family]) - DERIVED
    if info.family == "amperfied" and info.variant != "solar":
        wanted -= {"phase_switch", "phase_switch_state"}
    if info.family == "compleo":
        wanted -= {"charging_current"}  # converted to max_power by the family module
    assert wanted <= keys, sorted(wanted - keys)


def test_amperfied_availability_follows_layout_and_variant() -> None:
    regmap = load_map("amperfied_connect")
    home_108 = {p.key for p in regmap.available_points("home", (1, 0, 8))}
    home_200 = {p.key for p in regmap.available_points("home", (2, 0, 0))}
    business = {p.key for p in regmap.available_points("business", (2, 0, 0))}
    solar = {p.key for p in regmap.available_points("solar", (2, 0, 1))}
    assert "energy_session" not in home_108 and "energy_session" in home_200
    assert "serial_number" not in home_108 and "serial_number" in business
    assert "mid_current_l1" in business and "mid_current_l1" not in solar
    assert "phase_switch" in solar and "phase_switch" not in business
    assert "rfid_uid" not in home_108


def _broken(name: str, mutate: Any) -> str:
    data = copy.deepcopy(raw_map(name))
    mutate(data)
    with pytest.raises(RegisterMapError) as err:
        parse_map(data, Path(f"{name}.json"))
    return str(err.value)


def _point(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in data["points"] if p["key"] == key)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: _point(d, "power").update(type="u24"), "point 'power': unknown type 'u24'"),
        (lambda d: _point(d, "power").pop("address"), "point 'power': 'address' must be"),
        (lambda d: _point(d, "power").update(address=1025), "overlaps 'power_l1'"),
        (lambda d: _point(d, "charging_current").pop("write"), "point 'charging_current'"),
        (lambda d: _point(d, "power").update(access="rw"), "input registers are read only"),
        (lambda d: _point(d, "power").update(colour="red"), "unknown field(s) ['colour']"),
        (lambda d: _point(d, "power").update(variants=["evc05"]), "unknown variant 'evc05'"),
        (lambda d: _point(d, "model").update(count=200), "'count' must be an integer 1..125"),
        (lambda d: _point(d, "power").update(scale=0), "'scale' must be a positive number"),
        (lambda d: _point(d, "power").update(tier="hourly"), "unknown tier 'hourly'"),
        (lambda d: d["points"].append(dict(_point(d, "power"))), "defined twice"),
        (lambda d: d["trust"].update(rung="hardware-verified"), "without evidence"),
        (lambda d: d["trust"].update(rung="gold"), "unknown rung 'gold'"),
        (lambda d: d.pop("document"), "missing 'document'"),
    ],
)
def test_malformed_map_names_file_and_point(mutate: Any, message: str) -> None:
    text = _broken("vestel_evc04", mutate)
    assert text.startswith("vestel_evc04.json: ")
    assert message in text


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken_box.json"
    bad.write_text('{"family": ')
    with pytest.raises(RegisterMapError, match=r"^broken_box\.json: not valid JSON"):
        load_map_file(bad)
