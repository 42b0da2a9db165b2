"""Register maps: the shipped ones are valid and complete, malformed ones fail clearly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger.errors import RegisterMapError
from custom_components.wallbox_modbus.charger.models import MODELS
from custom_components.wallbox_modbus.charger.registers import (
    MAPS_DIR,
    Rung,
    load_map,
    load_map_file,
    parse_map,
)

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
DERIVED = {"status", "vehicle_connected", "charging"}  # computed by the maps' derive rules


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
    wanted = set(EVERY + CATALOG.get(info.family, [])) - DERIVED
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


def test_discovery_host_names_come_from_the_map() -> None:
    """Only the Amperfied document names a DHCP host name; every variant shares it."""
    assert load_map("amperfied_connect").dhcp_hostnames == ("hdm-smart-connect-*",)
    assert load_map("vestel_evc04").dhcp_hostnames == ()
    assert load_map("compleo_duo_solo").dhcp_hostnames == ()
    solar = MODELS["amperfied_solar"]
    assert solar.announced_as("HDM-SMART-CONNECT-F431F2")
    assert solar.announced_as("hdm-smart-connect-f431f2")
    assert not solar.announced_as("hdm-smart-f431f2")
    assert not MODELS["vestel_evc04"].announced_as("hdm-smart-connect-f431f2")


def _point(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(p for p in data["points"] if p["key"] == key)


@pytest.mark.parametrize(
    ("mutate", "where", "code", "message"),
    [
        (lambda d: _point(d, "power").update(type="u24"), "point `power`", "unknown_choice",
         "`type` must be one of u16, s16"),
        (lambda d: _point(d, "power").pop("address"), "point `power`", "not_integer",
         "`address` must be a whole number from 0 to 65535, found nothing"),
        (lambda d: _point(d, "power").update(address=1025), "point `power`", "overlap",
         "overlaps point `power_l1`"),
        (lambda d: _point(d, "charging_current").pop("write"), "point `charging_current`",
         "write_without_access", "goes with access rw or w"),
        (lambda d: _point(d, "power").update(access="rw"), "point `power`", "input_read_only",
         "input registers are read only"),
        (lambda d: _point(d, "power").update(colour="red"), "point `power`", "unknown_fields",
         "unknown field(s) colour"),
        (lambda d: _point(d, "power").update(variants=["evc05"]), "point `power`",
         "unknown_choice", "found 'evc05'"),
        (lambda d: _point(d, "model").update(count=200), "point `model`", "not_integer",
         "`count` must be a whole number from 1 to 125, found 200"),
        (lambda d: _point(d, "power").update(scale=0), "point `power`", "not_positive",
         "`scale` must be above zero, found 0"),
        (lambda d: _point(d, "power").update(scale="ten"), "point `power`", "not_number",
         "`scale` must be a number, found 'ten'"),
        (lambda d: _point(d, "power").update(tier="hourly"), "point `power`", "unknown_choice",
         "found 'hourly'"),
        (lambda d: d["points"].append(dict(_point(d, "power"))), "point `power`", "duplicate",
         "defined twice"),
        (lambda d: d["trust"].update(rung="hardware-verified"), "trust", "no_evidence",
         "without evidence"),
        (lambda d: d["trust"].update(rung="gold"), "trust", "unknown_choice", "found 'gold'"),
        (lambda d: d.pop("document"), "map", "missing", "`document` is missing"),
        (lambda d: d["limit"].update(point="power"), "limit", "not_writable",
         "names point `power`, which is not writable"),
        (lambda d: d["limit"].update(point="nothing_here"), "limit", "unknown_point",
         "names point `nothing_here`"),
        (lambda d: d["keepalive"].update(kind="ping"), "keepalive", "unknown_choice",
         "`kind` must be one of write, traffic, rewrite"),
        (lambda d: d["derive"].update(status={"from": "status", "map": {"0": "idle"}}),
         "derive `status`", "unknown_status", "maps onto idle"),
        (lambda d: d.update(discovery={"dhcp": [{"hostname": "EVC04-*"}], "doc": "x"}),
         "discovery dhcp #1", "not_lower_case", "`hostname` must be in small letters"),
        (lambda d: d.update(discovery={"dhcp": [{"macaddress": "0060*"}], "doc": "x"}),
         "discovery dhcp #1", "unknown_fields", "unknown field(s) macaddress"),
        (lambda d: d.update(discovery={"dhcp": [{"hostname": "evc04-*"}]}),
         "discovery", "not_text", "`doc` must be text"),
        (lambda d: d.update(discovery={"zeroconf": ["_http._tcp.local."], "doc": "x"}),
         "discovery", "unknown_fields", "unknown field(s) zeroconf"),
    ],
)  # fmt: skip
def test_malformed_map_names_file_and_point(
    mutate: Any, where: str, code: str, message: str
) -> None:
    data = copy.deepcopy(raw_map("vestel_evc04"))
    mutate(data)
    with pytest.raises(RegisterMapError) as err:
        parse_map(data, Path("vestel_evc04.json"))
    assert (err.value.file, err.value.where, err.value.code) == ("vestel_evc04.json", where, code)
    assert str(err.value).startswith(f"vestel_evc04.json: {where}: ")
    assert message in str(err.value)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken_box.json"
    bad.write_text('{"family": ')
    with pytest.raises(RegisterMapError, match=r"^broken_box\.json: map: is not valid JSON"):
        load_map_file(bad)
