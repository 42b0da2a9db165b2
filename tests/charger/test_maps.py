"""Register maps: the shipped ones are valid and complete, malformed ones fail clearly."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger.errors import RegisterMapError
from custom_components.wallbox_modbus.charger.evidence import (
    evidence_path,
    evidence_problems,
    load_report,
)
from custom_components.wallbox_modbus.charger.models import MODELS, models_of
from custom_components.wallbox_modbus.charger.registers import (
    MAPS_DIR,
    Rung,
    load_map,
    load_map_file,
    parse_map,
)
from simulators.lies import LIES

from .checkrun import box

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
    tested = min(regmap.rung.level, Rung.INTEROPERABLE.level)
    for rung in list(Rung)[1 : tested + 1]:
        for ref in regmap.evidence[rung.value]:
            path, _, test = ref.partition("::")
            file = ROOT / path
            assert file.exists(), f"{name}: evidence {ref} missing"
            if test:
                func = test.split("[")[0]
                assert re.search(rf"def {func}\b", file.read_text()), ref
                param = test.partition("[")[2].rstrip("]")
                assert not param or param == name, f"{ref} is evidence for another map"


@pytest.mark.parametrize("name", MAP_NAMES)
def test_hardware_verified_is_backed_by_reports(name: str) -> None:
    """hardware-verified only for firmware whose committed report confirms the map as it is."""
    regmap = load_map(name)
    assert evidence_problems(regmap) == []
    assert (regmap.rung is Rung.HARDWARE_VERIFIED) == bool(regmap.hardware_verified)


def _claiming(tmp_path: Path, firmware: str = "v3.187.0") -> Path:
    """A copy of the Vestel map that claims hardware-verified for a firmware."""
    data = raw_map("vestel_evc04")
    data["trust"]["rung"] = "hardware-verified"
    data["trust"]["hardware_verified"] = [
        {"firmware": firmware, "report": f"evidence/vestel_claim/{firmware}.json"}
    ]
    path = tmp_path / "vestel_claim.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def test_a_claim_holds_only_with_a_confirming_report(tmp_path: Path) -> None:
    """No report: the claim fails; the report of a correct box: it holds; others: it fails."""
    regmap = load_map_file(_claiming(tmp_path))
    where = "vestel_claim: evidence/vestel_claim/v3.187.0.json"
    assert evidence_problems(regmap) == [f"{where}: no such report"]
    report_file = tmp_path / evidence_path(regmap, "v3.187.0")
    report_file.parent.mkdir(parents=True)
    (model,) = models_of(regmap)

    async with box(model) as b:
        confirming = (await b.check()).data
    report_file.write_text(json.dumps(confirming), encoding="utf-8")
    assert evidence_problems(regmap) == []

    lie = LIES["energy_scale_10"]
    async with box(model, lie=lie) as b:
        lying = (await b.check()).data
    report_file.write_text(json.dumps(lying), encoding="utf-8")
    assert evidence_problems(regmap) == [f"{where}: contradicts energy_total"]

    async with box(model) as b:
        b.sim.bank.set("firmware", "v3.190.2")
        b.charger.identity = None
        other = (await b.check()).data
    report_file.write_text(json.dumps(other), encoding="utf-8")
    assert evidence_problems(regmap) == [f"{where}: made on firmware 'v3.190.2', not 'v3.187.0'"]

    report_file.write_text(json.dumps(confirming), encoding="utf-8")
    changed = raw_map("vestel_evc04") | {"trust": json.loads(
        (tmp_path / "vestel_claim.json").read_text())["trust"]}  # fmt: skip
    _point(changed, "energy_total")["scale"] = 0.01
    (tmp_path / "vestel_claim.json").write_text(json.dumps(changed), encoding="utf-8")
    assert evidence_problems(load_map_file(tmp_path / "vestel_claim.json")) == [
        f"{where}: the map's points changed since the report was made"
    ]


async def test_a_report_without_the_points_read_does_not_confirm(tmp_path: Path) -> None:
    """A report that did not see the identity and settings confirms nothing."""
    regmap = load_map_file(_claiming(tmp_path))
    (model,) = models_of(regmap)
    async with box(model) as b:
        await b.sim.stop()  # the box is gone after identifying itself
        blind = (await b.check()).data
    report_file = tmp_path / evidence_path(regmap, "v3.187.0")
    report_file.parent.mkdir(parents=True)
    report_file.write_text(json.dumps(blind), encoding="utf-8")
    (problem,) = evidence_problems(regmap)
    assert problem.startswith("vestel_claim: evidence/vestel_claim/v3.187.0.json: does not confirm")
    assert "serial_number" in problem and "cable_state" in problem


def test_a_report_is_taken_from_a_diagnostics_download(tmp_path: Path) -> None:
    report = {"kind": "wallbox_modbus.verification", "format": 1}
    download = tmp_path / "download.json"
    download.write_text(json.dumps({"home_assistant": {}, "data": {"verification_report": report}}))
    assert load_report(download) == report
    download.write_text(json.dumps({"data": {"verification_report": None}}))
    with pytest.raises(ValueError, match="no verification report"):
        load_report(download)


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
        (lambda d: d["trust"].update(
            hardware_verified=[{"firmware": "1", "report": "evidence/x/1.json"}]),
         "trust", "verified_below_rung", "lists reports, but the rung is interoperable"),
        (lambda d: d["trust"].update(rung="hardware-verified", hardware_verified=[
            {"firmware": "1", "report": "../evidence/1.json"}]),
         "trust.hardware_verified #1", "bad_report_path", "evidence/<map>/<firmware>.json"),
        (lambda d: d["trust"].update(colour="gold"), "trust", "unknown_fields", "colour"),
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
