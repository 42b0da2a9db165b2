"""Tests for the Modbus TCP transport, over real TCP on 127.0.0.1.

Two peers: pyModbusTCP's server (an independent, non-pymodbus Modbus stack) for
the happy paths and Modbus exceptions, and a tiny raw asyncio server below for
the faults (silence, dropped connections, wrong replies) and for counting
connections.  Backoff is driven by an injected clock, never by sleeping.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from typing import Any

import pytest
import pytest_asyncio
from pymodbus.client import AsyncModbusTcpClient
from pyModbusTCP.server import DataBank, ModbusServer

from custom_components.wallbox_modbus.charger.const import Table
from custom_components.wallbox_modbus.charger.errors import (
    ChargerConnectionError,
    ChargerProtocolError,
    ChargerTimeoutError,
    IllegalAddressError,
    ModbusExceptionError,
)
from custom_components.wallbox_modbus.charger.transport import (
    PYMODBUS_LOGGER,
    ModbusTransport,
    TransportStats,
)

HOST = "127.0.0.1"
UNIT = 7
FAULT_TIMEOUT = 0.3  # transport timeout where a fault is expected to hit it
SAFE_TIMEOUT = 3.0  # transport timeout where it must never be reached
GUARD = 5.0  # test guard against hanging; never reached when green
REGISTERS = 100  # pyModbusTCP tables hold addresses 0..99; beyond is exception 2


class FakeClock:
    """An injectable monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- pyModbusTCP peer ------------------------------------------------------------


@pytest.fixture(scope="module")
def pymodbustcp_server() -> Iterator[tuple[ModbusServer, DataBank]]:
    """One pyModbusTCP server for the module (stopping one takes up to 0.5 s)."""
    bank = DataBank(coils_size=0, d_inputs_size=0, h_regs_size=REGISTERS, i_regs_size=REGISTERS)
    server = ModbusServer(HOST, 0, no_block=True, data_bank=bank)
    server.start()
    try:
        yield server, bank
    finally:
        server.stop()


@pytest.fixture
def bank(pymodbustcp_server: tuple[ModbusServer, DataBank]) -> DataBank:
    _, data = pymodbustcp_server
    data.set_input_registers(0, [0] * REGISTERS)
    data.set_holding_registers(0, [0] * REGISTERS)
    return data


@pytest.fixture
def pymodbustcp_port(pymodbustcp_server: tuple[ModbusServer, DataBank]) -> int:
    server, _ = pymodbustcp_server
    port: int = server._service.server_address[1]  # bound to port 0
    return port


@pytest_asyncio.fixture
async def real_transport(pymodbustcp_port: int, bank: DataBank) -> AsyncIterator[ModbusTransport]:
    transport = ModbusTransport(HOST, pymodbustcp_port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        yield transport
    finally:
        await transport.close()


# -- raw fault server ------------------------------------------------------------


class FaultServer:
    """A minimal Modbus TCP server whose behaviour a test switches at will.

    mode: "answer" (register n holds 1000 + n), "silent" (never answers),
    "close" (drops the connection on a request), "short" / "long" (read replies
    with one register too few / too many, byte count consistent).
    """

    def __init__(self) -> None:
        self.mode = "answer"
        self.reply_delay = 0.0
        self.accepted = 0
        self.active = 0
        self.max_active = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.disconnects = 0
        self.received = 0
        self.units: list[int] = []
        self.function_codes: list[int] = []
        self._changed = asyncio.Condition()
        self._handlers: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()
            await self._server.wait_closed()
            self._server = None
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=GUARD)

    def handler_tasks(self) -> set[asyncio.Task[Any]]:
        return set(self._handlers)

    async def wait_for(self, what: str, value: int) -> None:
        """Wait until counter `what` reaches value (guarded, not a speed assertion)."""
        async with asyncio.timeout(GUARD):
            async with self._changed:
                await self._changed.wait_for(lambda: getattr(self, what) >= value)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.accepted += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        await self._notify()
        try:
            while True:
                header = await reader.readexactly(7)
                tid, _protocol, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                self.units.append(unit)
                self.function_codes.append(pdu[0])
                self.received += 1
                await self._notify()
                if self.mode == "silent":
                    continue
                if self.mode == "close":
                    break
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                if self.reply_delay:
                    await asyncio.sleep(self.reply_delay)
                self.in_flight -= 1
                reply = self._reply(pdu)
                writer.write(struct.pack(">HHHB", tid, 0, len(reply) + 1, unit) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()
            self.active -= 1
            self.disconnects += 1
            await self._notify()
            self._handlers.discard(task)

    def _reply(self, pdu: bytes) -> bytes:
        function = pdu[0]
        if function in (3, 4):
            address, count = struct.unpack(">HH", pdu[1:5])
            if self.mode == "short":
                count -= 1
            elif self.mode == "long":
                count += 1
            words = [1000 + address + i for i in range(count)]
            return struct.pack(f">BB{count}H", function, 2 * count, *words)
        if function in (6, 16):
            return pdu[:5]  # echo address and value / count
        return struct.pack(">BB", function | 0x80, 1)


@pytest_asyncio.fixture
async def fault_server() -> AsyncIterator[FaultServer]:
    server = FaultServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A port bound but not listening: connecting is refused, and nobody can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@pytest.fixture
def connect_attempts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the transport's TCP connect attempts (pymodbus client connect calls)."""
    attempts: list[int] = []
    original = AsyncModbusTcpClient.connect

    async def counting_connect(self: Any) -> bool:
        attempts.append(1)
        result: bool = await original(self)
        return result

    monkeypatch.setattr(AsyncModbusTcpClient, "connect", counting_connect)
    return attempts


def other_tasks(*exclude: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    tasks = asyncio.all_tasks() - {asyncio.current_task()}
    for group in exclude:
        tasks -= group
    return {task for task in tasks if not task.done()}


# -- against pyModbusTCP ---------------------------------------------------------


@pytest.mark.asyncio
async def test_read_input_and_holding_are_separate_tables(
    real_transport: ModbusTransport, bank: DataBank
) -> None:
    bank.set_input_registers(10, [1, 2, 65535])
    bank.set_holding_registers(10, [7, 8, 9])

    assert await real_transport.read(Table.INPUT, 10, 3) == [1, 2, 65535]
    assert await real_transport.read(Table.HOLDING, 10, 3) == [7, 8, 9]
    assert await real_transport.read(Table.HOLDING, 11, 1) == [8]
    assert real_transport.connected
    assert real_transport.stats.connects == 1


@pytest.mark.asyncio
async def test_read_accepts_table_strings(real_transport: ModbusTransport, bank: DataBank) -> None:
    bank.set_input_registers(0, [42])
    assert await real_transport.read("input", 0, 1) == [42]  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_read_maximum_count(real_transport: ModbusTransport, bank: DataBank) -> None:
    bank.set_holding_registers(0, list(range(100, 200)))
    assert await real_transport.read(Table.HOLDING, 0, REGISTERS) == list(range(100, 200))


@pytest.mark.asyncio
async def test_write_single_and_multiple_then_read_back(
    real_transport: ModbusTransport, bank: DataBank
) -> None:
    await real_transport.write_register(20, 1234)
    await real_transport.write_registers(30, [1, 0, 65535, 4])

    assert bank.get_holding_registers(20, 1) == [1234]
    assert bank.get_holding_registers(30, 4) == [1, 0, 65535, 4]
    assert bank.get_input_registers(20, 1) == [0]  # writes never touch input registers
    assert await real_transport.read(Table.HOLDING, 20, 1) == [1234]
    assert await real_transport.read(Table.HOLDING, 30, 4) == [1, 0, 65535, 4]


@pytest.mark.asyncio
async def test_write_registers_accepts_any_sequence(
    real_transport: ModbusTransport, bank: DataBank
) -> None:
    await real_transport.write_registers(40, (5, 6))
    assert bank.get_holding_registers(40, 2) == [5, 6]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("table", "address", "count"),
    [(Table.HOLDING, 150, 2), (Table.INPUT, 98, 5), (Table.HOLDING, 65535, 1)],
)
async def test_illegal_address_is_reported_with_its_request(
    real_transport: ModbusTransport, bank: DataBank, table: Table, address: int, count: int
) -> None:
    with pytest.raises(IllegalAddressError) as caught:
        await real_transport.read(table, address, count)

    assert isinstance(caught.value, ModbusExceptionError)
    assert caught.value.code == 2
    assert caught.value.table == table.value
    assert caught.value.address == address
    assert caught.value.count == count
    # The box answered: the connection stays up and is reused.
    assert real_transport.connected
    bank.set_holding_registers(0, [3])
    assert await real_transport.read(Table.HOLDING, 0, 1) == [3]
    assert real_transport.stats.connects == 1


@pytest.mark.asyncio
async def test_illegal_address_on_write(real_transport: ModbusTransport) -> None:
    with pytest.raises(IllegalAddressError) as caught:
        await real_transport.write_registers(99, [1, 2])
    assert (caught.value.table, caught.value.address, caught.value.count) == ("holding", 99, 2)

    with pytest.raises(IllegalAddressError) as single:
        await real_transport.write_register(500, 1)
    assert (single.value.table, single.value.address, single.value.count) == ("holding", 500, 1)


@pytest.mark.asyncio
async def test_stats_count_requests_registers_and_frame_bytes(
    pymodbustcp_port: int, bank: DataBank
) -> None:
    clock = FakeClock()
    transport = ModbusTransport(HOST, pymodbustcp_port, UNIT, timeout=SAFE_TIMEOUT, clock=clock)
    assert transport.stats == TransportStats()
    try:
        await transport.read(Table.INPUT, 0, 3)  # 12 sent, 9 + 6 received
        await transport.read(Table.HOLDING, 0, 2)  # 12 sent, 9 + 4 received
        await transport.write_register(5, 1)  # 12 / 12
        clock.now = 1234.5
        await transport.write_registers(6, [1, 2, 3, 4])  # 13 + 8 sent, 12 received
        stats = transport.stats.as_dict()
        assert stats == {
            "requests": 4,
            "reads": 2,
            "writes": 2,
            "registers_read": 5,
            "registers_written": 5,
            "bytes_sent": 12 + 12 + 12 + 21,
            "bytes_received": 15 + 13 + 12 + 12,
            "errors": 0,
            "connects": 1,
            "last_success": 1234.5,
        }

        clock.now = 2000.0
        with pytest.raises(IllegalAddressError):
            await transport.read(Table.HOLDING, 120, 1)  # 12 sent, 9 received (exception)
        assert transport.stats.requests == 5
        assert transport.stats.reads == 3
        assert transport.stats.registers_read == 5
        assert transport.stats.bytes_sent == 57 + 12
        assert transport.stats.bytes_received == 52 + 9
        assert transport.stats.errors == 1
        assert transport.stats.last_success == 1234.5  # an exception is no success
    finally:
        await transport.close()


# -- argument validation ---------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("address", "count", "message"),
    [
        (0, 0, "count 0"),
        (0, 126, "count 126"),
        (-1, 1, "address -1"),
        (65536, 1, "address 65536"),
        (65535, 2, "past 65535"),
        (65500, 125, "past 65535"),
    ],
)
async def test_read_rejects_bad_arguments_before_the_wire(
    dead_port: int, connect_attempts: list[int], address: int, count: int, message: str
) -> None:
    transport = ModbusTransport(HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT)
    with pytest.raises(ValueError, match=message):
        await transport.read(Table.HOLDING, address, count)
    assert connect_attempts == []
    assert transport.stats == TransportStats()


@pytest.mark.asyncio
async def test_read_rejects_unknown_table(dead_port: int, connect_attempts: list[int]) -> None:
    transport = ModbusTransport(HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT)
    with pytest.raises(ValueError, match="coils"):
        await transport.read("coils", 0, 1)  # type: ignore[arg-type]
    assert connect_attempts == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("address", "value", "message"),
    [(-1, 0, "address -1"), (65536, 0, "address 65536"), (0, -1, "value -1"), (0, 65536, "value")],
)
async def test_write_register_rejects_bad_arguments(
    dead_port: int, connect_attempts: list[int], address: int, value: int, message: str
) -> None:
    transport = ModbusTransport(HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT)
    with pytest.raises(ValueError, match=message):
        await transport.write_register(address, value)
    assert connect_attempts == []
    assert transport.stats == TransportStats()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("address", "values", "message"),
    [
        (0, [], "count 0"),
        (0, [0] * 124, "count 124"),
        (0, [65536], "value 65536"),
        (0, [1, -1], "value -1"),
        (-1, [1], "address -1"),
        (65535, [1, 2], "past 65535"),
    ],
)
async def test_write_registers_rejects_bad_arguments(
    dead_port: int, connect_attempts: list[int], address: int, values: list[int], message: str
) -> None:
    transport = ModbusTransport(HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT)
    with pytest.raises(ValueError, match=message):
        await transport.write_registers(address, values)
    assert connect_attempts == []
    assert transport.stats == TransportStats()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unit_id": 256}, "unit id"),
        ({"unit_id": -1}, "unit id"),
        ({"port": 70000}, "port"),
        ({"timeout": 0}, "timeout"),
        ({"backoff_initial": 5, "backoff_max": 1}, "backoff"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"host": HOST, "port": 502, "unit_id": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        ModbusTransport(**arguments)


def test_constructor_touches_nothing_outside_a_loop() -> None:
    transport = ModbusTransport(HOST, 502, 1)
    assert not transport.connected
    assert transport.stats.as_dict()["connects"] == 0


# -- faults, on the raw server ---------------------------------------------------


@pytest.mark.asyncio
async def test_unit_id_is_sent_with_every_request(fault_server: FaultServer) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        assert await transport.read(Table.INPUT, 5, 2) == [1005, 1006]
        assert await transport.read(Table.HOLDING, 5, 1) == [1005]
        await transport.write_register(1, 2)
        await transport.write_registers(1, [2, 3])
    finally:
        await transport.close()
    assert fault_server.units == [UNIT] * 4
    assert fault_server.function_codes == [4, 3, 6, 16]


@pytest.mark.asyncio
async def test_silent_box_times_out_closes_and_reconnects(fault_server: FaultServer) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=FAULT_TIMEOUT)
    try:
        fault_server.mode = "silent"
        with pytest.raises(ChargerTimeoutError):
            await asyncio.wait_for(transport.read(Table.INPUT, 0, 1), GUARD)
        assert not transport.connected
        await fault_server.wait_for("disconnects", 1)  # the box sees the socket go
        assert transport.stats.errors == 1
        assert transport.stats.requests == 1

        fault_server.mode = "answer"
        assert await transport.read(Table.INPUT, 0, 1) == [1000]  # no backoff after a timeout
        assert fault_server.accepted == 2
        assert transport.stats.connects == 2
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_capped_timeout_gives_up_sooner(fault_server: FaultServer) -> None:
    """A cap shortens the timeout in force (never lengthens it); None lifts it."""
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=GUARD)
    try:
        transport.cap_timeout(FAULT_TIMEOUT)
        assert transport.timeout == FAULT_TIMEOUT
        fault_server.mode = "silent"
        with pytest.raises(ChargerTimeoutError, match=f"within {FAULT_TIMEOUT:g} s"):
            await asyncio.wait_for(transport.read(Table.INPUT, 0, 1), 2 * GUARD)
        transport.cap_timeout(3 * GUARD)
        assert transport.timeout == GUARD
        transport.cap_timeout(None)
        assert transport.timeout == GUARD
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_box_dropping_the_connection_is_a_connection_error(
    fault_server: FaultServer,
) -> None:
    # A long timeout: the drop must be noticed as such, not waited out as a timeout.
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        assert await transport.read(Table.HOLDING, 3, 1) == [1003]
        fault_server.mode = "close"
        with pytest.raises(ChargerConnectionError):
            await asyncio.wait_for(transport.read(Table.HOLDING, 3, 1), GUARD)
        assert not transport.connected
        # sent on the old connection, then once more on a new one, which went too
        assert transport.stats.errors == 2
        assert fault_server.accepted == 2

        fault_server.mode = "answer"
        assert await transport.read(Table.HOLDING, 3, 2) == [1003, 1004]
        assert fault_server.accepted == 3
        assert fault_server.max_active == 1
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_write_on_dropped_connection_is_a_connection_error(
    fault_server: FaultServer,
) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        fault_server.mode = "close"
        with pytest.raises(ChargerConnectionError):
            await asyncio.wait_for(transport.write_registers(1, [1, 2]), GUARD)
        fault_server.mode = "answer"
        await transport.write_register(1, 5)
        assert transport.stats.writes == 2
        assert transport.stats.registers_written == 1
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_request_on_a_connection_the_box_already_reset_goes_out_again(
    fault_server: FaultServer,
) -> None:
    """The box resets an idle connection and the request goes out before we notice:
    it is sent once more on a new connection instead of failing."""
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        await transport.write_register(1, 4)
        for writer in list(fault_server._writers):
            writer.transport.abort()  # no loop round in between: the client still sees it up
        assert transport.connected
        await transport.write_register(1, 5)
        assert fault_server.function_codes == [6, 6]  # the second one on the new connection
        assert fault_server.accepted == 2
        assert fault_server.max_active == 1
        assert transport.stats.errors == 1
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_connection_closed_between_requests_reconnects(
    fault_server: FaultServer,
) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        await transport.read(Table.INPUT, 0, 1)
        for writer in list(fault_server._writers):
            writer.close()  # the box drops an idle connection
        await fault_server.wait_for("disconnects", 1)
        await asyncio.sleep(0.3)  # pymodbus's own reconnect (0.1 s by default) must stay off
        assert fault_server.accepted == 1
        assert not transport.connected

        assert await transport.read(Table.INPUT, 1, 1) == [1001]
        assert fault_server.accepted == 2
    finally:
        await transport.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("mode", ["short", "long"])
async def test_wrong_register_count_is_a_protocol_error(
    fault_server: FaultServer, mode: str
) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        fault_server.mode = mode
        with pytest.raises(ChargerProtocolError):
            await transport.read(Table.HOLDING, 10, 3)
        assert transport.stats.errors == 1
        assert transport.stats.registers_read == 0

        fault_server.mode = "answer"
        assert await transport.read(Table.HOLDING, 10, 3) == [1010, 1011, 1012]
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_refused_connect_backs_off_without_touching_the_network(
    dead_port: int, connect_attempts: list[int]
) -> None:
    clock = FakeClock()
    transport = ModbusTransport(
        HOST,
        dead_port,
        UNIT,
        timeout=FAULT_TIMEOUT,
        backoff_initial=10.0,
        backoff_max=25.0,
        clock=clock,
    )
    start = clock.now

    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 1
    assert transport.stats.errors == 1
    assert transport.stats.requests == 0

    clock.now = start + 9.9  # inside the first window (10 s)
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    with pytest.raises(ChargerConnectionError):
        await transport.write_register(0, 1)
    assert len(connect_attempts) == 1

    clock.now = start + 10.0  # window over: try again, fail, window doubles to 20 s
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 2

    clock.now = start + 10.0 + 19.9
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 2

    clock.now = start + 10.0 + 20.0  # third failure: doubling to 40 s is capped at 25 s
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 3

    clock.now = start + 30.0 + 24.9
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 3
    clock.now = start + 30.0 + 25.0
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)
    assert len(connect_attempts) == 4
    assert transport.stats.connects == 0
    assert transport.stats.errors == 4  # rejected requests are not network failures
    assert not transport.connected


@pytest.mark.asyncio
async def test_explicit_connect_ignores_backoff_and_raises(
    dead_port: int, connect_attempts: list[int]
) -> None:
    clock = FakeClock()
    transport = ModbusTransport(
        HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT, backoff_initial=10.0, clock=clock
    )
    with pytest.raises(ChargerConnectionError):
        await transport.connect()
    with pytest.raises(ChargerConnectionError):
        await transport.connect()
    assert len(connect_attempts) == 2
    with pytest.raises(ChargerConnectionError):
        await transport.read(Table.INPUT, 0, 1)  # inside the window
    assert len(connect_attempts) == 2


@pytest.mark.asyncio
async def test_successful_connect_resets_the_backoff(
    connect_attempts: list[int],
) -> None:
    clock = FakeClock()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind((HOST, 0))
        port = blocker.getsockname()[1]
        transport = ModbusTransport(
            HOST, port, UNIT, timeout=FAULT_TIMEOUT, backoff_initial=10.0, clock=clock
        )
        for _ in range(3):  # windows of 10, 20, 40 s
            with pytest.raises(ChargerConnectionError):
                await transport.read(Table.INPUT, 0, 1)
            clock.now += 100
    assert len(connect_attempts) == 3

    server = FaultServer()
    await server.start(port)  # the box comes back on the same port
    try:
        assert await transport.read(Table.INPUT, 0, 1) == [1000]
        assert transport.stats.connects == 1
        await server.stop()  # and goes away again
        await transport.close()
        with pytest.raises(ChargerConnectionError):
            await transport.read(Table.INPUT, 0, 1)
        assert len(connect_attempts) == 5
        clock.now += 10.0  # back to the initial window, not 80 s
        with pytest.raises(ChargerConnectionError):
            await transport.read(Table.INPUT, 0, 1)
        assert len(connect_attempts) == 6
    finally:
        await transport.close()
        await server.stop()


@pytest.mark.asyncio
async def test_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A box that never completes the TCP handshake: ChargerTimeoutError from connect()."""

    async def never_connects(self: Any) -> bool:
        await asyncio.Event().wait()
        return True

    monkeypatch.setattr(AsyncModbusTcpClient, "connect", never_connects)
    clock = FakeClock()
    transport = ModbusTransport(HOST, 502, UNIT, timeout=FAULT_TIMEOUT, clock=clock)
    with pytest.raises(ChargerTimeoutError):
        await asyncio.wait_for(transport.connect(), GUARD)
    assert not transport.connected
    assert transport.stats.errors == 1
    with pytest.raises(ChargerConnectionError):  # a failed connect opens the backoff window
        await transport.read(Table.INPUT, 0, 1)


@pytest.mark.asyncio
async def test_concurrent_requests_share_one_serialised_connection(
    fault_server: FaultServer,
) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    fault_server.reply_delay = 0.005  # give requests every chance to overlap
    try:
        results = await asyncio.gather(
            *(transport.read(Table.INPUT, address, 2) for address in range(20)),
            transport.write_register(1, 1),
            transport.write_registers(2, [1, 2]),
        )
    finally:
        await transport.close()
    assert results[:20] == [[1000 + a, 1001 + a] for a in range(20)]
    assert fault_server.accepted == 1
    assert fault_server.max_active == 1
    assert fault_server.max_in_flight == 1
    assert transport.stats.requests == 22
    assert transport.stats.connects == 1


@pytest.mark.asyncio
async def test_explicit_reconnect_never_holds_two_connections(
    fault_server: FaultServer,
) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    try:
        await transport.connect()
        await transport.connect()
        await fault_server.wait_for("disconnects", 1)
        assert fault_server.accepted == 2
        assert fault_server.active == 1
        assert transport.connected
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_close_releases_the_connection_and_leaves_no_tasks(
    fault_server: FaultServer,
) -> None:
    before = other_tasks()
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    await transport.read(Table.INPUT, 0, 1)
    assert fault_server.active == 1

    await transport.close()
    assert not transport.connected
    await fault_server.wait_for("disconnects", 1)
    assert fault_server.active == 0
    await asyncio.sleep(0)
    assert other_tasks(before, fault_server.handler_tasks()) == set()

    await transport.close()  # idempotent
    assert fault_server.accepted == 1


@pytest.mark.asyncio
async def test_close_without_connection_is_harmless() -> None:
    transport = ModbusTransport(HOST, 502, UNIT)
    await transport.close()
    await transport.close()
    assert not transport.connected


@pytest.mark.asyncio
async def test_close_interrupts_a_waiting_request(fault_server: FaultServer) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    fault_server.mode = "silent"
    request = asyncio.create_task(transport.read(Table.INPUT, 0, 1))
    await fault_server.wait_for("received", 1)  # the request is on the wire

    await asyncio.wait_for(transport.close(), GUARD)
    with pytest.raises(ChargerConnectionError):
        await asyncio.wait_for(request, GUARD)
    assert not transport.connected
    await fault_server.wait_for("disconnects", 1)


@pytest.mark.asyncio
async def test_close_is_not_taken_for_a_reset_connection(fault_server: FaultServer) -> None:
    """close() (a reopen asked for) while a request waits on a connection opened before it:
    the request fails and does not open a new connection that close() would then drop."""
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    assert await transport.read(Table.INPUT, 0, 1) == [1000]
    fault_server.mode = "silent"
    request = asyncio.create_task(transport.read(Table.INPUT, 0, 1))
    await fault_server.wait_for("received", 2)

    await asyncio.wait_for(transport.close(), GUARD)
    with pytest.raises(ChargerConnectionError):
        await asyncio.wait_for(request, GUARD)
    assert not transport.connected
    assert fault_server.accepted == 1


@pytest.mark.asyncio
async def test_cancelled_request_drops_the_connection(fault_server: FaultServer) -> None:
    transport = ModbusTransport(HOST, fault_server.port, UNIT, timeout=SAFE_TIMEOUT)
    fault_server.mode = "silent"
    request = asyncio.create_task(transport.read(Table.INPUT, 0, 1))
    await fault_server.wait_for("received", 1)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert not transport.connected  # a late reply must not be taken for the next one
    fault_server.mode = "answer"
    try:
        assert await transport.read(Table.INPUT, 4, 1) == [1004]
        assert fault_server.accepted == 2
    finally:
        await transport.close()


@pytest.mark.asyncio
async def test_failed_connects_leave_no_pymodbus_warning(
    dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    """pymodbus warns "Failed to connect" on every attempt (3.8.3): for our requests that
    is a failure the transport reports itself, so it stays out of the log but in our error."""
    transport = ModbusTransport(HOST, dead_port, UNIT, timeout=FAULT_TIMEOUT, backoff_initial=0)
    caplog.set_level(logging.DEBUG)
    try:
        for _ in range(3):
            with pytest.raises(ChargerConnectionError, match="cannot connect"):
                await transport.read(Table.INPUT, 0, 1)
    finally:
        await transport.close()
    loud = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert loud == []
    assert not [r for r in caplog.records if r.name.startswith("pymodbus")]
    ours = [r.getMessage() for r in caplog.records if r.name.endswith(".transport")]
    assert any("cannot connect: Failed to connect" in text for text in ours)


@pytest.mark.asyncio
async def test_pymodbus_logs_outside_our_requests_are_untouched(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another user of pymodbus in the same process keeps its log lines."""
    caplog.set_level(logging.WARNING)
    logging.getLogger(PYMODBUS_LOGGER).warning("another integration's warning")
    assert [r.getMessage() for r in caplog.records] == ["another integration's warning"]
