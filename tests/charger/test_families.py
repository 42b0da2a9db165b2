"""Family behaviour behind the one charger interface, against the simulators over TCP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from charger import (
    FAMILIES,
    MODELS,
    BusyError,
    Charger,
    ChargerConnectionError,
    InvalidValueError,
    ModbusTransport,
    WrongModelError,
)
from charger.compleo import CompleoCharger
from simulators.amperfied import AmperfiedSimulator
from simulators.base import WallboxSimulator
from simulators.registry import SIMULATORS

pytestmark = pytest.mark.asyncio


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


Factory = Callable[..., Awaitable[tuple[WallboxSimulator, Charger]]]


@pytest.fixture
async def make() -> AsyncIterator[Factory]:
    """Start a simulator of one model and a charger of (possibly another) model on it."""
    started: list[tuple[WallboxSimulator, Charger]] = []

    async def factory(
        sim_model: str,
        charger_model: str | None = None,
        *,
        clock: FakeClock | None = None,
        identify: bool = True,
        sim_kwargs: dict[str, Any] | None = None,
    ) -> tuple[WallboxSimulator, Charger]:
        extra: dict[str, Any] = {"clock": clock} if clock else {}
        sim = SIMULATORS[sim_model](port=0, **extra, **(sim_kwargs or {}))
        await sim.start()
        model = MODELS[charger_model or sim_model]
        transport = ModbusTransport("127.0.0.1", sim.port, 255, timeout=1.0, **extra)
        charger = FAMILIES[model.family](transport, model, **extra)
        started.append((sim, charger))
        if identify:
            await charger.identify()
        return sim, charger

    yield factory
    for sim, charger in started:
        await charger.close()
        await sim.stop()


def writes(sim: WallboxSimulator) -> list[tuple[int, list[int]]]:
    return list(sim.server.stats.writes_log)


# ---------------------------------------------------------------- identity


@pytest.mark.parametrize(
    ("model", "serial", "firmware", "layout", "connectors"),
    [
        ("vestel_evc04", "EVC04-SIM-00001", "v3.187.0", None, [None]),
        ("amperfied_home", None, "revision 23", "1.0.8", [None]),
        ("amperfied_business", "AMP-BUSINESS-0001", "V2.0.0", "2.0.0", [None]),
        ("amperfied_solar", "AMP-SOLAR-0001", "V2.0.1", "2.0.1", [None]),
        ("compleo_solo", "CMP-SOLO-0001", "6.4.1", None, [1]),
        ("compleo_duo", "CMP-DUO-0001", "6.4.1", None, [1, 2]),
    ],
)
async def test_identity(
    make: Factory,
    model: str,
    serial: str | None,
    firmware: str,
    layout: str | None,
    connectors: list[int | None],
) -> None:
    _, charger = await make(model)
    identity = charger.identity
    assert identity is not None
    assert identity.serial == serial
    assert identity.firmware == firmware
    assert identity.layout_version == layout
    assert charger.connectors == connectors


@pytest.mark.parametrize(
    ("sim_model", "chosen"),
    [
        ("amperfied_home", "vestel_evc04"),
        ("compleo_duo", "vestel_evc04"),
        ("vestel_evc04", "amperfied_home"),
        ("compleo_solo", "amperfied_business"),
        ("vestel_evc04", "compleo_solo"),
        ("amperfied_business", "compleo_solo"),
        ("compleo_solo", "compleo_duo"),
        ("compleo_duo", "compleo_solo"),
        ("amperfied_home", "amperfied_business"),
        ("amperfied_home", "amperfied_solar"),
        ("amperfied_business", "amperfied_solar"),
        ("amperfied_solar", "amperfied_business"),
        ("amperfied_solar", "amperfied_home"),
        ("amperfied_business", "amperfied_home"),
    ],
)
async def test_wrong_model_is_refused(make: Factory, sim_model: str, chosen: str) -> None:
    sim, charger = await make(sim_model, chosen, identify=False)
    with pytest.raises(WrongModelError):
        await charger.identify()
    assert writes(sim) == []


async def test_business_without_mid_has_no_mid_entities(make: Factory) -> None:
    _, charger = await make("amperfied_business", sim_kwargs={"mid": False})
    assert charger.identity is not None
    assert charger.has("energy_session")
    assert not charger.has("mid_energy_total")


# ---------------------------------------------------------------- values


async def test_vestel_values_follow_the_car(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    snap = await charger.refresh(slow=True)
    assert snap.get("status") == "available"
    assert snap.get("vehicle_connected") is False
    sim.plug(1, max_current=16, phases=3)
    snap = await charger.refresh()
    assert snap.get("status") == "charging"
    assert snap.get("vehicle_connected") is True
    assert snap.get("charging") is True
    assert snap.get("cable_state") == "vehicle_locked"
    assert snap.get("current_l1") == 16.0
    assert snap.get("power") == 16 * 230 * 3
    assert snap.get("power_l2") == 16 * 230
    assert snap.get("voltage_l3") == 230
    assert snap.get("phases") == 3
    assert snap.get("evse_max_current") == 32
    assert snap.get("device_time") is not None
    assert charger.current_range() == (6.0, 32.0)


async def test_amperfied_values_and_status_mapping(make: Factory) -> None:
    sim, charger = await make("amperfied_solar")
    snap = await charger.refresh(slow=True)
    assert snap.get("charging_state") == "A2"
    assert snap.get("status") == "available"
    sim.plug(1, max_current=16, phases=3)
    snap = await charger.refresh()
    assert snap.get("status") == "charging"
    assert snap.get("current_l2") == 16.0
    assert snap.get("temperature") == 25.0
    assert snap.get("phase_switch_state") == "3"
    assert snap.get("layout_version") == "2.0.1"
    sim.car_full(1)
    snap = await charger.refresh()
    assert snap.get("status") == "suspended_ev"
    assert snap.get("charging") is False
    assert snap.get("vehicle_connected") is True


async def test_amperfied_home_lacks_newer_registers(make: Factory) -> None:
    _, charger = await make("amperfied_home")
    assert not charger.has("energy_session")
    assert not charger.has("serial_number")
    assert not charger.has("phase_switch")
    assert charger.has("energy_total")
    snap = await charger.refresh(slow=True)
    assert "energy_session" not in snap.values


async def test_compleo_duo_connectors_are_separate(make: Factory) -> None:
    sim, charger = await make("compleo_duo")
    sim.plug(2, max_current=10, phases=1)
    snap = await charger.refresh(slow=True)
    assert snap.get("status", 1) == "available"
    assert snap.get("status", 2) == "charging"
    assert snap.get("vehicle_connected", 2) is True
    assert snap.get("charging", 2) is True
    assert snap.get("current_l1", 2) == 10.0
    assert snap.get("current_l2", 2) == 0
    assert snap.get("power", 2) == 2300
    assert snap.get("connectors") == 2
    assert isinstance(charger, CompleoCharger)
    assert charger.phases(2) == 1  # learnt from the measured currents


async def test_energy_grows_while_charging(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    await charger.write_setting("watchdog_timeout", 0)  # an hour without traffic
    sim.plug(1, max_current=16, phases=3)
    first = (await charger.refresh()).get("energy_total")
    clock.tick(3600)
    second = (await charger.refresh()).get("energy_total")
    assert second - first == pytest.approx(16 * 230 * 3 / 1000, abs=0.01)
    assert (await charger.refresh()).get("mid_energy_total") == second


# ---------------------------------------------------------------- current limit


async def test_vestel_limit_whole_amperes(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    assert sim.bank.get("charging_current") == 10
    for bad in (10.5, 5, 33, -1):
        with pytest.raises(InvalidValueError):
            await charger.set_charging_current(bad)
    assert writes(sim) == [(5004, [10])]


async def test_amperfied_limit_tenths_and_hardware_switch(make: Factory) -> None:
    sim, charger = await make("amperfied_solar")
    sim.bank.set("hw_max_current", 10)
    await charger.refresh(slow=True)
    assert charger.current_range() == (6.0, 10.0)
    await charger.set_charging_current(8.5)
    assert sim.bank.raw("charging_current") == 85
    for bad in (5.9, 0.1, 10.1, 16):
        with pytest.raises(InvalidValueError):
            await charger.set_charging_current(bad)
    assert [w for w in writes(sim) if w[0] == 261] == [(261, [85])]


@pytest.mark.parametrize(
    ("amps", "phases", "watts"),
    [(6, 1, 1400), (6, 3, 4200), (16, 3, 11100), (10, 1, 2300), (32, 3, 22100)],
)
async def test_compleo_limit_as_power_rounded_up(
    make: Factory, amps: float, phases: int, watts: int
) -> None:
    sim, charger = await make("compleo_duo")
    sim.plug(1, max_current=32, phases=phases)
    await charger.refresh(slow=True)
    assert isinstance(charger, CompleoCharger)
    await charger.set_charging_current(amps, 1)
    assert sim.bank.get("max_power@1") == watts
    assert watts >= amps * phases * 230  # never less than asked
    assert charger.charging_current(1) == amps
    await charger.refresh()
    measured = (await charger.refresh()).get("current_l1", 1)
    assert measured >= amps


async def test_compleo_rejects_bad_settings(make: Factory) -> None:
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    with pytest.raises(InvalidValueError):
        await charger.set_charging_current(5, 1)
    with pytest.raises(InvalidValueError):
        await charger.write_setting("fallback_power", 1250)  # not a 100 W step
    with pytest.raises(InvalidValueError):
        await charger.write_setting("max_power", 3000, 2)  # a SOLO has no second connector
    await charger.write_setting("fallback_power", 3700)
    assert writes(sim) == [(3, [37])]


# ---------------------------------------------------------------- pause / resume


async def test_vestel_pause_survives_the_6a_reset(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.set_charging_current(12)
    await charger.pause()
    assert sim.bank.get("charging_current") == 0
    assert charger.limit_state().paused
    sim.unplug(1)
    assert sim.bank.get("charging_current") == 6  # the box puts its own 6 A back
    await charger.refresh(slow=True)
    assert charger.limit_state().paused  # still paused for the integration
    sim.plug(1)
    await charger.refresh(slow=True)
    assert sim.bank.get("charging_current") == 0  # applied again when a car connects
    snap = await charger.refresh()
    assert snap.get("charging") is False
    await charger.resume()
    assert sim.bank.get("charging_current") == 12
    assert not charger.limit_state().paused


async def test_limit_set_while_paused_is_applied_on_resume(make: Factory) -> None:
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    await charger.pause(1)
    assert sim.bank.get("max_power@1") == 0
    await charger.set_charging_current(8, 1)
    assert sim.bank.get("max_power@1") == 0
    await charger.resume(1)
    assert sim.bank.get("max_power@1") == 5600  # 8 A x 3 x 230 = 5520 -> 5600


async def test_restore_after_restart(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    await charger.refresh(slow=True)
    charger.restore(paused=True, last_limit=14)
    await charger.resume()
    assert sim.bank.get("charging_current") == 14


# ---------------------------------------------------------------- Amperfied hold


async def test_amperfied_holds_a_setting_20s_last_value_wins(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(5)
    await charger.set_charging_current(12)
    clock.tick(5)
    await charger.set_charging_current(14)
    assert sim.bank.raw("charging_current") == 100
    assert charger.pending_delay() == pytest.approx(10)
    clock.tick(9)
    assert not await charger.flush_pending()
    clock.tick(1)
    assert await charger.flush_pending()
    assert sim.bank.raw("charging_current") == 140
    assert [w for w in writes(sim) if w[0] == 261] == [(261, [100]), (261, [140])]
    assert charger.pending_delay() is None


# ---------------------------------------------------------------- phase switch


async def test_solar_phase_switch_and_block(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_solar", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.refresh(slow=True)
    set_phases = charger.set_phases  # type: ignore[attr-defined]
    await set_phases(1)
    assert sim.bank.get("phase_switch") == 1
    snap = await charger.refresh()
    assert snap.get("phase_switch_state") == "switching"
    with pytest.raises(BusyError):
        await set_phases(3)
    clock.tick(6)
    snap = await charger.refresh()
    assert snap.get("phase_switch_state") == "1"
    with pytest.raises(BusyError):  # the box blocks switches for about 90 s
        await set_phases(3)
    with pytest.raises(InvalidValueError):
        await set_phases(2)
    assert [w for w in writes(sim) if w[0] == 501] == [(501, [1])]
    clock.tick(90)
    await set_phases(3)
    assert sim.bank.get("phase_switch") == 3


async def test_remote_lock(make: Factory) -> None:
    sim, charger = await make("amperfied_home")
    sim.plug(1)
    await charger.set_remote_lock(True)  # type: ignore[attr-defined]
    snap = await charger.refresh(slow=True)
    assert snap.get("remote_lock") == "locked"
    assert snap.get("status") == "unavailable"  # F: locked or not ready
    await charger.set_remote_lock(False)  # type: ignore[attr-defined]
    assert (await charger.refresh(slow=True)).get("status") == "charging"


# ---------------------------------------------------------------- keepalive


async def test_vestel_keepalive_prevents_failsafe(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    await charger.refresh(slow=True)
    assert charger.keepalive_interval == 5.0  # failsafe timeout 20 s / 4
    for _ in range(12):
        clock.tick(5)
        await charger.keepalive()
    await charger.refresh()
    assert sim.failsafe_events == 0  # type: ignore[attr-defined]
    assert sim.alive_writes == 12  # type: ignore[attr-defined]


async def test_vestel_without_keepalive_drops_socket_and_falls_back(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    sim.plug(1)
    await charger.refresh(slow=True)
    clock.tick(21)
    with pytest.raises(ChargerConnectionError):  # the box drops the socket
        await charger.refresh()
    assert sim.failsafe  # type: ignore[attr-defined]
    assert sim.limit(1) == 6  # the failsafe current


async def test_amperfied_watchdog_served_by_traffic(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.write_setting("watchdog_timeout", 4)
    await charger.refresh(slow=True)
    assert charger.keepalive_interval == pytest.approx(4 / 3)
    for _ in range(10):
        clock.tick(1.3)
        await charger.keepalive()
    assert not sim.timeout_mode
    clock.tick(5)
    await charger.keepalive()  # too late: the box timed out meanwhile, then recovers
    assert sim.timeout_events == 1
    assert not sim.timeout_mode


async def test_compleo_keepalive_rewrites_limits(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("compleo_solo", clock=clock)
    await charger.refresh(slow=True)
    assert charger.keepalive_interval is None  # no fallback configured
    await charger.write_setting("fallback_timeout", 30)
    await charger.refresh(slow=True)
    assert charger.keepalive_interval == 10
    await charger.set_charging_current(10, 1)
    for _ in range(6):
        clock.tick(10)
        await charger.keepalive()
    assert sim.fallback_events == 0  # type: ignore[attr-defined]
    assert writes(sim)[-1] == (256, [69])  # 10 A x 3 x 230 V = 6900 W


# ---------------------------------------------------------------- exception 2


async def test_missing_register_is_dropped_rest_kept(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    sim, charger = await make("vestel_evc04")
    sim.bank.remove("fault_code")  # a firmware without a documented register
    sim.plug(1)
    snap = await charger.refresh()
    assert "fault_code" in charger.dropped
    assert snap.get("status") == "charging"
    assert snap.get("current_l1") == 16.0
    assert not charger.has("fault_code")
    before = sim.server.stats.requests
    snap = await charger.refresh()
    per_refresh = sim.server.stats.requests - before
    assert snap.get("power") == 16 * 230 * 3
    assert per_refresh == 4  # re-planned around the hole, no more exceptions
    assert caplog.text.count("fault_code") == 1  # logged once


async def test_unserved_gap_is_not_bridged_again(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    sim.bank.unserve("input", 1009, 1009)  # the box refuses a reserved word
    first = await charger.refresh()
    assert first.get("current_l1") is not None
    assert charger.dropped == {}
    before = (sim.server.stats.requests, sim.server.stats.exceptions)
    await charger.refresh()
    assert sim.server.stats.exceptions == before[1]
    # 1000-1008 and 1010-1037 instead of 1000-1037: one more read than before
    assert sim.server.stats.requests - before[0] == 4


# ---------------------------------------------------------------- connections


async def test_amperfied_refuses_a_second_connection(make: Factory) -> None:
    sim, charger = await make("amperfied_business")
    other = ModbusTransport("127.0.0.1", sim.port, 255, timeout=0.5)
    try:
        with pytest.raises(ChargerConnectionError):
            await other.read(charger.point("power").table, 14, 1)
    finally:
        await other.close()
    await charger.refresh()  # the first connection is unaffected
    assert sim.server.stats.max_concurrent <= 2
    assert sim.server.open_connections == 1


# ---------------------------------------------------------------- pause state


async def test_pause_state_follows_the_box_where_it_can(make: Factory) -> None:
    sim, charger = await make("amperfied_business")
    sim.bank.set("charging_current", 0)
    await charger.refresh(slow=True)
    assert charger.limit_state().paused  # the box says 0: paused
    sim.bank.set("charging_current", 10.0)  # someone else set a limit
    await charger.refresh(slow=True)
    state = charger.limit_state()
    assert not state.paused
    assert state.last_limit == 10.0


async def test_vestel_pause_reapplied_when_vehicle_arrives_with_stale_reading(
    make: Factory,
) -> None:
    sim, charger = await make("vestel_evc04")
    await charger.refresh(slow=True)
    await charger.pause()
    await charger.refresh(slow=True)  # reads 0
    sim.bank.set("charging_current", 6)  # the box resets; no slow refresh saw it yet
    sim.plug(1)
    await charger.refresh()  # fast tier only: the reading of 5004 is still 0
    assert sim.bank.get("charging_current") == 0
    assert charger.limit_state().paused
