"""A wallbox we do not ship, from a register map file alone, against the map simulator.

The Acme Flux (tests/fixtures/maps/acme_flux.yaml, fictional) differs from the
three families in every way a map can: other addresses, holding registers only,
the limit in mA, a status register with its own numbering, a heartbeat register
with its own value and period.  No code knows it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger import (
    Charger,
    InvalidValueError,
    ModbusTransport,
    ModelInfo,
    Table,
    load_user_map,
    scan_user_maps,
)
from custom_components.wallbox_modbus.charger.user_maps import ensure_folder
from simulators.mapsim import MapSimulator
from simulators.registry import simulator_for

pytestmark = pytest.mark.asyncio
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "maps"
ACME = FIXTURES / "acme_flux.yaml"


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


class Spy(ModbusTransport):
    """The transport, with every request it sends written down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[tuple[str, Table, int, int | list[int]]] = []

    async def read(self, table: Table, address: int, count: int) -> list[int]:
        self.sent.append(("read", Table(table), address, count))
        return await super().read(table, address, count)

    async def write_register(self, address: int, value: int) -> None:
        self.sent.append(("write", Table.HOLDING, address, [value]))
        await super().write_register(address, value)


@pytest.fixture
def model() -> ModelInfo:
    (found,) = load_user_map(ACME)
    return found


@pytest.fixture
async def acme(model: ModelInfo) -> AsyncIterator[tuple[MapSimulator, Charger, Spy, FakeClock]]:
    clock = FakeClock()
    sim = simulator_for(model)(port=0, clock=clock)
    assert isinstance(sim, MapSimulator)  # no profile of its own: the map is all there is
    await sim.start()
    transport = Spy("127.0.0.1", sim.port, 7, timeout=1.0, backoff_initial=0, clock=clock)
    charger = Charger(transport, model, clock=clock)
    try:
        yield sim, charger, transport, clock
    finally:
        await charger.close()
        await sim.stop()


def writes(sim: MapSimulator, address: int) -> list[int]:
    return [v[0] for a, v in sim.server.stats.writes_log if a == address]


async def test_identity_values_and_capabilities(
    acme: tuple[MapSimulator, Charger, Spy, FakeClock],
) -> None:
    sim, charger, _, _ = acme
    identity = await charger.identify()
    assert (identity.serial, identity.firmware) == ("ACME-FLUX-0042", "3.2.7")
    assert (identity.manufacturer, identity.model) == ("Acme", "Flux 11")
    assert list(charger.limits) == [None]
    assert charger.keepalive is not None and charger.keepalive.kind == "write"
    assert charger.phase_switch is None and charger.remote_lock is None
    sim.plug(1, max_current=16, phases=3)
    snap = await charger.refresh(slow=True)
    assert snap.get("status") == "charging"
    assert snap.get("vehicle_connected") is True and snap.get("charging") is True
    assert snap.get("current_l2") == 16.0
    assert snap.get("voltage_l1") == 230.0
    assert snap.get("power") == 16 * 230 * 3
    assert snap.get("temperature") == 31.5
    sim.car_full(1)
    assert (await charger.refresh()).get("status") == "suspended_ev"
    sim.unplug(1)
    snap = await charger.refresh()
    assert snap.get("status") == "available" and snap.get("vehicle_connected") is False


async def test_limit_in_milliamperes(acme: tuple[MapSimulator, Charger, Spy, FakeClock]) -> None:
    sim, charger, _, _ = acme
    await charger.identify()
    sim.plug(1, max_current=32)
    snap = await charger.refresh(slow=True)
    assert charger.limit().range(snap.values) == (6.0, 16.0)
    await charger.set_charging_current(10.5)
    assert writes(sim, 3000) == [10500]
    for bad in (10.25, 5.5, 16.5, 0.5):
        with pytest.raises(InvalidValueError):
            await charger.set_charging_current(bad)
    await charger.pause()
    await charger.resume()
    assert writes(sim, 3000) == [10500, 0, 10500]
    assert (await charger.refresh()).get("current_l1") == 10.5


async def test_heartbeat_keeps_it_out_of_failsafe_and_a_fallback_is_undone(
    acme: tuple[MapSimulator, Charger, Spy, FakeClock],
) -> None:
    sim, charger, _, clock = acme
    await charger.identify()
    sim.plug(1)
    await charger.refresh(slow=True)
    await charger.set_charging_current(12)
    for _ in range(24):  # two minutes: eight timeouts of 15 s
        due = charger.next_due()
        assert due is not None and due.at <= clock.now + 5
        clock.now = due.at
        await charger.run_due()
        sim.update()
    assert sim.failsafe_events == 0
    assert set(writes(sim, 3100)) == {42405} and len(writes(sim, 3100)) >= 23
    clock.tick(20)  # no heartbeat for longer than the timeout
    sim.update()
    assert sim.failsafe and sim.limit(1) == 6
    await charger.refresh()  # the lapse is noticed: the limit goes out again
    assert writes(sim, 3000) == [12000, 12000]
    assert not sim.failsafe and sim.limit(1) == 12


async def test_reads_and_writes_stay_inside_the_map(
    acme: tuple[MapSimulator, Charger, Spy, FakeClock],
) -> None:
    """Only declared registers are read, only writable points with valid values written."""
    sim, charger, transport, _ = acme
    await charger.identify()
    sim.plug(1)
    for slow in (True, False, False):
        await charger.refresh(slow=slow)
    await charger.set_charging_current(8)
    await charger.pause()
    with pytest.raises(InvalidValueError):
        await charger.set_charging_current(20)
    await charger.run_due()
    served = {
        (p.table, a) for p in charger.map.points if p.readable for a in range(p.address, p.end)
    }
    writable = {p.address: p for p in charger.map.points if p.writable}
    assert transport.sent
    for kind, table, address, what in transport.sent:
        if kind == "read":
            assert isinstance(what, int) and what <= 125
            assert all((table, a) in served for a in range(address, address + what)), address
        else:
            point = writable[address]
            assert point.write is not None and isinstance(what, list)
            assert point.write.allows(what[0]), (address, what)


async def test_folder_of_maps(tmp_path: Path) -> None:
    """Valid maps give models, invalid ones their error; the folder gets a README."""
    folder = tmp_path / "wallbox_modbus"
    ensure_folder(folder)
    assert "python -m simulators --map" in (folder / "README.md").read_text()
    shutil.copy(ACME, folder / "acme_flux.yaml")
    (folder / "broken.yaml").write_text(
        ACME.read_text().replace("scale: 0.01, unit: A", "scale: ten, unit: A", 1)
    )
    (folder / "notes.txt").write_text("not a map")
    found = scan_user_maps(folder)
    assert list(found.models) == ["user:acme_flux.yaml#flux11"]
    error = found.unusable["broken.yaml"]
    assert (error.place, error.code, error.params["field"]) == ("current_l1", "not_number", "scale")
    assert str(error) == "broken.yaml: point `current_l1`: `scale` must be a number, found 'ten'"
    assert scan_user_maps(tmp_path / "nowhere").models == {}
