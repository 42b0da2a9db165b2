"""The check of a box against its map, over TCP against the simulators, on a fake clock.

The correct simulators come out confirmed for everything they show; simulators
that get the map wrong on purpose (``simulators/lies.py``) are called
contradicted, point by point, with what the mistake looks like.  Without the
opt-in the run writes nothing but the box's keepalive; with it, it writes the
limit, reads it back and restores it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger import (
    CONTRADICTION_CODES,
    MODELS,
    ChargerConnectionError,
)
from custom_components.wallbox_modbus.charger.checks import Kind, Needs, Status, make_plan
from custom_components.wallbox_modbus.charger.verify import Report
from simulators.lies import LIES

from .checkrun import Box, box

# Not observed although a car charges: the box showed nothing to judge there.
NOTHING_SHOWN = {"empty", "zero", "timeout_off", "write_test_not_requested"}


def statuses(report: Report) -> dict[str, str]:
    return {pid: p["status"] for pid, p in report.data["points"].items() if p["on_box"]}


def contradicted(report: Report) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for finding in report.contradictions:
        for point in finding.points:
            found.setdefault(point, set()).add(finding.code)
    return found


def stayed_zero(report: Report, point_id: str) -> bool:
    seen = report.data["points"][point_id].get("seen", {})
    return seen.get("min") == 0 and seen.get("max") == 0


# ---------------------------------------------------------------- correct boxes


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_a_correct_box_is_confirmed_while_charging(model: str) -> None:
    """Nothing contradicted; every check that could see something confirms."""
    async with box(model) as b:
        report = await b.check()
    assert contradicted(report) == {}
    assert report.verdict == "confirmed", report.data["summary"]
    assert report.data["run"]["charging_seen"] is True
    for finding in report.findings:
        if finding.status is Status.NOT_OBSERVED:
            assert finding.code in NOTHING_SHOWN or all(
                stayed_zero(report, p) for p in finding.points
            ), (finding.points, finding.message)
    electrical = {Kind.CURRENT, Kind.POWER, Kind.ENERGY, Kind.DURATION, Kind.VOLTAGE}
    judged = [f for f in report.findings if f.kind in electrical]
    assert judged and all(
        f.status is Status.CONFIRMED
        for f in judged
        if not all(stayed_zero(report, p) for p in f.points)
    )


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_a_correct_box_is_confirmed_without_charging(model: str) -> None:
    """With no car, what needs charging is not observed, and the rest is confirmed."""
    async with box(model, plug=False) as b:
        report = await b.check()
    assert contradicted(report) == {}
    assert report.verdict == "confirmed"
    assert report.data["run"]["charging_seen"] is False
    waiting = report.data["summary"]["needs"]
    assert set(waiting) <= {str(Needs.CHARGING), str(Needs.WRITE)}
    for finding in report.findings:
        if finding.status is Status.NOT_OBSERVED:
            assert finding.needs is not Needs.READING or finding.code in NOTHING_SHOWN, (
                finding.points,
                finding.message,
            )


# ---------------------------------------------------------------- boxes that lie


@pytest.mark.parametrize("name", sorted(LIES))
async def test_a_lie_is_contradicted(name: str) -> None:
    """Each mistake is contradicted where it is, with what it looks like; nothing else is."""
    lie = LIES[name]
    async with box(lie.model, lie=lie) as b:
        report = await b.check()
    assert report.verdict == "contradicted"
    found = contradicted(report)
    assert set(found) == set(lie.expect), found
    for point, code in lie.expect.items():
        assert code in found[point], (point, found[point])
        assert statuses(report)[point] == "contradicted"
    # The values seen are in the report, to be read beside the document; Home Assistant
    # has a repair text for the code.
    for finding in report.contradictions:
        assert finding.message and "?" not in finding.message, finding.message
        assert finding.code in CONTRADICTION_CODES


async def test_ten_times_too_large_says_so() -> None:
    """'register 1036 looks 10x too large for this firmware'."""
    lie = LIES["energy_scale_10"]
    async with box(lie.model, lie=lie) as b:
        report = await b.check()
    (finding,) = report.contradictions
    assert finding.code == "too_large" and finding.params["factor"] == "10"
    entry = report.data["points"]["energy_total"]
    assert (entry["table"], entry["address"]) == ("input", 1036)
    assert "looks 10x too large for this firmware" in entry["why"][0]


async def test_a_raw_value_outside_the_documented_ones_stays_visible() -> None:
    """It decodes to None, as before; the registers it came in are kept for the check."""
    lie = LIES["status_undocumented"]
    async with box(lie.model, lie=lie) as b:
        await b.charger.refresh()
        assert b.charger.values["status@2"] is None
        assert b.charger.reader.raw_words["status@2"] == (9,)
        report = await b.check()
    assert report.data["points"]["status@2"]["seen"]["raw"] == {"9": None}


# ---------------------------------------------------------------- writes


def keepalive_address(b: Box) -> int | None:
    spec = b.charger.map.behaviour.keepalive
    if spec is None or spec.point is None:
        return None
    return b.charger.map.point(spec.point).address


@pytest.mark.parametrize("model", sorted(MODELS))
async def test_the_run_writes_nothing_unless_asked(model: str) -> None:
    """Only the box's keepalive goes on (Vestel's alive register); no setting, no limit."""
    async with box(model, plug=False) as b:
        report = await b.check()
        alive = keepalive_address(b)
        written = {address for address, _ in b.sim.server.stats.writes_log}
    assert written <= ({alive} if alive is not None else set())
    assert report.data["run"]["write_test"] == "not requested"


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("paused", [False, True])
async def test_the_write_test_restores_the_limit(model: str, paused: bool) -> None:
    """Written, read back, put back (the pause too); the user's wish is untouched."""
    async with box(model, plug=False) as b:
        charger = b.charger
        await charger.refresh(slow=True)
        if paused:
            for connector in charger.limits:
                await charger.pause(connector)
            await charger.refresh(slow=True)
        before = {c: charger.reader.raw_words[lim.point.id] for c, lim in charger.limits.items()}
        wishes = charger.desired.as_dict()
        adopted = charger.reconciler.adopted
        report = await b.check(write_test=True)
        await charger.refresh(slow=True)
        for connector, limit in charger.limits.items():
            history = b.writes(limit.point.address)
            test, restored = history[-2], history[-1]
            assert restored == list(before[connector])
            assert test != restored
            assert b.sim.bank.words(limit.point) == list(before[connector])
        assert charger.desired.as_dict() == wishes
        assert charger.reconciler.adopted == adopted
    write = [f for f in report.findings if f.kind is Kind.WRITE_TEST]
    assert write and all(f.status is Status.CONFIRMED for f in write), [f.message for f in write]
    assert report.data["run"]["write_test"] == "done"


async def test_the_write_test_waits_out_the_hold() -> None:
    """Amperfied asks to keep a setting 20 s: the limit is put back only after that."""
    async with box("amperfied_business", plug=False) as b:
        report = await b.check(write_test=True)
    assert report.data["run"]["observed"] >= 120
    assert b.clock.now - 1000.0 >= 120 + 20


async def test_the_write_test_needs_no_vehicle() -> None:
    """A vehicle plugged in (even one that is full) could start charging: nothing is written."""
    async with box("vestel_evc04") as b:
        b.sim.car_full()
        report = await b.check(write_test=True)
        assert b.writes(5004) == []
    (finding,) = [f for f in report.findings if f.kind is Kind.WRITE_TEST]
    assert (finding.status, finding.code) == (Status.NOT_OBSERVED, "write_test_vehicle")


async def test_the_write_test_restores_when_the_read_back_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The box took the test value, then did not answer the read: the value is put back."""
    async with box("vestel_evc04", plug=False) as b:
        charger = b.charger
        await charger.refresh(slow=True)
        reads = charger.reader.read_points
        calls = 0

        async def flaky(points: list[Any]) -> dict[str, Any]:
            nonlocal calls
            calls += 1
            if calls == 2:  # the read-back of the test value
                raise ChargerConnectionError("no answer")
            return await reads(points)

        monkeypatch.setattr(charger.reader, "read_points", flaky)
        report = await b.check(write_test=True)
        assert b.writes(5004) == [[6], [16]]
        assert b.sim.bank.get("charging_current") == 16
    (finding,) = [f for f in report.findings if f.kind is Kind.WRITE_TEST]
    assert finding.status is Status.NOT_OBSERVED and finding.code == "write_test_failed"


# ---------------------------------------------------------------- the report


async def test_the_report_is_redacted() -> None:
    """No serial, card, tag or host anywhere; private points show no value."""
    private = {
        "rfid_uid": "04A1B2C3D4E5F6",
        "rfid_card_number": "CARD-0815",
    }
    async with box("amperfied_business") as b:
        for key, value in private.items():
            b.sim.bank.set(key, value)
        b.sim.bank.set("rfid_uid_length", 7)
        serial = str(b.sim.bank.get("serial_number"))
        report = await b.check()
    text = json.dumps(report.data)
    for secret in [serial, "127.0.0.1", "553914896", *private.values()]:
        assert secret not in text
        assert secret.replace("-", "") not in text.replace(" ", "")
    for point in b.charger.map.points:
        entry = report.data["points"][point.id]
        assert ("seen" not in entry) or not point.private
    assert report.data["points"]["serial_number"]["status"] == "confirmed"
    assert report.data["box"]["firmware"] == "V2.0.0"
    json.loads(text)  # plain JSON


async def test_the_report_names_model_firmware_layout_and_map() -> None:
    async with box("amperfied_solar") as b:
        report = await b.check(about={"integration": "0.1.0", "home_assistant": "2025.4.4"})
    data = report.data
    assert data["model"]["id"] == "amperfied_solar"
    assert data["box"]["layout_version"] == "2.0.1"
    assert data["box"]["firmware"] == "V2.0.1"
    assert data["map"]["name"] == "amperfied_connect"
    assert data["map"]["revision"] == "Version 1.0.8 – Version 2.0.1"
    assert data["map"]["digest"].startswith("sha256:")
    assert data["software"] == {"integration": "0.1.0", "home_assistant": "2025.4.4"}
    assert set(data["points"]) == {p.id for p in b.charger.map.points}
    not_here = data["points"]["mid_current_l1"]
    assert not_here["on_box"] is False and not_here["status"] == "not observed"


async def test_the_status_follows_the_run() -> None:
    """The snapshot says how far the run is, then its verdict."""
    async with box("compleo_solo") as b:
        seen: list[tuple[str, float]] = []

        def progress() -> None:
            status = b.charger.snapshot().verification
            seen.append((status.state, status.progress))

        await b.check(on_progress=progress)
    assert seen[0] == ("running", 0.0)
    assert [p for s, p in seen if s == "running"] == sorted(p for s, p in seen if s == "running")
    assert seen[-1] == ("confirmed", 100.0)
    assert b.charger.verification.contradicted == 0
    assert b.charger.verification.confirmed > 10


async def test_a_box_that_stops_answering_is_not_confirmed() -> None:
    """Every refresh after the first fails: what needs the window is not observed."""
    async with box("compleo_solo") as b:
        await b.charger.refresh()
        b.sim.server.faults.refuse_connections = True
        b.sim.drop_connections()
        report = await b.check()
    assert report.data["run"]["missed"] >= 12
    assert report.data["run"]["samples"] == 0
    assert report.verdict == "incomplete"


# ---------------------------------------------------------------- what needs what


def needs_by_point(model: str) -> dict[str, set[Needs]]:
    info = MODELS[model]
    regmap = info.regmap
    variant = regmap.variants[info.variant]
    points = [
        p
        for p in regmap.available_points(info.variant, variant.layout)
        if not p.requires or info.variant == "business"
    ]
    plan = make_plan(regmap, info.variant, points)
    return {p.id: plan.needs(p.id) for p in points}


def test_what_each_check_needs() -> None:
    """Read-only checks need a reading; the electrical ones need mains or charging."""
    vestel = needs_by_point("vestel_evc04")
    assert vestel["date"] == {Needs.READING}
    assert vestel["cable_state"] == {Needs.READING}
    assert vestel["voltage_l1"] == {Needs.MAINS}
    assert vestel["energy_total"] == {Needs.CHARGING}
    assert vestel["charging_current"] == {Needs.READING, Needs.WRITE}
    assert vestel["alive"] == {Needs.READING}
    assert vestel["session_start_time"] == set()  # nothing in the map to check it by
    compleo = needs_by_point("compleo_duo")
    assert compleo["station_power"] == {Needs.CHARGING}
    assert compleo["status_word@2"] == {Needs.READING}
    amperfied = needs_by_point("amperfied_business")
    assert amperfied["mid_energy_total"] == {Needs.CHARGING}
    assert amperfied["layout_version"] == {Needs.READING}
    assert amperfied["error_memory"] == set()  # never polled


async def test_points_dropped_by_the_box_are_contradicted() -> None:
    """A documented register the box refuses is a finding against the map."""
    async with box("vestel_evc04") as b:
        b.sim.bank.remove("session_end_time")
        await b.charger.refresh()
        report = await b.check()
    assert contradicted(report) == {"session_end_time": {"not_served"}}


def test_report_status_values() -> None:
    assert [str(s) for s in Status] == ["confirmed", "contradicted", "not observed"]


async def test_check_params_are_strings() -> None:
    async with box("vestel_evc04") as b:
        report = await b.check()
    for finding in report.findings:
        assert all(isinstance(v, str) for v in finding.params.values())
        assert json.loads(json.dumps(finding.as_dict()))["status"] in {
            "confirmed",
            "contradicted",
            "not observed",
        }


async def test_a_fallback_before_the_first_answer_counts() -> None:
    """The box drops the connection as the run starts: the keepalive is contradicted."""
    async with box("vestel_evc04") as b:
        await b.charger.refresh()
        b.sim.server.faults.refuse_connections = True  # until the box's failsafe lets go
        b.sim.drop_connections()
        report = await b.check()
    assert report.data["run"]["missed"] > 0
    assert contradicted(report) == {"alive": {"reconnected"}, "failsafe_timeout": {"reconnected"}}


async def test_a_cancelled_write_test_puts_the_limit_back_at_once() -> None:
    """Cancelled while it waits out Amperfied's hold: the limit is back before it ends."""
    async with box("amperfied_business", plug=False) as b:
        fake_sleep = b.sleep
        holding = asyncio.Event()

        async def sleep(seconds: float) -> None:
            if b.writes(261):  # after the test value: waiting out the hold
                holding.set()
                await asyncio.Event().wait()  # until cancelled
            await fake_sleep(seconds)

        b.sleep = sleep  # type: ignore[method-assign]
        run = asyncio.ensure_future(b.check(write_test=True, duration=30))
        await asyncio.wait_for(holding.wait(), 5)
        assert b.writes(261) == [[60]]
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        assert b.writes(261) == [[60], [160]]
        assert b.sim.bank.raw("charging_current") == 160
        assert b.charger.reconciler.held is False


async def test_the_script_checks_a_box_on_the_real_clock() -> None:
    """scripts/verify_box.py: the same check without Home Assistant (one second here)."""
    import importlib.util
    from pathlib import Path

    from simulators.registry import SIMULATORS

    path = Path(__file__).resolve().parents[2] / "scripts" / "verify_box.py"
    spec = importlib.util.spec_from_file_location("verify_box", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    sim = SIMULATORS["compleo_solo"](port=0)
    await sim.start()
    try:
        report = await script.check(
            "compleo_solo", sim.host, sim.port, 255, duration=1.0, write_test=False
        )
    finally:
        await sim.stop()
    assert report.data["software"]["home_assistant"].startswith("none")
    assert report.data["run"]["samples"] >= 2
    assert script.summary(report).startswith("Compleo SOLO (firmware 6.4.1")


async def test_a_user_map_gets_the_same_checks() -> None:
    """The fictional Acme Flux (a user's YAML map, played by the map-driven simulator):
    confirmed from its own units, scales, values and keepalive; a lie in it is caught."""
    from pathlib import Path

    from custom_components.wallbox_modbus.charger import load_user_map
    from simulators.lies import Lie

    (model,) = load_user_map(Path(__file__).resolve().parents[1] / "fixtures/maps/acme_flux.yaml")
    async with box(model) as b:
        report = await b.check()
    assert contradicted(report) == {}, contradicted(report)
    assert report.verdict == "confirmed"
    assert report.data["model"]["user_map"] is True
    confirmed = {p for p, status in statuses(report).items() if status == "confirmed"}
    assert {"state", "charging_current", "firmware", "serial_number", "heartbeat"} <= confirmed
    assert {"voltage_l1", "current_l1", "power", "energy_total"} <= confirmed

    volts = Lie(
        name="acme_volts",
        model=model.id,
        says="the voltages count in 0.01 V, not 0.1 V",
        scale={"voltage_l1": 10, "voltage_l2": 10, "voltage_l3": 10},
    )
    async with box(model, lie=volts) as b:
        report = await b.check()
    assert contradicted(report) == {f"voltage_l{n}": {"too_large"} for n in (1, 2, 3)}
