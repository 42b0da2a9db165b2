"""The simulators behave as the vendor documents say, seen from a Modbus client over TCP."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from custom_components.wallbox_modbus.charger import (
    ChargerConnectionError,
    ChargerTimeoutError,
    IllegalAddressError,
    ModbusExceptionError,
    ModbusTransport,
    Table,
)
from simulators.amperfied import AmperfiedSimulator
from simulators.base import WallboxSimulator
from simulators.compleo import CompleoSimulator
from simulators.registry import SIMULATORS
from simulators.vestel import VestelSimulator

pytestmark = pytest.mark.asyncio
ROOT = Path(__file__).resolve().parents[2]
INPUT, HOLDING = Table.INPUT, Table.HOLDING


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def running() -> AsyncIterator[list[Any]]:
    """Everything started in a test, stopped at teardown."""
    items: list[Any] = []
    yield items
    for item in reversed(items):
        if isinstance(item, ModbusTransport):
            await item.close()
        else:
            await item.stop()


async def start(
    running: list[Any], model: str, **kwargs: Any
) -> tuple[WallboxSimulator, ModbusTransport]:
    sim = SIMULATORS[model](port=0, **kwargs)
    await sim.start()
    client = ModbusTransport("127.0.0.1", sim.port, 255, timeout=0.5, backoff_initial=0.01)
    running.extend([sim, client])
    return sim, client


# ---------------------------------------------------------------- Vestel


async def test_vestel_failsafe_drops_socket_and_refuses_for_a_while(
    running: list[Any], clock: FakeClock
) -> None:
    sim, client = await start(running, "vestel_evc04", clock=clock)
    assert isinstance(sim, VestelSimulator)
    sim.plug(1)
    await client.write_register(5004, 16)
    await client.write_register(6000, 1)
    clock.tick(15)
    await client.write_register(6000, 1)  # alive in time: no failsafe
    clock.tick(15)
    assert (await client.read(INPUT, 1008, 1)) == [16000]
    assert not sim.failsafe
    clock.tick(21)  # past the 20 s failsafe timeout without an alive write
    with pytest.raises(ChargerConnectionError):  # the box drops the socket
        await client.read(INPUT, 1008, 1)
    assert sim.failsafe
    assert sim.limit(1) == 6  # failsafe current (2000)
    with pytest.raises(ChargerConnectionError):  # and refuses new connections for a while
        await client.read(INPUT, 1008, 1)
    clock.tick(6)
    sim.update()
    await asyncio.sleep(0.05)  # past the client's reconnect backoff
    await client.write_register(6000, 1)
    assert sim.failsafe  # alive writes keep the socket; the failsafe current stays
    assert (await client.read(INPUT, 1008, 1)) == [6000]
    await client.write_register(5004, 16)  # the master takes control again
    assert not sim.failsafe
    assert (await client.read(INPUT, 1008, 1)) == [16000]


async def test_vestel_limit_changes_what_is_read(running: list[Any]) -> None:
    sim, client = await start(running, "vestel_evc04")
    sim.plug(1, max_current=32, phases=3)
    await client.write_register(5004, 10)
    assert await client.read(INPUT, 1008, 1) == [10000]
    assert await client.read(INPUT, 1020, 2) == [0, 10 * 230 * 3]
    assert await client.read(INPUT, 1000, 1) == [2]  # charging
    await client.write_register(5004, 0)
    assert await client.read(INPUT, 1000, 1) == [3]  # suspended by the EVSE
    sim.unplug(1)
    assert await client.read(HOLDING, 5004, 1) == [6]  # the box puts 6 A back
    with pytest.raises(ModbusExceptionError) as err:
        await client.write_register(5004, 3)  # not a valid limit
    assert err.value.code == 3


async def test_vestel_session_energy_grows(running: list[Any], clock: FakeClock) -> None:
    sim, client = await start(running, "vestel_evc04", clock=clock)
    sim.bank.set("failsafe_timeout", 0)  # half an hour without alive writes
    sim.plug(1, max_current=16, phases=1)
    await client.write_register(5004, 16)
    clock.tick(1800)
    sim.update()
    words = await client.read(INPUT, 1502, 2)
    assert (words[0] << 16 | words[1]) == 16 * 230 // 2  # Wh after half an hour
    words = await client.read(INPUT, 1508, 2)
    assert words == [0, 1800]


async def test_unknown_address_is_exception_2(running: list[Any]) -> None:
    _, client = await start(running, "vestel_evc04")
    with pytest.raises(IllegalAddressError):
        await client.read(INPUT, 5004, 1)  # 5004 is a holding register
    with pytest.raises(IllegalAddressError):
        await client.read(HOLDING, 1000, 1)
    with pytest.raises(IllegalAddressError):
        await client.read(HOLDING, 6000, 1)  # the alive register is written, not read
    assert await client.read(INPUT, 1000, 40)  # a documented block with reserved words


# ---------------------------------------------------------------- Amperfied


@pytest.mark.parametrize(
    ("model", "layout", "present", "absent"),
    [
        ("amperfied_home", 0x108, [(INPUT, 17, 2)], [(INPUT, 19, 2), (INPUT, 1000, 1)]),
        (
            "amperfied_business",
            0x200,
            [(INPUT, 19, 2), (INPUT, 3008, 2)],
            [(HOLDING, 501, 1), (INPUT, 5001, 1)],
        ),
        (
            "amperfied_solar",
            0x201,
            [(HOLDING, 501, 1), (INPUT, 5001, 1)],
            [(INPUT, 3001, 1), (INPUT, 21, 1)],
        ),
    ],
)
async def test_amperfied_layout_gates_registers(
    running: list[Any],
    model: str,
    layout: int,
    present: list[tuple[Table, int, int]],
    absent: list[tuple[Table, int, int]],
) -> None:
    _, client = await start(running, model)
    assert await client.read(INPUT, 4, 1) == [layout]
    for table, address, count in present:
        assert len(await client.read(table, address, count)) == count
    for table, address, count in absent:
        with pytest.raises(IllegalAddressError):
            await client.read(table, address, count)


async def test_amperfied_accepts_one_connection(running: list[Any]) -> None:
    sim, client = await start(running, "amperfied_business")
    await client.read(INPUT, 4, 1)
    second = ModbusTransport("127.0.0.1", sim.port, 255, timeout=0.5, backoff_initial=0.05)
    running.append(second)
    with pytest.raises(ChargerConnectionError):
        await second.read(INPUT, 4, 1)
    assert sim.server.stats.connections_refused >= 1
    await client.close()
    await asyncio.sleep(0.1)  # past the second client's reconnect backoff
    assert await second.read(INPUT, 4, 1) == [0x200]  # free again once the first left


async def test_amperfied_rfid_registers_as_the_document_lays_them_out(
    running: list[Any],
) -> None:
    """300 sets the bits of 2100; a card fills 2000-2018 with the document's own example."""
    sim, client = await start(running, "amperfied_home", layout=(2, 0, 0))
    assert isinstance(sim, AmperfiedSimulator)
    assert await client.read(INPUT, 2100, 1) == [0]
    await client.write_register(300, 0x1001)  # activate the internal whitelist
    await client.write_register(300, 0x1005)  # activate authentication
    assert await client.read(INPUT, 2100, 1) == [0b101]
    await client.write_register(300, 0x1000)
    assert await client.read(INPUT, 2100, 1) == [0b100]
    with pytest.raises(ModbusExceptionError):
        await client.write_register(300, 0x1006)  # not a command
    await client.write_register(300, 0x1004)
    sim.present_card("04 49 62 FA BA 10 90", "00040550791897041156")
    words = await client.read(INPUT, 2000, 21)
    assert words[0] == 1  # counted: nothing restricts the card
    assert words[1] == 7  # the UID is 7 bytes long
    assert words[2:8] == [0x0449, 0x62FA, 0xBA10, 0x9000, 0, 0]  # Reg [2002]..[2007]
    assert words[8:18] == [0x3030, 0x3034, 0x3035, 0x3530, 0x3739, 0x3138, 0x3937, 0x3034,
                           0x3131, 0x3536]  # fmt: skip
    assert words[18] == 0  # no secure card
    await client.write_register(301, 0x2002)  # teaching
    assert sim.teaching
    await client.write_register(301, 0x2003)
    assert not sim.teaching
    with pytest.raises(IllegalAddressError):
        await client.read(HOLDING, 300, 1)  # the simulator refuses reads of the commands


async def test_amperfied_watchdog_timeout_mode(running: list[Any], clock: FakeClock) -> None:
    sim, client = await start(running, "amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await client.write_register(257, 5000)  # 5 s watchdog
    await client.write_register(262, 80)  # failsafe 8 A
    await client.write_register(261, 160)
    clock.tick(4)
    assert await client.read(INPUT, 6, 1) == [160]
    clock.tick(6)
    sim.update()  # time passes with no transaction
    assert sim.timeout_mode
    assert sim.limit(1) == 8.0
    await client.read(INPUT, 6, 1)  # a read does not end it ...
    assert sim.timeout_mode
    await client.write_register(261, 160)  # ... the maximal current written again does
    assert not sim.timeout_mode
    assert await client.read(INPUT, 6, 1) == [160]


async def test_amperfied_reboot_puts_261_back_to_its_default(
    running: list[Any], clock: FakeClock
) -> None:
    sim, client = await start(running, "amperfied_business", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await client.write_register(257, 0)
    await client.write_register(261, 100)
    clock.tick(3600)
    assert await client.read(INPUT, 15, 2) == [0, 10 * 230 * 3]  # VAh since power on
    connects = client.stats.connects
    sim.reboot()
    await asyncio.sleep(0.05)
    assert await client.read(HOLDING, 261, 1) == [0]  # documented default: no charging
    assert client.stats.connects == connects + 1  # every connection was dropped
    assert await client.read(INPUT, 15, 2) == [0, 0]
    assert (await client.read(INPUT, 17, 2))[1] == 10 * 230 * 3  # since installation: kept


async def test_amperfied_phase_switch_delay_block_and_reboot(
    running: list[Any], clock: FakeClock
) -> None:
    sim, client = await start(running, "amperfied_solar", clock=clock)
    assert isinstance(sim, AmperfiedSimulator)
    sim.plug(1)
    await client.write_register(257, 0)
    await client.write_register(501, 1)
    assert await client.read(INPUT, 5001, 1) == [0]  # switching
    assert await client.read(INPUT, 6, 3) == [0, 0, 0]  # no current while switching
    clock.tick(6)
    assert await client.read(INPUT, 5001, 1) == [1]
    assert await client.read(INPUT, 6, 3) == [160, 0, 0]
    await client.write_register(501, 3)  # inside the 90 s block: ignored
    assert await client.read(INPUT, 5001, 1) == [1]
    assert await client.read(HOLDING, 501, 1) == [1]
    clock.tick(90)
    await client.write_register(501, 3)
    clock.tick(6)
    assert await client.read(INPUT, 5001, 1) == [3]
    await client.write_register(501, 1)
    clock.tick(6)
    sim.reboot()
    await asyncio.sleep(0.05)
    assert await client.read(INPUT, 5001, 1) == [3]  # back in three-phase mode
    with pytest.raises(ModbusExceptionError) as err:
        await client.write_register(501, 2)
    assert err.value.code == 3


async def test_amperfied_rejects_limits_between_0_and_6a(running: list[Any]) -> None:
    sim, client = await start(running, "amperfied_home")
    for raw in (1, 59, 161):
        with pytest.raises(ModbusExceptionError):
            await client.write_register(261, raw)
    await client.write_register(261, 0)
    await client.write_register(261, 60)
    assert sim.bank.raw("charging_current") == 60


async def test_writes_outside_the_valid_values_are_recorded(running: list[Any]) -> None:
    """Outside the map's ranges: refused (exception 3); above a maximum the box reports
    now: taken, but recorded.  Either way the write is in invalid_writes with its reason."""
    sim, client = await start(running, "amperfied_home")
    with pytest.raises(ModbusExceptionError):
        await client.write_register(261, 161)
    sim.bank.set("hw_max_current", 10)
    await client.write_register(262, 120)  # failsafe 12 A above the 10 A of register 100
    await client.write_register(261, 110)  # limit 11 A above register 100
    await client.write_register(261, 100)  # 10 A: valid
    found = [(w.point, w.raw, w.refused) for w in sim.bank.invalid_writes]
    assert found == [
        ("charging_current", 161, True),
        ("failsafe_current", 120, False),
        ("charging_current", 110, False),
    ]
    assert "above 100 (hw_max_current = 10)" in sim.bank.invalid_writes[1].why
    assert "11 A outside 6-10 A" in sim.bank.invalid_writes[2].why


async def test_compleo_station_maximum_follows_the_connector_count(running: list[Any]) -> None:
    sim, client = await start(running, "compleo_solo")
    await client.write_register(0, 220)
    await client.write_register(3, 221)  # 22.1 kW: above one connector's 22 kW
    assert [(w.point, w.raw) for w in sim.bank.invalid_writes] == [("fallback_power", 221)]


# ---------------------------------------------------------------- Compleo


async def test_compleo_solo_has_no_left_connector(running: list[Any]) -> None:
    _, client = await start(running, "compleo_solo")
    assert await client.read(INPUT, 8, 1) == [1]
    with pytest.raises(IllegalAddressError):
        await client.read(INPUT, 273, 1)
    with pytest.raises(IllegalAddressError):
        await client.read(HOLDING, 272, 1)


async def test_compleo_power_limit_and_fallback(running: list[Any], clock: FakeClock) -> None:
    sim, client = await start(running, "compleo_duo", clock=clock)
    assert isinstance(sim, CompleoSimulator)
    sim.plug(2, max_current=32, phases=3)
    await client.write_register(272, 69)  # 6900 W = 10 A on three phases
    assert await client.read(INPUT, 275, 3) == [100, 100, 100]
    assert await client.read(INPUT, 284, 1) == [2]  # charging
    assert (await client.read(INPUT, 273, 1))[0] & 0b11 == 0b11
    await client.write_register(3, 42)  # fallback 4200 W
    await client.write_register(5, 30)  # after 30 s without a write
    clock.tick(31)
    sim.update()
    assert sim.fallback
    assert await client.read(INPUT, 275, 1) == [61]  # 4200 W / (3 x 230 V) = 6.1 A
    await client.write_register(272, 69)
    assert not sim.fallback


# ---------------------------------------------------------------- faults


async def test_fault_switches(running: list[Any]) -> None:
    sim, client = await start(running, "compleo_solo")
    assert await client.read(INPUT, 8, 1) == [1]
    sim.server.faults.exception = 4
    with pytest.raises(ModbusExceptionError):
        await client.read(INPUT, 8, 1)
    sim.server.faults.exception = None
    sim.server.faults.silent = True
    with pytest.raises(ChargerTimeoutError):
        await client.read(INPUT, 8, 1)
    sim.server.faults.silent = False
    sim.plug(1)
    sim.server.faults.frozen = True
    before = await client.read(INPUT, 259, 1)
    await client.write_register(256, 60)
    assert await client.read(INPUT, 259, 1) == before  # values no longer move
    sim.server.faults.frozen = False
    assert await client.read(INPUT, 259, 1) != before
    accepted = sim.server.stats.connections_accepted
    await sim.server.drop_connections()
    await asyncio.sleep(0.05)
    assert sim.server.open_connections == 0
    assert await client.read(INPUT, 8, 1) == [1]  # the transport reconnects by itself
    assert sim.server.stats.connections_accepted == accepted + 1


async def test_standalone_with_port_argument(unused_tcp_port: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        "amperfied_solar",
        "--port",
        str(unused_tcp_port),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        info = json.loads(line)
        assert info == {"model": "amperfied_solar", "host": "127.0.0.1", "port": unused_tcp_port}
        client = ModbusTransport("127.0.0.1", unused_tcp_port, 255, timeout=2)
        try:
            assert await client.read(INPUT, 4, 1) == [0x201]
        finally:
            await client.close()
    finally:
        proc.terminate()
        await proc.wait()
    assert proc.returncode == 0
