"""Tests for the asyncio Modbus TCP server the wallbox simulators are built on.

Framing is checked byte for byte with raw asyncio streams; interoperability with the
pymodbus client (any 3.x version) and with the independent ``mbpoll`` tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import re
import shutil
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from pymodbus.client import AsyncModbusTcpClient

from simulators.modbus_server import DictBank, ModbusReply, ModbusTcpServer, RegisterBank

IO_TIMEOUT = 5.0  # only a guard against hanging on a broken server, never reached when green


def make_bank() -> DictBank:
    return DictBank(
        input={0: 0x1234, 1: 0xABCD, 2: 3, 10: 230},
        holding={0: 0x0102, 1: 0x0304, 2: 0, 3: 0, 100: 16},
    )


@pytest_asyncio.fixture
async def bank() -> DictBank:
    return make_bank()


async def stop(srv: ModbusTcpServer) -> None:
    """Stop, failing instead of hanging if the server cannot close its clients."""
    await asyncio.wait_for(srv.stop(), IO_TIMEOUT)


@contextlib.asynccontextmanager
async def serving(bank: RegisterBank, **kwargs: Any) -> AsyncIterator[ModbusTcpServer]:
    srv = ModbusTcpServer(bank, **kwargs)
    await srv.start()
    try:
        yield srv
    finally:
        await stop(srv)


@pytest_asyncio.fixture
async def server(bank: DictBank) -> AsyncIterator[ModbusTcpServer]:
    async with serving(bank) as srv:
        yield srv


class Client:
    """A raw Modbus TCP client on asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def recv_frame(self) -> bytes:
        """One whole MBAP frame as received."""
        header = await asyncio.wait_for(self.reader.readexactly(7), IO_TIMEOUT)
        length = struct.unpack(">H", header[4:6])[0]
        body = await asyncio.wait_for(self.reader.readexactly(length - 1), IO_TIMEOUT)
        return header + body

    async def request(self, pdu: bytes, tid: int = 1, unit: int = 1) -> bytes:
        """Send one request, return the reply PDU (checking the echoed MBAP header)."""
        await self.send(frame(tid, unit, pdu))
        reply = await self.recv_frame()
        assert reply[:4] == struct.pack(">HH", tid, 0)
        assert reply[6] == unit
        return reply[7:]

    async def closed_by_peer(self) -> bool:
        """True if the server closed the connection (EOF or reset)."""
        try:
            data = await asyncio.wait_for(self.reader.read(1), IO_TIMEOUT)
        except ConnectionError:
            return True
        return data == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def frame(tid: int, unit: int, pdu: bytes) -> bytes:
    return struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu


def read_pdu(function: int, address: int, count: int) -> bytes:
    return struct.pack(">BHH", function, address, count)


def write_multiple_pdu(address: int, values: list[int]) -> bytes:
    return struct.pack(f">BHHB{len(values)}H", 16, address, len(values), 2 * len(values), *values)


async def eventually(predicate: Callable[[], bool]) -> None:
    """Yield to the loop until ``predicate`` holds (bounded by IO_TIMEOUT)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + IO_TIMEOUT
    while not predicate():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.001)


async def client(srv: ModbusTcpServer) -> Client:
    return await Client.connect(srv.port)


# --------------------------------------------------------------------------- framing


@pytest.mark.asyncio
async def test_fc03_read_holding_byte_exact(server: ModbusTcpServer) -> None:
    c = await client(server)
    await c.send(bytes.fromhex("0102 0000 0006 01 03 0000 0002"))
    assert await c.recv_frame() == bytes.fromhex("0102 0000 0007 01 03 04 0102 0304")
    await c.close()


@pytest.mark.asyncio
async def test_fc04_read_input_byte_exact(server: ModbusTcpServer) -> None:
    c = await client(server)
    await c.send(bytes.fromhex("BEEF 0000 0006 07 04 0000 0003"))
    assert await c.recv_frame() == bytes.fromhex("BEEF 0000 0009 07 04 06 1234 ABCD 0003")
    await c.close()


@pytest.mark.asyncio
async def test_fc06_write_single_byte_exact(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    await c.send(bytes.fromhex("0005 0000 0006 01 06 0002 FFFE"))
    assert await c.recv_frame() == bytes.fromhex("0005 0000 0006 01 06 0002 FFFE")
    assert bank.holding[2] == 0xFFFE
    assert server.stats.writes_log == [(2, [0xFFFE])]
    await c.close()


@pytest.mark.asyncio
async def test_fc16_write_multiple_byte_exact(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    await c.send(bytes.fromhex("0006 0000 000B 01 10 0001 0002 04 000A 0102"))
    assert await c.recv_frame() == bytes.fromhex("0006 0000 0006 01 10 0001 0002")
    assert bank.holding[1] == 10
    assert bank.holding[2] == 0x0102
    assert server.stats.writes_log == [(1, [10, 0x0102])]
    await c.close()


@pytest.mark.asyncio
async def test_reads_at_the_limits(server: ModbusTcpServer) -> None:
    bank = DictBank(input={a: a for a in range(65536 - 125, 65536)})
    server.bank = bank
    c = await client(server)
    reply = await c.request(read_pdu(4, 65536 - 125, 125))
    assert reply[:2] == bytes((4, 250))
    assert list(struct.unpack(">125H", reply[2:])) == list(range(65536 - 125, 65536))
    bank.holding.update((a, 0) for a in range(65536 - 123, 65536))
    values = list(range(1000, 1123))
    assert await c.request(write_multiple_pdu(65536 - 123, values)) == bytes.fromhex("10 FF85 007B")
    assert [bank.holding[a] for a in range(65536 - 123, 65536)] == values
    await c.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("pdu", "expected"),
    [
        pytest.param(bytes.fromhex("01 0000 0001"), "81 01", id="fc01-coils"),
        pytest.param(bytes.fromhex("05 0000 FF00"), "85 01", id="fc05"),
        pytest.param(bytes.fromhex("2B 0E 01 00"), "AB 01", id="fc43-device-id"),
        pytest.param(read_pdu(3, 4, 1), "83 02", id="fc03-missing-address"),
        pytest.param(read_pdu(3, 3, 2), "83 02", id="fc03-runs-past-the-end"),
        pytest.param(read_pdu(4, 5, 1), "84 02", id="fc04-missing-address"),
        pytest.param(read_pdu(4, 0xFFFF, 2), "84 02", id="fc04-past-65535"),
        pytest.param(bytes.fromhex("06 0004 0001"), "86 02", id="fc06-missing-address"),
        pytest.param(write_multiple_pdu(3, [1, 2]), "90 02", id="fc16-missing-address"),
        pytest.param(read_pdu(3, 0, 0), "83 03", id="fc03-zero-registers"),
        pytest.param(read_pdu(3, 0, 126), "83 03", id="fc03-126-registers"),
        pytest.param(read_pdu(4, 0, 0), "84 03", id="fc04-zero-registers"),
        pytest.param(read_pdu(4, 0, 126), "84 03", id="fc04-126-registers"),
        pytest.param(bytes.fromhex("03 0000 0001 00"), "83 03", id="fc03-trailing-byte"),
        pytest.param(bytes.fromhex("06 0000"), "86 03", id="fc06-short"),
        pytest.param(bytes.fromhex("10 0000 007C F8 0001"), "90 03", id="fc16-124-registers"),
        pytest.param(bytes.fromhex("10 0000 0000 00"), "90 03", id="fc16-zero-registers"),
        pytest.param(bytes.fromhex("10 0000 0002 02 0001 0002"), "90 03", id="fc16-byte-count"),
        pytest.param(bytes.fromhex("10 0000 0002 02 0001"), "90 03", id="fc16-byte-count-short"),
        pytest.param(bytes.fromhex("10 0000 0002 04 0001"), "90 03", id="fc16-short-data"),
        pytest.param(bytes.fromhex("10 0000"), "90 03", id="fc16-no-header"),
    ],
)
async def test_exception_replies(
    server: ModbusTcpServer, bank: DictBank, pdu: bytes, expected: str
) -> None:
    before = dict(bank.holding)
    c = await client(server)
    assert await c.request(pdu, tid=0x4242) == bytes.fromhex(expected)
    assert bank.holding == before
    assert server.stats.writes_log == []
    assert bank.transactions == 0
    assert server.stats.exceptions == 1
    # the connection stays usable after an exception reply
    assert await c.request(read_pdu(3, 0, 1), tid=7) == bytes.fromhex("03 02 0102")
    assert bank.transactions == 1
    await c.close()


@pytest.mark.asyncio
async def test_unit_id_filter_answers_gateway_exception(bank: DictBank) -> None:
    async with serving(bank, unit_id=3) as srv:
        c = await client(srv)
        assert await c.request(read_pdu(3, 0, 1), unit=1) == bytes.fromhex("83 0B")
        assert await c.request(bytes.fromhex("06 0002 0009"), unit=4) == bytes.fromhex("86 0B")
        assert bank.holding[2] == 0
        assert await c.request(read_pdu(3, 0, 1), unit=3) == bytes.fromhex("03 02 0102")
        await c.close()


@pytest.mark.asyncio
async def test_any_unit_id_served_without_filter(server: ModbusTcpServer) -> None:
    c = await client(server)
    for unit in (0, 1, 17, 255):
        assert await c.request(read_pdu(3, 0, 1), unit=unit) == bytes.fromhex("03 02 0102")
    await c.close()


@pytest.mark.asyncio
async def test_pipelined_requests_in_one_segment(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    await c.send(
        frame(1, 1, read_pdu(3, 0, 2))
        + frame(2, 1, bytes.fromhex("06 0002 0063"))
        + frame(3, 1, read_pdu(3, 2, 1))
        + frame(4, 1, bytes.fromhex("01 0000 0001"))
        + frame(5, 1, read_pdu(4, 10, 1))
    )
    replies = [await c.recv_frame() for _ in range(5)]
    assert replies == [
        frame(1, 1, bytes.fromhex("03 04 0102 0304")),
        frame(2, 1, bytes.fromhex("06 0002 0063")),
        frame(3, 1, bytes.fromhex("03 02 0063")),
        frame(4, 1, bytes.fromhex("81 01")),
        frame(5, 1, bytes.fromhex("04 02 00E6")),
    ]
    assert bank.transactions == 4
    await c.close()


@pytest.mark.asyncio
async def test_frames_split_over_segments(server: ModbusTcpServer) -> None:
    stream = (
        frame(1, 1, read_pdu(3, 0, 1))
        + frame(2, 1, read_pdu(4, 0, 2))
        + frame(3, 1, read_pdu(3, 1, 1))
    )
    # cut inside the first header, inside a PDU, and across the frame boundaries
    cuts = [0, 3, 10, 16, 30, len(stream)]
    c = await client(server)
    for start, end in itertools.pairwise(cuts):
        await c.send(stream[start:end])
        await asyncio.sleep(0.005)  # let each piece arrive as its own segment
    assert await c.recv_frame() == frame(1, 1, bytes.fromhex("03 02 0102"))
    assert await c.recv_frame() == frame(2, 1, bytes.fromhex("04 04 1234 ABCD"))
    assert await c.recv_frame() == frame(3, 1, bytes.fromhex("03 02 0304"))
    await c.close()


@pytest.mark.asyncio
async def test_byte_by_byte(server: ModbusTcpServer) -> None:
    c = await client(server)
    for byte in frame(9, 1, write_multiple_pdu(2, [5, 6])):
        await c.send(bytes((byte,)))
        await asyncio.sleep(0)
    assert await c.recv_frame() == frame(9, 1, bytes.fromhex("10 0002 0002"))
    assert server.stats.writes_log == [(2, [5, 6])]
    await c.close()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(bytes.fromhex("0001 0001 0006 01 03 0000 0001"), id="protocol-id-1"),
        pytest.param(bytes.fromhex("0001 0000 0001 01"), id="length-1-no-function"),
        pytest.param(bytes.fromhex("0001 0000 0000 01"), id="length-0"),
        pytest.param(bytes.fromhex("0001 0000 00FF 01 03"), id="length-255"),
        pytest.param(bytes.fromhex("0001 0000 FFFF 01 03"), id="length-65535"),
    ],
)
async def test_malformed_frame_closes_only_that_connection(
    server: ModbusTcpServer, caplog: pytest.LogCaptureFixture, data: bytes
) -> None:
    good = await client(server)
    bad = await client(server)
    with caplog.at_level(logging.WARNING, logger="simulators.modbus_server"):
        await bad.send(data)
        assert await bad.closed_by_peer()
    assert "malformed" in caplog.text
    assert server.stats.malformed == 1
    assert await good.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
    await eventually(lambda: server.open_connections == 1)
    await good.close()
    await bad.close()


# ---------------------------------------------------------------------- bank errors


class BrokenBank(DictBank):
    def __init__(self, failure: Exception | None = None, result: list[int] | None = None) -> None:
        super().__init__(input={0: 1}, holding={0: 1})
        self.failure = failure
        self.result = result

    def read(self, table: str, address: int, count: int) -> list[int]:
        if self.failure is not None:
            raise self.failure
        if self.result is not None:
            return self.result
        return super().read(table, address, count)

    def write(self, address: int, values: list[int]) -> None:
        if self.failure is not None:
            raise self.failure
        super().write(address, values)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("bank", "expected"),
    [
        pytest.param(BrokenBank(failure=RuntimeError("boom")), "83 04", id="bank-raises"),
        pytest.param(BrokenBank(result=[1, 2]), "83 04", id="too-many-values"),
        pytest.param(BrokenBank(result=[70000]), "83 04", id="value-too-big"),
        pytest.param(BrokenBank(failure=ModbusReply(6)), "83 06", id="busy"),
        pytest.param(BrokenBank(failure=ModbusReply(3)), "83 03", id="bank-illegal-value"),
        pytest.param(BrokenBank(result=[-2]), "03 02 FFFE", id="negative-as-int16"),
    ],
)
async def test_bank_failures(
    bank: BrokenBank, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(bank) as srv:
        c = await client(srv)
        with caplog.at_level(logging.ERROR, logger="simulators.modbus_server"):
            assert await c.request(read_pdu(3, 0, 1)) == bytes.fromhex(expected)
        logged = any(r.levelno >= logging.ERROR for r in caplog.records)
        assert logged == expected.endswith("04")
        await c.close()


@pytest.mark.asyncio
async def test_bank_write_failure_is_not_logged_as_accepted() -> None:
    bank = BrokenBank(failure=RuntimeError("disk full"))
    async with serving(bank) as srv:
        c = await client(srv)
        assert await c.request(bytes.fromhex("06 0000 0005")) == bytes.fromhex("86 04")
        assert await c.request(write_multiple_pdu(0, [5])) == bytes.fromhex("90 04")
        assert srv.stats.writes == 0
        assert srv.stats.writes_log == []
        assert bank.transactions == 0
        await c.close()


def test_modbus_reply_code() -> None:
    assert ModbusReply(2).code == 2
    with pytest.raises(ValueError, match="out of range"):
        ModbusReply(0)


def test_dict_bank() -> None:
    bank = DictBank(input={0: 1}, holding={5: 2, 6: 3})
    assert bank.read("input", 0, 1) == [1]
    assert bank.read("holding", 5, 2) == [2, 3]
    with pytest.raises(ModbusReply) as err:
        bank.read("holding", 0, 1)
    assert err.value.code == 2
    with pytest.raises(ModbusReply):
        bank.write(6, [1, 1])  # 7 does not exist: nothing written
    assert bank.holding == {5: 2, 6: 3}
    with pytest.raises(ModbusReply):
        bank.write(0, [1])  # input registers are not writable
    bank.write(5, [7, 8])
    assert bank.holding == {5: 7, 6: 8}


# ---------------------------------------------------------------------- connections


@pytest.mark.asyncio
async def test_max_connections_refuses_second_client(bank: DictBank) -> None:
    async with serving(bank, max_connections=1) as srv:
        first = await client(srv)
        assert await first.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
        second = await client(srv)
        assert await second.closed_by_peer()
        assert srv.stats.connections_refused == 1
        assert srv.stats.connections_accepted == 1
        # the first client is still served, and still the only one
        assert await first.request(read_pdu(3, 1, 1), tid=2) == bytes.fromhex("03 02 0304")
        assert srv.open_connections == 1
        await first.close()
        await eventually(lambda: srv.open_connections == 0)
        third = await client(srv)
        assert await third.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
        assert srv.stats.connections_accepted == 2
        assert srv.stats.max_concurrent == 1
        await third.close()
        await second.close()


@pytest.mark.asyncio
async def test_drop_connections(server: ModbusTcpServer) -> None:
    clients = [await client(server) for _ in range(3)]
    for c in clients:
        assert await c.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
    assert server.open_connections == 3
    await server.drop_connections()
    assert server.open_connections == 0
    for c in clients:
        assert await c.closed_by_peer()
    again = await client(server)  # still listening
    assert await again.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
    assert server.stats.max_concurrent == 3
    for c in [*clients, again]:
        await c.close()


@pytest.mark.asyncio
async def test_drop_connections_interrupts_a_delayed_reply(server: ModbusTcpServer) -> None:
    server.faults.delay = 60.0
    c = await client(server)
    await c.send(frame(1, 1, read_pdu(3, 0, 1)))
    await eventually(lambda: server.stats.requests == 1)
    await server.drop_connections()
    assert await c.closed_by_peer()
    await c.close()


@pytest.mark.asyncio
async def test_stop_closes_everything_and_leaves_no_tasks(bank: DictBank) -> None:
    srv = ModbusTcpServer(bank)
    await srv.start()
    port = srv.port
    busy = await client(srv)
    srv.faults.delay = 60.0
    await busy.send(frame(1, 1, read_pdu(3, 0, 1)))
    idle = await client(srv)
    await eventually(lambda: srv.open_connections == 2 and srv.stats.requests == 1)
    await stop(srv)
    assert srv.open_connections == 0
    assert await busy.closed_by_peer()
    assert await idle.closed_by_peer()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await busy.close()
    await idle.close()
    await stop(srv)  # idempotent


@pytest.mark.asyncio
async def test_restart_binds_the_same_port(bank: DictBank) -> None:
    srv = ModbusTcpServer(bank)
    await srv.start()
    port = srv.port
    assert port != 0
    await stop(srv)
    srv.faults.delay = 0.0
    await srv.start()
    try:
        assert srv.port == port
        c = await client(srv)
        assert await c.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
        await c.close()
    finally:
        await stop(srv)


@pytest.mark.asyncio
async def test_async_context_manager(bank: DictBank) -> None:
    async with ModbusTcpServer(bank) as srv:
        c = await client(srv)
        assert await c.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
        await c.close()
        await eventually(lambda: srv.open_connections == 0)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", srv.port)


def test_port_before_start() -> None:
    with pytest.raises(RuntimeError):
        _ = ModbusTcpServer(DictBank()).port
    assert ModbusTcpServer(DictBank(), port=1502).port == 1502


# --------------------------------------------------------------------------- faults


@pytest.mark.asyncio
async def test_fault_delay_applies_when_the_request_arrives(server: ModbusTcpServer) -> None:
    loop = asyncio.get_running_loop()
    c = await client(server)
    server.faults.delay = 0.2
    started = loop.time()
    await c.send(frame(1, 1, read_pdu(3, 0, 1)))
    await eventually(lambda: server.stats.requests == 1)
    server.faults.delay = 0.0  # too late for the request already received
    assert await c.recv_frame() == frame(1, 1, bytes.fromhex("03 02 0102"))
    assert loop.time() - started >= 0.19
    assert await c.request(read_pdu(3, 0, 1), tid=2) == bytes.fromhex("03 02 0102")
    await c.close()


@pytest.mark.asyncio
async def test_faults_are_those_in_force_when_the_request_arrived(
    server: ModbusTcpServer, bank: DictBank
) -> None:
    c = await client(server)
    server.faults.delay = 0.05
    await c.send(frame(1, 1, read_pdu(3, 0, 1)))
    await eventually(lambda: server.stats.requests == 1)
    server.faults.exception = 4  # set while the first request waits: not applied to it
    server.faults.frozen = True
    bank.holding[0] = 9
    assert await c.recv_frame() == frame(1, 1, bytes.fromhex("03 02 0009"))
    server.faults.delay = 0.0
    assert await c.request(read_pdu(3, 0, 1), tid=2) == bytes.fromhex("83 04")
    server.faults.exception = None
    bank.holding[0] = 10
    assert await c.request(read_pdu(3, 0, 1), tid=3) == bytes.fromhex("03 02 0009")
    await c.close()


@pytest.mark.asyncio
async def test_fault_exception(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    server.faults.exception = 6
    assert await c.request(read_pdu(3, 0, 1)) == bytes.fromhex("83 06")
    assert await c.request(read_pdu(4, 0, 1)) == bytes.fromhex("84 06")
    assert await c.request(bytes.fromhex("06 0002 0001")) == bytes.fromhex("86 06")
    assert await c.request(write_multiple_pdu(2, [1])) == bytes.fromhex("90 06")
    assert bank.holding[2] == 0
    assert bank.transactions == 0
    assert server.stats.writes_log == []
    server.faults.exception = None
    assert await c.request(bytes.fromhex("06 0002 0001")) == bytes.fromhex("06 0002 0001")
    assert bank.holding[2] == 1
    assert bank.transactions == 1
    await c.close()


@pytest.mark.asyncio
async def test_fault_silent(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    server.faults.silent = True
    await c.send(frame(1, 1, read_pdu(3, 0, 1)))
    await eventually(lambda: server.stats.requests == 1)
    server.faults.silent = False
    # the first reply on the wire answers the second request: the first got none
    assert await c.request(read_pdu(3, 1, 1), tid=2) == bytes.fromhex("03 02 0304")
    assert server.stats.requests == 2
    assert server.stats.reads == 1
    assert bank.transactions == 1
    await c.close()


@pytest.mark.asyncio
async def test_fault_lose_replies(server: ModbusTcpServer, bank: DictBank) -> None:
    """One lost reply: that request is not answered (nor a transaction), the next one is."""
    c = await client(server)
    server.faults.lose_replies = 1
    await c.send(frame(1, 1, read_pdu(3, 0, 1)))
    await eventually(lambda: server.stats.requests == 1)
    assert server.faults.lose_replies == 0
    assert await c.request(read_pdu(3, 1, 1), tid=2) == bytes.fromhex("03 02 0304")
    assert server.stats.requests == 2
    assert server.stats.reads == 1
    assert bank.transactions == 1
    assert server.stats.reads_by_block == {("holding", 1, 1): 1}
    await c.close()


@pytest.mark.asyncio
async def test_fault_frozen(server: ModbusTcpServer, bank: DictBank) -> None:
    c = await client(server)
    assert await c.request(read_pdu(4, 0, 2)) == bytes.fromhex("04 04 1234 ABCD")
    server.faults.frozen = True
    bank.input[0] = 1
    bank.input[1] = 2
    assert await c.request(read_pdu(4, 0, 2)) == bytes.fromhex("04 04 1234 ABCD")
    # another (table, address, count) was never returned: it is read live
    assert await c.request(read_pdu(4, 0, 1)) == bytes.fromhex("04 02 0001")
    bank.input[0] = 5
    assert await c.request(read_pdu(4, 0, 1)) == bytes.fromhex("04 02 0001")
    # writes still reach the bank while frozen
    assert await c.request(bytes.fromhex("06 0002 0007")) == bytes.fromhex("06 0002 0007")
    assert bank.holding[2] == 7
    server.faults.frozen = False
    assert await c.request(read_pdu(4, 0, 2)) == bytes.fromhex("04 04 0005 0002")
    await c.close()


@pytest.mark.asyncio
async def test_fault_refuse_connections(server: ModbusTcpServer) -> None:
    existing = await client(server)
    assert await existing.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
    server.faults.refuse_connections = True
    refused = await client(server)
    assert await refused.closed_by_peer()
    assert server.stats.connections_refused == 1
    assert await existing.request(read_pdu(3, 0, 1), tid=2) == bytes.fromhex("03 02 0102")
    server.faults.refuse_connections = False
    accepted = await client(server)
    assert await accepted.request(read_pdu(3, 0, 1)) == bytes.fromhex("03 02 0102")
    assert server.stats.connections_accepted == 2
    for c in (existing, refused, accepted):
        await c.close()


# ---------------------------------------------------------------------------- stats


@pytest.mark.asyncio
async def test_stats(server: ModbusTcpServer, bank: DictBank) -> None:
    a = await client(server)
    b = await client(server)
    requests = [
        frame(1, 1, read_pdu(3, 0, 2)),  # 12 bytes in, 13 out
        frame(2, 1, read_pdu(4, 0, 3)),  # 12 in, 15 out
        frame(3, 1, bytes.fromhex("06 0003 0009")),  # 12 in, 12 out
        frame(4, 1, write_multiple_pdu(0, [7, 8])),  # 17 in, 12 out
        frame(5, 1, read_pdu(3, 50, 1)),  # 12 in, 9 out (exception)
    ]
    for req in requests:
        await a.send(req)
        await a.recv_frame()
    assert await b.request(read_pdu(3, 100, 1)) == bytes.fromhex("03 02 0010")  # 12 in, 11 out
    s = server.stats
    assert (s.requests, s.reads, s.writes) == (6, 3, 2)
    assert (s.registers_read, s.registers_written) == (6, 3)
    assert s.bytes_in == 12 * 5 + 17
    assert s.bytes_out == 13 + 15 + 12 + 12 + 9 + 11
    assert (s.connections_accepted, s.connections_refused, s.max_concurrent) == (2, 0, 2)
    assert s.writes_log == [(3, [9]), (0, [7, 8])]
    assert s.exceptions == 1
    assert bank.transactions == 5
    assert server.open_connections == 2
    await a.close()
    await b.close()
    await eventually(lambda: server.open_connections == 0)


# ---------------------------------------------------------------- other clients


@pytest.mark.asyncio
async def test_pymodbus_client(server: ModbusTcpServer, bank: DictBank) -> None:
    mb = AsyncModbusTcpClient("127.0.0.1", port=server.port, timeout=IO_TIMEOUT, retries=0)
    params = inspect.signature(mb.read_holding_registers).parameters
    unit: dict[str, Any] = {"device_id" if "device_id" in params else "slave": 1}
    assert await mb.connect()
    try:
        rr = await mb.read_input_registers(0, count=3, **unit)
        assert not rr.isError()
        assert list(rr.registers) == [0x1234, 0xABCD, 3]
        rr = await mb.read_holding_registers(0, count=2, **unit)
        assert list(rr.registers) == [0x0102, 0x0304]
        rr = await mb.write_register(2, 500, **unit)
        assert not rr.isError()
        rr = await mb.write_registers(0, [11, 12], **unit)
        assert not rr.isError()
        rr = await mb.read_holding_registers(0, count=3, **unit)
        assert list(rr.registers) == [11, 12, 500]
        rr = await mb.read_holding_registers(40, count=1, **unit)
        assert rr.isError()
        assert getattr(rr, "exception_code", None) == 2
    finally:
        mb.close()
    assert server.stats.writes_log == [(2, [500]), (0, [11, 12])]
    assert [bank.holding[a] for a in range(3)] == [11, 12, 500]


MBPOLL = shutil.which("mbpoll") or "/usr/bin/mbpoll"


async def run_mbpoll(port: int, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        MBPOLL,
        "-m",
        "tcp",
        "-a",
        "1",
        "-1",
        "-p",
        str(port),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    return text


def mbpoll_values(text: str) -> dict[int, int]:
    return {int(ref): int(val) for ref, val in re.findall(r"^\[(\d+)\]:\s+(-?\d+)", text, re.M)}


@pytest.mark.asyncio
async def test_mbpoll(server: ModbusTcpServer, bank: DictBank) -> None:
    assert shutil.which(MBPOLL), "mbpoll is not installed (apt-get install mbpoll)"
    port = server.port
    # -t 3: input registers, references 1-based by default
    out = await run_mbpoll(port, "-t", "3", "-r", "1", "-c", "3", "127.0.0.1")
    assert mbpoll_values(out) == {1: 0x1234, 2: 0xABCD, 3: 3}
    # -t 4 with -0: holding registers, PDU addressing
    out = await run_mbpoll(port, "-t", "4", "-0", "-r", "0", "-c", "2", "127.0.0.1")
    assert mbpoll_values(out) == {0: 0x0102, 1: 0x0304}
    # writes: one value and several values
    await run_mbpoll(port, "-t", "4", "-r", "3", "127.0.0.1", "4321")
    await run_mbpoll(port, "-t", "4", "-r", "1", "127.0.0.1", "--", "7", "8")
    assert [bank.holding[a] for a in range(4)] == [7, 8, 4321, 0]
    assert [address for address, _ in server.stats.writes_log] == [2, 0]
    out = await run_mbpoll(port, "-t", "4", "-r", "1", "-c", "3", "127.0.0.1")
    assert mbpoll_values(out) == {1: 7, 2: 8, 3: 4321}
