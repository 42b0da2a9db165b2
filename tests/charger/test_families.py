"""Every model behind the one charger interface, against the simulators over TCP."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger import (
    MODELS,
    BusyError,
    Charger,
    ChargerConnectionError,
    InvalidValueError,
    LayoutTooOldError,
    ModbusExceptionError,
    ModbusTransport,
    WrongModelError,
)
from simulators.amperfied import AmperfiedSimulator
from simulators.base import WallboxSimulator
from simulators.compleo import CompleoSimulator
from simulators.registry import SIMULATORS
from simulators.vestel import VestelSimulator

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
        port: int = 0,
        request_timeout: float = 1.0,
    ) -> tuple[WallboxSimulator, Charger]:
        extra: dict[str, Any] = {"clock": clock} if clock else {}
        sim = SIMULATORS[sim_model](port=port, **extra, **(sim_kwargs or {}))
        await sim.start()
        model = MODELS[charger_model or sim_model]
        transport = ModbusTransport(
            "127.0.0.1", sim.port, 255, timeout=request_timeout, backoff_initial=0, **extra
        )
        charger = Charger(transport, model, **extra)
        started.append((sim, charger))
        if identify:
            await charger.identify()
        return sim, charger

    yield factory
    for sim, charger in started:
        await charger.close()
        await sim.stop()


def writes(sim: WallboxSimulator, address: int | None = None) -> list[Any]:
    log = list(sim.server.stats.writes_log)
    if address is None:
        return log
    return [values[0] for start, values in log if start == address]


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
        ("amperfied_home", "amperfied_business"),  # layout 1.0.8: no business
        ("amperfied_home", "amperfied_solar"),
        ("amperfied_business", "amperfied_solar"),  # no phase switch state
        ("amperfied_solar", "amperfied_business"),  # the phase switch says solar
        ("amperfied_solar", "amperfied_home"),
    ],
)
async def test_wrong_model_is_refused(make: Factory, sim_model: str, chosen: str) -> None:
    sim, charger = await make(sim_model, chosen, identify=False)
    with pytest.raises(WrongModelError):
        await charger.identify()
    assert writes(sim) == []


async def test_connect_home_on_layout_2_0_0(make: Factory) -> None:
    """Current connect.home firmware is on layout 2.0.0: serial, session energy, RFID."""
    _, charger = await make("amperfied_business", "amperfied_home", sim_kwargs={"mid": False})
    assert charger.identity is not None
    assert charger.identity.layout_version == "2.0.0"
    assert charger.identity.serial == "AMP-BUSINESS-0001"
    assert charger.identity.model == "connect.home"
    snap = await charger.refresh(slow=True)
    assert charger.serves("energy_session")
    assert charger.serves("rfid_card_counter")
    assert "energy_session" in snap.values


@pytest.mark.parametrize(
    ("chosen", "layout", "minimum"),
    [
        ("amperfied_home", (1, 0, 0), "1.0.8"),
        ("amperfied_business", (1, 0, 8), "2.0.0"),
        ("amperfied_solar", (2, 0, 0), "2.0.1"),
    ],
)
async def test_layout_below_the_minimum_is_refused(
    make: Factory, chosen: str, layout: tuple[int, ...], minimum: str
) -> None:
    sim, charger = await make("amperfied_home", chosen, identify=False,
                              sim_kwargs={"layout": layout})  # fmt: skip
    with pytest.raises(LayoutTooOldError) as err:
        await charger.identify()
    assert err.value.layout == ".".join(map(str, layout))
    assert err.value.minimum == minimum
    assert f"needs at least {minimum}" in str(err.value)
    assert writes(sim) == []


async def test_business_without_mid_has_no_mid_entities(make: Factory) -> None:
    _, charger = await make("amperfied_business", sim_kwargs={"mid": False})
    assert charger.serves("energy_session")
    assert not charger.serves("mid_energy_total")


# ---------------------------------------------------------------- capabilities


CAPABILITIES = {
    # model: (limit connectors, phase switch, remote lock, keepalive, settings)
    "vestel_evc04": ([None], False, False, "write", {"failsafe_current", "failsafe_timeout"}),
    "amperfied_home": (
        [None], False, True, "traffic", {"failsafe_current", "watchdog_timeout"},
    ),
    "amperfied_business": (
        [None], False, True, "traffic", {"failsafe_current", "watchdog_timeout"},
    ),
    "amperfied_solar": (
        [None], True, True, "traffic", {"failsafe_current", "watchdog_timeout"},
    ),
    "compleo_solo": (
        [1], False, False, "rewrite",
        {"station_max_power", "station_relative_power", "max_unbalanced_current",
         "fallback_power", "fallback_relative_power", "fallback_timeout"},
    ),
    "compleo_duo": (
        [1, 2], False, False, "rewrite",
        {"station_max_power", "station_relative_power", "max_unbalanced_current",
         "fallback_power", "fallback_relative_power", "fallback_timeout"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("model", list(MODELS))
async def test_capabilities_follow_the_map(make: Factory, model: str) -> None:
    """What a box can do comes from its map; what it lacks is absent."""
    _, charger = await make(model)
    behaviour = charger.map.behaviour
    assert bool(charger.limits) == (behaviour.limit is not None)
    assert (charger.keepalive is None) == (behaviour.keepalive is None)
    assert charger.phase_switch is None or behaviour.phase_switch is not None
    assert charger.remote_lock is None or behaviour.remote_lock is not None
    if model not in CAPABILITIES:
        return  # a model without expectations of its own: the map decides alone
    limits, phase_switch, lock, keepalive, settings = CAPABILITIES[model]
    assert list(charger.limits) == limits
    assert (charger.phase_switch is not None) is phase_switch
    assert (charger.remote_lock is not None) is lock
    assert charger.keepalive is not None and charger.keepalive.kind == keepalive
    assert {s.key for s in charger.settings.values()} == settings


# ---------------------------------------------------------------- values


async def test_vestel_values_follow_the_car(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    snap = await charger.refresh(slow=True)
    assert snap.get("status") == "available"
    assert snap.get("vehicle_connected") is False
    sim.plug(1, max_current=16, phases=3)
    snap = await charger.refresh(slow=True)
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
    assert charger.limit().range(snap.values) == (6.0, 32.0)


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
    assert not charger.serves("energy_session")
    assert not charger.serves("serial_number")
    assert charger.phase_switch is None
    assert charger.serves("energy_total")
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
    assert charger.limit(2).phases() == 1  # learnt from the measured currents
    assert charger.limit(1).phases() == 3  # nothing measured: the map's default


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
    for bad in (10.5, 5, 33, -1, float("nan")):
        with pytest.raises(InvalidValueError):
            await charger.set_charging_current(bad)
    assert writes(sim) == [(5004, [10])]


async def test_vestel_limit_follows_the_cable(make: Factory) -> None:
    """The highest limit follows the box's maximum and the cable's (1104 / 1106)."""
    sim, charger = await make("vestel_evc04")
    sim.bank.set("cable_max_current", 20)
    sim.frozen_values = True
    snap = await charger.refresh(slow=True)
    assert charger.limit().range(snap.values) == (6.0, 20.0)
    with pytest.raises(InvalidValueError):
        await charger.set_charging_current(25)
    assert writes(sim, 5004) == []


async def test_vestel_clock_trusted_again_once_it_runs(make: Factory) -> None:
    """A clock that never moved is not trusted; once it runs it is watched again."""
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock, sim_kwargs={"clock_runs": False})
    assert isinstance(sim, VestelSimulator)
    await charger.write_setting("failsafe_timeout", 3600)  # no keepalive runs here
    for _ in range(12):
        await charger.refresh()
        clock.tick(10)
    info = charger.diagnostics()["strategy"]
    assert info == {"name": "vestel", "clock_trusted": False, "reopens_for_frozen_clock": 1}
    assert charger.transport.stats.connects == 2
    sim.bank.set("time", 235959)  # the clock was set at the box
    await charger.refresh()
    assert charger.diagnostics()["strategy"]["clock_trusted"] is True
    for _ in range(6):  # and stops again: a frozen server, reopened
        clock.tick(10)
        await charger.refresh()
    assert charger.diagnostics()["strategy"]["reopens_for_frozen_clock"] == 2


async def test_amperfied_limit_tenths_and_hardware_switch(make: Factory) -> None:
    sim, charger = await make("amperfied_solar")
    sim.bank.set("hw_max_current", 10)
    snap = await charger.refresh(slow=True)
    assert charger.limit().range(snap.values) == (6.0, 10.0)
    await charger.set_charging_current(8.5)
    assert sim.bank.raw("charging_current") == 85
    for bad in (5.9, 0.1, 10.1, 16, 8.55):
        with pytest.raises(InvalidValueError):
            await charger.set_charging_current(bad)
    assert writes(sim, 261) == [85]
    # The failsafe current follows the hardware switch too.
    assert charger.setting("failsafe_current").range(snap.values) == (0, 10.0)
    with pytest.raises(InvalidValueError):
        await charger.write_setting("failsafe_current", 12)


@pytest.mark.parametrize(
    ("amps", "phases", "watts"),
    [(6, 1, 1400), (6, 3, 4200), (16, 3, 11100), (10, 1, 2300), (31.8, 3, 22000), (32, 3, 22000)],
)
async def test_compleo_limit_as_power_rounded_up_to_the_connector_maximum(
    make: Factory, amps: float, phases: int, watts: int
) -> None:
    sim, charger = await make("compleo_duo")
    sim.plug(1, max_current=32, phases=phases)
    await charger.refresh(slow=True)
    await charger.refresh()
    await charger.set_charging_current(amps, 1)
    assert sim.bank.get("max_power@1") == watts
    assert watts >= amps * phases * 230 or watts == 22000  # never less than asked, but the cap
    snap = await charger.refresh(slow=True)
    assert charger.limit(1).shown(snap) == amps
    measured = (await charger.refresh()).get("current_l1", 1)
    assert measured >= min(amps, 22000 / (phases * 230)) - 0.1


async def test_compleo_rejects_bad_settings(make: Factory) -> None:
    sim, charger = await make("compleo_solo")
    snap = await charger.refresh(slow=True)
    with pytest.raises(InvalidValueError):
        await charger.set_charging_current(5, 1)
    with pytest.raises(InvalidValueError):
        await charger.write_setting("fallback_power", 1250)  # not a 100 W step
    with pytest.raises(InvalidValueError):
        await charger.write_setting("fallback_power", 23000)  # above a SOLO's 22 kW
    with pytest.raises(InvalidValueError):
        await charger.write_setting("fallback_timeout", 30, 2)  # a SOLO has no connector 2
    assert charger.setting("station_max_power").range(snap.values) == (0, 22000)
    await charger.write_setting("fallback_power", 3700)
    assert writes(sim) == [(3, [37])]


@pytest.mark.parametrize(
    ("model", "key", "off_step", "on_step"),
    [
        ("compleo_solo", "fallback_timeout", 0.001, 0.0),  # would have switched it off
        ("vestel_evc04", "failsafe_current", 6.001, 6.000000000001),
        ("amperfied_home", "failsafe_current", 6.05, 6.1),
        ("amperfied_home", "watchdog_timeout", 5.0005, 5.001),
    ],
)
async def test_a_fraction_of_a_step_is_refused_not_rounded(
    make: Factory, model: str, key: str, off_step: float, on_step: float
) -> None:
    sim, charger = await make(model)
    await charger.refresh(slow=True)
    with pytest.raises(InvalidValueError):
        await charger.write_setting(key, off_step)
    await charger.write_setting(key, on_step)
    pt = charger.point(key)
    assert writes(sim, pt.address) == [round(on_step / pt.scale)]


async def test_compleo_duo_station_maximum_follows_the_connectors(make: Factory) -> None:
    _, charger = await make("compleo_duo")
    snap = await charger.refresh(slow=True)
    assert charger.setting("station_max_power").range(snap.values) == (0, 44000)
    assert charger.setting("max_unbalanced_current").range(snap.values) == (20, 64)


@pytest.mark.parametrize(
    ("key", "value", "address", "raw"),
    [
        ("station_relative_power", 50, 1, 50),
        ("max_unbalanced_current", 25.5, 2, 255),
        ("fallback_relative_power", 100, 4, 100),
    ],
)
async def test_compleo_relative_power_and_unbalance(
    make: Factory, key: str, value: float, address: int, raw: int
) -> None:
    """Registers 1, 2 and 4 as the document gives them: percent, 0.1 A from 20 A."""
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    await charger.write_setting(key, value)
    assert writes(sim) == [(address, [raw])]
    assert (await charger.refresh(slow=True)).get(key) == value


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("station_relative_power", 101),
        ("fallback_relative_power", -1),
        ("max_unbalanced_current", 19.9),  # the document: I >= 20
        ("max_unbalanced_current", 32.1),  # one phase of a SOLO carries at most 32 A
    ],
)
async def test_compleo_relative_power_and_unbalance_out_of_range(
    make: Factory, key: str, value: float
) -> None:
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    with pytest.raises(InvalidValueError):
        await charger.write_setting(key, value)
    assert writes(sim) == []


@pytest.mark.parametrize(
    ("connector", "raw", "shown"),
    [
        (1, 2, "ground_failure"),  # the document's 2, where OCPP + 1 would be EVCommunicationError
        (1, 7, "no_error"),
        (1, 4, None),  # OCPP's InternalError + 1: not in the document
        (1, 15, None),  # UnderVoltage is listed for the left connector only
        (2, 15, "under_voltage"),
        (2, 16, None),
    ],
)
async def test_compleo_error_codes_as_documented(
    make: Factory, connector: int, raw: int, shown: str | None
) -> None:
    """Only the document's codes have a name; any other reads as unknown, its code kept."""
    sim, charger = await make("compleo_duo")
    sim.frozen_values = True
    sim.bank.set_raw(f"error_code@{connector}", raw)
    snap = await charger.refresh()
    assert snap.get("error_code", connector) == shown
    assert snap.codes[f"error_code@{connector}"] == raw
    assert snap.ok("error_code", connector)


async def test_a_bit_fails_with_the_register_that_holds_it(make: Factory) -> None:
    """The status word's flags are unavailable when the status word was not read."""
    sim, charger = await make("compleo_solo")
    sim.plug(1)
    snap = await charger.refresh()
    assert snap.ok("vehicle_connected", 1) and snap.ok("limited", 1) and snap.ok("error", 1)
    sim.server.faults.exception = 4
    snap = await charger.refresh()
    assert {"status_word@1", "vehicle_connected@1", "charging@1", "limited@1", "error@1"} <= (
        snap.failed
    )
    assert not snap.ok("vehicle_connected", 1)


async def test_power_limit_set_as_power(make: Factory) -> None:
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    await charger.set_limit_power(5300, 1)
    assert writes(sim, 256) == [53]
    assert charger.limit(1).raw_for(charger.desired[1].limit or 0) == 53


# ---------------------------------------------------------------- pause / resume


async def test_a_power_below_6_a_on_three_phases_stays_what_was_set(make: Factory) -> None:
    """1400 W (6 A for a car on one phase) set as a power: rewritten by the keepalive,
    applied again after a reconnect and on resume as 1400 W, never raised to 4200 W."""
    clock = FakeClock()
    sim, charger = await make("compleo_solo", clock=clock)
    await charger.write_setting("fallback_timeout", 30)
    await charger.refresh(slow=True)
    await charger.set_limit_power(1400, 1)
    for _ in range(4):  # the keepalive writes the limits again every 10 s
        due = charger.next_due()
        assert due is not None
        clock.now = due.at
        await charger.run_due()
    sim.drop_connections()
    await charger.refresh(slow=True)  # reconnects: the wishes are applied again
    await charger.pause(1)
    await charger.resume(1)
    assert set(writes(sim, 256)) == {14, 0}
    assert charger.reconciler.adopted == 0
    assert charger.desired[1].limit == charger.limit(1).amps_of(14)


@pytest.mark.parametrize("amps", [6, 10, 16])
async def test_a_car_on_one_phase_gets_the_current_asked_not_the_power(
    make: Factory, amps: float, caplog: pytest.LogCaptureFixture
) -> None:
    """The limit is written for three phases until the car is seen charging on one: then
    the same current is written again as one phase's power, not the power taken over."""
    sim, charger = await make("compleo_solo")
    sim.plug(1, phases=1, max_current=32)
    await charger.refresh(slow=True)
    await charger.set_charging_current(amps, 1)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            await charger.refresh(slow=True)
    assert charger.desired[1].limit == amps
    drawn, phases, _ = sim.measured(1)
    assert phases == 1 and amps <= drawn < amps + 0.5  # rounded up to 100 W, never less
    assert writes(sim, 256)[-1] == math.ceil(amps * 230 / 100)
    assert charger.reconciler.adopted == 0
    assert [r.getMessage() for r in caplog.records if "applied again" in r.getMessage()] == [
        f"Compleo SOLO: the charging current {amps} A applied again (connector 1):"
        " the car charges on 1 phase(s)"
    ]


async def test_vestel_pause_survives_the_6a_reset(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.set_charging_current(12)
    await charger.pause()
    assert sim.bank.get("charging_current") == 0
    assert charger.desired[None].paused
    sim.unplug(1)
    assert sim.bank.get("charging_current") == 6  # the box puts its own 6 A back
    await charger.refresh(slow=True)
    assert charger.desired[None].paused  # still paused: not taken as a new setting
    sim.plug(1)
    await charger.refresh(slow=True)
    assert sim.bank.get("charging_current") == 0  # applied again when a car connects
    snap = await charger.refresh()
    assert snap.get("charging") is False
    await charger.resume()
    assert sim.bank.get("charging_current") == 12
    assert not charger.desired[None].paused


async def test_vestel_pause_kept_when_a_car_leaves_and_one_comes_between_readings(
    make: Factory,
) -> None:
    """5004 is read in the slow tier: the box's 6 A reset is seen only with the next car
    already plugged in.  It is not taken over as a change made at the box."""
    sim, charger = await make("vestel_evc04")
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.pause()
    await charger.refresh(slow=True)
    sim.unplug(1)  # the box puts 5004 back to 6 A ...
    sim.plug(1)  # ... and the next car comes before any refresh
    await charger.refresh(slow=True)
    assert sim.bank.get("charging_current") == 0
    assert charger.desired[None].paused
    assert charger.reconciler.adopted == 0
    assert sim.measured(1)[0] == 0


async def test_limit_set_while_paused_is_applied_on_resume(make: Factory) -> None:
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    await charger.pause(1)
    assert sim.bank.get("max_power@1") == 0
    await charger.set_charging_current(8, 1)
    assert sim.bank.get("max_power@1") == 0
    await charger.resume(1)
    assert sim.bank.get("max_power@1") == 5600  # 8 A x 3 x 230 = 5520 -> 5600


async def test_restored_wishes_are_applied_at_once(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    assert charger.restore_desired({"connectors": {"0": {"paused": False, "limit": 14}}})
    await charger.refresh(slow=True)
    assert writes(sim, 5004) == [14]
    await charger.pause()
    await charger.resume()
    assert writes(sim, 5004) == [14, 0, 14]


async def test_nothing_restored_takes_the_box_as_it_is(make: Factory) -> None:
    sim, charger = await make("vestel_evc04")
    assert not charger.restore_desired({})
    assert not charger.restore_desired({"connectors": {"0": {"paused": "yes"}}})
    await charger.refresh(slow=True)
    assert writes(sim) == []
    assert charger.desired[None].paused is False
    assert charger.desired[None].limit == 16


# ---------------------------------------------------------------- the box leaves the wishes


async def test_vestel_failsafe_then_limit_applied_again(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """No alive write within the timeout: failsafe at 8 A; once it answers, 10 A again."""
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    assert isinstance(sim, VestelSimulator)
    sim.plug(1, max_current=32)
    sim.bank.set("failsafe_current", 8)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(21)  # HA stalled: no keepalive for longer than the failsafe timeout
    with pytest.raises(ChargerConnectionError):
        await charger.refresh()  # the box dropped the socket
    assert sim.failsafe and sim.limit(1) == 8
    clock.tick(6)  # the box accepts connections again
    sim.update()
    with caplog.at_level(logging.INFO):
        snap = await charger.refresh()
    assert writes(sim, 5004) == [10, 10]
    assert not sim.failsafe and sim.limit(1) == 10
    assert charger.limit().shown(snap) == 10
    reapplied = [r.getMessage() for r in caplog.records if "applied again" in r.getMessage()]
    assert reapplied == [
        "Vestel EVC04: the charging current 10 A applied again: the box did not answer"
    ]


async def test_amperfied_reboot_then_limit_applied_again(make: Factory) -> None:
    """A reboot puts 261 back to 0 (not charging): the user's 10 A is written again."""
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(30)
    sim.reboot()
    await asyncio.sleep(0.05)  # the dropped socket is seen closed
    await charger.refresh()  # reconnects by itself; the counter since power on went down
    assert writes(sim, 261) == [100, 100]
    assert sim.limit(1) == 10
    assert not charger.desired[None].paused


async def test_amperfied_time_out_mode_then_limit_applied_again(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await charger.write_setting("watchdog_timeout", 5)
    await charger.refresh(slow=True)
    await charger.set_charging_current(12)
    clock.tick(25)  # nothing for longer than the watchdog (and the 20 s hold)
    sim.update()
    assert sim.timeout_mode
    await charger.refresh()
    assert writes(sim, 261) == [120, 120]
    assert not sim.timeout_mode


async def test_compleo_fallback_then_limits_applied_again(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("compleo_duo", clock=clock)
    assert isinstance(sim, CompleoSimulator)
    sim.plug(1)
    await charger.write_setting("fallback_timeout", 30)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10, 1)
    clock.tick(31)
    sim.update()
    assert sim.fallback
    await charger.refresh()
    assert writes(sim, 256)[-1] == 69 and sim.fallback is False
    assert writes(sim, 272)[-1] == 110  # the other connector's limit as the box had it


async def test_limit_changed_at_the_box_is_adopted(
    make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """Another client sets 12 A while we are connected: kept, not fought."""
    sim, charger = await make("vestel_evc04")
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    other = ModbusTransport("127.0.0.1", sim.port, 255, timeout=1.0)
    try:
        await other.write_register(5004, 12)
    finally:
        await other.close()
    with caplog.at_level(logging.INFO):
        snap = await charger.refresh(slow=True)
        await charger.refresh(slow=True)
    assert writes(sim, 5004) == [10, 12]  # no write back
    assert charger.desired[None].limit == 12
    assert charger.limit().shown(snap) == 12
    assert [r for r in caplog.records if "kept as the new setting" in r.getMessage()]


@pytest.mark.parametrize(("raw", "amps"), [(42, 6.0), (43, 6.2), (69, 10.0), (220, 31.8)])
async def test_power_set_at_the_box_is_adopted_as_the_amperes_that_give_it_back(
    make: Factory, raw: int, amps: float, caplog: pytest.LogCaptureFixture
) -> None:
    """4200 W on three phases is kept as 6.0 A (4200 W again), not as 6.1 A (4300 W),
    and adopted once: the wish and the box agree from then on."""
    sim, charger = await make("compleo_solo")
    await charger.refresh(slow=True)
    await charger.set_charging_current(16, 1)
    sim.bank.write(256, [raw])  # the box's own app
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            snap = await charger.refresh(slow=True)
    limit = charger.limit(1)
    assert charger.desired[1].limit == amps
    assert limit.matches(amps, snap.values)
    assert limit.shown(snap) == amps
    assert writes(sim, 256) == [111]  # 16 A only; nothing written back
    assert sum("kept as the new setting" in r.getMessage() for r in caplog.records) == 1


async def test_pause_at_the_box_is_adopted(make: Factory) -> None:
    sim, charger = await make("amperfied_business")
    await charger.refresh(slow=True)
    assert charger.desired[None].paused is False
    sim.bank.set("charging_current", 0)
    await charger.refresh(slow=True)
    assert charger.desired[None].paused
    assert charger.desired[None].limit == 16  # the limit to restore
    sim.bank.set("charging_current", 10.0)
    await charger.refresh(slow=True)
    assert charger.desired[None] == charger.desired[None].with_(paused=False, limit=10.0)
    assert writes(sim) == []


async def test_a_write_the_refresh_did_not_see_is_not_undone(make: Factory) -> None:
    """A read sent before a write must not make the write look like someone else's change."""
    sim, charger = await make("vestel_evc04")
    await charger.refresh(slow=True)
    original = charger.transport.read
    wrote = False

    async def read_then_write(*args: Any, **kwargs: Any) -> list[int]:
        nonlocal wrote
        words = await original(*args, **kwargs)
        if not wrote and args[1] == 5004:
            wrote = True
            await charger.set_charging_current(20)  # lands after this read
        return words

    charger.transport.read = read_then_write  # type: ignore[method-assign]
    await charger.refresh(slow=True)
    charger.transport.read = original  # type: ignore[method-assign]
    assert charger.desired[None].limit == 20
    assert charger.values["charging_current"] == 20
    await charger.refresh(slow=True)
    assert writes(sim, 5004) == [20]


# ---------------------------------------------------------------- Amperfied hold


async def test_amperfied_holds_a_setting_20s_last_value_wins(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    await charger.write_setting("watchdog_timeout", 0)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(5)
    await charger.set_charging_current(12)
    clock.tick(5)
    await charger.set_charging_current(14)
    assert sim.bank.raw("charging_current") == 100
    due = charger.next_due()
    assert due is not None and due.at == pytest.approx(clock.now + 10)
    clock.tick(9)
    assert not (await charger.run_due()).wrote
    clock.tick(1)
    assert (await charger.run_due()).wrote
    assert sim.bank.raw("charging_current") == 140
    assert writes(sim, 261) == [100, 140]
    assert charger.next_due() is None


async def test_amperfied_pause_is_never_held(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(2)
    await charger.pause()
    assert writes(sim, 261) == [100, 0]  # at once, inside the hold
    await charger.resume()
    assert writes(sim, 261) == [100, 0]  # the resume waits for the hold
    clock.tick(20)
    await charger.run_due()
    assert writes(sim, 261) == [100, 0, 100]


async def test_amperfied_resume_held_back_while_a_pause_is_sent_is_not_lost(
    make: Factory,
) -> None:
    """Pause and resume at once: the pause goes out, the resume waits for the hold and
    is written after it, although the pause's write finished after the resume came."""
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    await charger.refresh(slow=True)
    await charger.set_charging_current(10)
    clock.tick(2)
    await asyncio.gather(charger.pause(), charger.resume())
    assert writes(sim, 261) == [100, 0]
    assert charger.limit().pending_raw == 100
    await charger.refresh(slow=True)
    clock.tick(20)
    assert (await charger.run_due()).wrote
    await charger.refresh(slow=True)
    assert writes(sim, 261) == [100, 0, 100]
    assert charger.desired[None].paused is False
    assert charger.reconciler.adopted == 0


# ---------------------------------------------------------------- phase switch


async def test_solar_phase_switch_and_block(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_solar", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.write_setting("watchdog_timeout", 0)
    await charger.refresh(slow=True)
    await charger.set_phases(1)
    assert sim.bank.get("phase_switch") == 1
    snap = await charger.refresh()
    assert snap.get("phase_switch_state") == "switching"
    with pytest.raises(BusyError):
        await charger.set_phases(3)
    clock.tick(6)
    snap = await charger.refresh()
    assert snap.get("phase_switch_state") == "1"
    with pytest.raises(BusyError):  # the box blocks switches for about 90 s
        await charger.set_phases(3)
    with pytest.raises(InvalidValueError):
        await charger.set_phases(2)
    assert writes(sim, 501) == [1]
    clock.tick(90)
    await charger.set_phases(3)
    assert sim.bank.get("phase_switch") == 3
    assert charger.desired[None].phases == 3


async def test_solar_two_phase_switches_at_once_one_goes_out(make: Factory) -> None:
    """1 and 3 asked for at once: the first is switched, the second refused as busy; the
    wish is the box's, and nothing is taken over as set at the box afterwards."""
    clock = FakeClock()
    sim, charger = await make("amperfied_solar", clock=clock)
    await charger.write_setting("watchdog_timeout", 0)
    await charger.refresh(slow=True)
    results = await asyncio.gather(
        charger.set_phases(1), charger.set_phases(3), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], BusyError)
    assert writes(sim, 501) == [1]
    for _ in range(12):
        clock.tick(10)
        await charger.refresh(slow=True)
    assert sim.bank.get("phase_switch_state") == "1"
    assert charger.desired[None].phases == 1
    assert charger.reconciler.adopted == 0


async def test_solar_a_failed_phase_switch_does_not_block_the_next(make: Factory) -> None:
    sim, charger = await make("amperfied_solar")
    await charger.refresh(slow=True)
    sim.server.faults.write_exception = 4
    with pytest.raises(ModbusExceptionError):
        await charger.set_phases(1)
    sim.server.faults.write_exception = None
    await charger.set_phases(1)
    assert writes(sim, 501) == [1]


async def test_solar_phases_applied_again_after_a_reboot(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("amperfied_solar", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.write_setting("watchdog_timeout", 0)
    await charger.refresh(slow=True)
    await charger.set_phases(1)
    clock.tick(100)
    await charger.refresh()
    sim.reboot()  # back in three-phase mode
    await asyncio.sleep(0.05)
    await charger.refresh()
    assert writes(sim, 501) == [1, 1]


async def test_remote_lock(make: Factory) -> None:
    sim, charger = await make("amperfied_home")
    sim.plug(1)
    await charger.set_remote_lock(True)
    snap = await charger.refresh(slow=True)
    assert snap.get("remote_lock") == "locked"
    assert snap.get("status") == "unavailable"  # F: locked or not ready
    await charger.set_remote_lock(False)
    assert (await charger.refresh(slow=True)).get("status") == "charging"


# ---------------------------------------------------------------- keepalive


async def test_vestel_keepalive_prevents_failsafe(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    assert isinstance(sim, VestelSimulator)
    await charger.refresh(slow=True)
    assert charger.keepalive is not None and charger.keepalive.interval() == 5.0
    for _ in range(12):
        due = charger.next_due()
        assert due is not None and due.at <= clock.now + 5
        clock.now = due.at
        await charger.run_due()
    await charger.refresh()
    assert sim.failsafe_events == 0
    assert sim.alive_writes == 12


async def test_vestel_shorter_timeout_is_served_first(make: Factory) -> None:
    """From a long timeout to a short one: an alive write goes before the new timeout."""
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    assert isinstance(sim, VestelSimulator)
    await charger.write_setting("failsafe_timeout", 1051)
    await charger.run_due()
    clock.tick(200)  # the keepalive is not due for 262 s ...
    await charger.write_setting("failsafe_timeout", 6)  # ... but the box's timer runs
    assert [w[0] for w in writes(sim)][-2:] == [6000, 2002]
    due = charger.next_due()
    assert due is not None and due.at == pytest.approx(clock.now + 1.5)
    assert sim.failsafe_events == 0


async def test_without_keepalive_vestel_drops_socket_and_falls_back(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("vestel_evc04", clock=clock)
    assert isinstance(sim, VestelSimulator)
    sim.plug(1)
    await charger.refresh(slow=True)
    clock.tick(21)
    with pytest.raises(ChargerConnectionError):  # the box drops the socket
        await charger.refresh()
    assert sim.failsafe
    assert sim.limit(1) == 6  # the failsafe current


async def test_amperfied_watchdog_asks_for_polls(make: Factory) -> None:
    """A 5 s watchdog is served by polls (data), every 5 / 3 s, never by other reads."""
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    await charger.write_setting("watchdog_timeout", 5)
    await charger.refresh(slow=True)
    assert charger.keepalive is not None
    assert charger.keepalive.interval() == pytest.approx(5 / 3)
    reads = sim.server.stats.requests
    for _ in range(10):
        due = charger.next_due()
        assert due is not None and due.poll
        clock.now = due.at
        assert (await charger.run_due()).poll
        await charger.refresh()  # what the coordinator does when a poll is asked for
    assert sim.timeout_events == 0
    fast_blocks = len(charger.reader.plan_for({charger.points[0].tier.FAST}))
    assert sim.server.stats.requests - reads == 10 * fast_blocks


async def test_a_short_watchdog_shortens_the_request_timeout(make: Factory) -> None:
    """A reply that does not come is given up within one watchdog interval, in time to retry."""
    _, charger = await make("amperfied_business", request_timeout=5.0)
    await charger.refresh(slow=True)
    assert charger.transport.timeout == 5.0  # watchdog 15 s: every 5 s, the configured 5 s
    await charger.write_setting("watchdog_timeout", 6)
    await charger.refresh(slow=True)
    assert charger.transport.timeout == pytest.approx(6 / 3)
    await charger.write_setting("watchdog_timeout", 0)  # off: nothing to keep alive
    await charger.refresh(slow=True)
    assert charger.transport.timeout == 5.0


@pytest.mark.parametrize(
    ("model", "key", "too_short", "shortest"),
    [("amperfied_home", "watchdog_timeout", 4.999, 5), ("compleo_solo", "fallback_timeout", 4, 5)],
)
async def test_timeouts_the_keepalive_cannot_serve_are_refused(
    make: Factory, model: str, key: str, too_short: float, shortest: float
) -> None:
    """Off, or long enough for a keepalive every 1.5 s or slower: nothing shorter."""
    sim, charger = await make(model)
    await charger.refresh(slow=True)
    for value in (1, 2.5, too_short):
        with pytest.raises(InvalidValueError, match=f"allowed 0, {shortest}–"):
            await charger.write_setting(key, value)
    await charger.write_setting(key, shortest)
    await charger.write_setting(key, 0)
    address = charger.point(key).address
    assert writes(sim, address) == [round(shortest / charger.point(key).scale), 0]
    assert sim.bank.invalid_writes == []


@pytest.mark.parametrize("seen_in_a_poll", [False, True])
async def test_amperfied_shorter_watchdog_shortens_the_poll_rhythm_at_once(
    make: Factory, seen_in_a_poll: bool
) -> None:
    """30 s -> 5 s, written here or at the box: the next poll within 5 / 3 s, no time-out."""
    clock = FakeClock()
    sim, charger = await make("amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator) and charger.keepalive is not None
    await charger.write_setting("watchdog_timeout", 30)
    await charger.refresh(slow=True)
    due = charger.next_due()
    assert due is not None and due.poll
    clock.now = due.at  # a poll asked for by the watchdog, the next one 10 s later
    assert (await charger.run_due()).poll
    await charger.refresh()
    if seen_in_a_poll:
        sim.bank.set("watchdog_timeout", 5.0)
        await charger.refresh(slow=True)
    else:
        await charger.write_setting("watchdog_timeout", 5)
    served = sim.bank.last_transaction
    due = charger.next_due()
    assert served is not None and due is not None
    assert due.at <= served + 5 / 3 + 1e-9
    for _ in range(8):
        due = charger.next_due()
        assert due is not None
        clock.now = due.at
        assert (await charger.run_due()).poll
        await charger.refresh()
    assert sim.timeout_events == 0


async def test_compleo_keepalive_rewrites_limits(make: Factory) -> None:
    clock = FakeClock()
    sim, charger = await make("compleo_solo", clock=clock)
    assert isinstance(sim, CompleoSimulator)
    await charger.refresh(slow=True)
    assert charger.next_due() is None  # no fallback configured
    await charger.write_setting("fallback_timeout", 30)
    await charger.refresh(slow=True)
    assert charger.keepalive is not None and charger.keepalive.interval() == pytest.approx(10)
    await charger.set_charging_current(10, 1)
    for _ in range(6):
        due = charger.next_due()
        assert due is not None
        clock.now = due.at
        await charger.run_due()
    assert sim.fallback_events == 0
    assert writes(sim)[-1] == (256, [69])  # 10 A x 3 x 230 V = 6900 W


async def test_compleo_restart_serves_the_fallback_timer_from_the_wishes(make: Factory) -> None:
    """After a restart the stored limits are written at once, well inside the timeout."""
    clock = FakeClock()
    sim, charger = await make("compleo_solo", clock=clock)
    assert isinstance(sim, CompleoSimulator)
    sim.bank.set("fallback_timeout", 30)
    charger.restore_desired({"connectors": {"1": {"paused": False, "limit": 10}}})
    await charger.refresh(slow=True)
    assert writes(sim, 256) == [69]
    clock.tick(29)
    sim.update()
    assert sim.fallback_events == 0


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
    assert not charger.serves("fault_code")
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
    assert charger.desired[None].paused
