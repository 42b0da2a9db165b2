"""A small, dependency-free Modbus TCP server for the wallbox simulators.

Written on plain :mod:`asyncio` streams and :mod:`struct` on purpose: the pymodbus
server API changes between releases, and the simulators must behave identically
whatever pymodbus version the code under test uses.

Supported: MBAP framing (transaction id echoed, protocol id 0, unit id), function
codes 03 (read holding registers), 04 (read input registers), 06 (write single
register) and 16 (write multiple registers).  Every other function code is answered
with exception 1.  The register contents live in a :class:`RegisterBank`; the
server only does framing, validation, fault injection and statistics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import struct
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

__all__ = [
    "DictBank",
    "Faults",
    "ModbusReply",
    "ModbusTcpServer",
    "RegisterBank",
    "ServerStats",
]

_LOGGER = logging.getLogger(__name__)

# Exception codes (Modbus application protocol v1.1b3, section 7).
ILLEGAL_FUNCTION = 0x01
ILLEGAL_DATA_ADDRESS = 0x02
ILLEGAL_DATA_VALUE = 0x03
SERVER_DEVICE_FAILURE = 0x04
SERVER_DEVICE_BUSY = 0x06
GATEWAY_TARGET_FAILED = 0x0B

READ_HOLDING = 0x03
READ_INPUT = 0x04
WRITE_SINGLE = 0x06
WRITE_MULTIPLE = 0x10

MAX_READ = 125  # registers per FC03/FC04 request
MAX_WRITE = 123  # registers per FC16 request
_MBAP = struct.Struct(">HHHB")  # transaction id, protocol id, length, unit id
_MAX_MBAP_LENGTH = 254  # unit id + 253-byte PDU


class ModbusReply(Exception):
    """Raised by a :class:`RegisterBank` to answer the request with a Modbus exception.

    Codes: 1 illegal function, 2 illegal data address, 3 illegal data value,
    4 server device failure, 6 server device busy (any 1..255 is accepted).
    """

    def __init__(self, code: int) -> None:
        if not 1 <= code <= 0xFF:
            raise ValueError(f"Modbus exception code out of range: {code}")
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"Modbus exception {self.code}"


class RegisterBank(Protocol):
    """The register store behind a :class:`ModbusTcpServer`."""

    def read(self, table: str, address: int, count: int) -> list[int]:
        """Return ``count`` registers of ``table`` ("input" or "holding") from ``address``.

        Values must be 0..65535; -32768..-1 are accepted as signed 16-bit and sent in
        two's complement.  Raise :class:`ModbusReply` (usually 2) to refuse.
        """
        ...

    def write(self, address: int, values: list[int]) -> None:
        """Store holding registers; raise :class:`ModbusReply` (2 or 3) to refuse."""
        ...

    def transaction(self) -> None:
        """Called after every successfully answered request (watchdogs use it)."""
        ...


@dataclass
class Faults:
    """Faults injected by the server; read once per request, when the request arrives."""

    delay: float = 0.0  # seconds before every reply
    exception: int | None = None  # answer every request with this exception code
    write_exception: int | None = None  # answer every write with this exception code
    silent: bool = False  # accept requests but never reply
    lose_replies: int = 0  # the next this many requests get no reply (counted down)
    frozen: bool = False  # reads return the values last returned for the same key
    refuse_connections: bool = False  # close new connections at once


@dataclass
class ServerStats:
    """Counters; ``reads``/``writes`` count successfully answered requests only."""

    requests: int = 0  # every well-formed frame received
    reads: int = 0
    writes: int = 0
    registers_read: int = 0
    registers_written: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    connections_accepted: int = 0
    connections_refused: int = 0
    max_concurrent: int = 0  # highest number of simultaneously open client connections
    writes_log: list[tuple[int, list[int]]] = field(default_factory=list)
    # answered reads by (table, address, count): which blocks a client reads, how often
    reads_by_block: Counter[tuple[str, int, int]] = field(default_factory=Counter)
    exceptions: int = 0  # exception replies sent (including injected ones)
    malformed: int = 0  # connections closed because of a malformed frame


class DictBank:
    """A plain register bank: two dicts of address -> value.

    Any address not present is answered with exception 2; writes only change
    holding registers that already exist (all or nothing).
    """

    def __init__(
        self,
        input: Mapping[int, int] | None = None,
        holding: Mapping[int, int] | None = None,
    ) -> None:
        self.input: dict[int, int] = dict(input or {})
        self.holding: dict[int, int] = dict(holding or {})
        self.transactions = 0

    def _table(self, table: str) -> dict[int, int]:
        if table == "input":
            return self.input
        if table == "holding":
            return self.holding
        raise ModbusReply(ILLEGAL_FUNCTION)

    def read(self, table: str, address: int, count: int) -> list[int]:
        regs = self._table(table)
        try:
            return [regs[a] for a in range(address, address + count)]
        except KeyError:
            raise ModbusReply(ILLEGAL_DATA_ADDRESS) from None

    def write(self, address: int, values: list[int]) -> None:
        addresses = range(address, address + len(values))
        if any(a not in self.holding for a in addresses):
            raise ModbusReply(ILLEGAL_DATA_ADDRESS)
        self.holding.update(zip(addresses, values, strict=True))

    def transaction(self) -> None:
        self.transactions += 1


class _MalformedFrameError(Exception):
    """A frame that cannot be answered; the connection is closed."""


def _exception_pdu(function: int, code: int) -> bytes:
    return bytes(((function | 0x80) & 0xFF, code & 0xFF))


def _encode(values: list[int]) -> bytes:
    out = bytearray()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not -0x8000 <= value <= 0xFFFF:
            raise TypeError(f"register value out of range: {value!r}")
        out += (value & 0xFFFF).to_bytes(2, "big")
    return bytes(out)


class ModbusTcpServer:
    """Modbus TCP server answering from a :class:`RegisterBank`.

    Requests on one connection are answered in order (pipelining works); separate
    connections are served concurrently.  ``start()`` after ``stop()`` binds the same
    port again, so a restarted box is reachable where clients expect it.
    """

    def __init__(
        self,
        bank: RegisterBank,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_id: int | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.bank = bank
        self.host = host
        self.unit_id = unit_id
        self.max_connections = max_connections
        self.before_accept: Callable[[], None] | None = None
        self.faults = Faults()
        self.stats = ServerStats()
        self._requested_port = port
        self._bound_port: int | None = None
        self._server: asyncio.Server | None = None
        self._closing = False
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._frozen: dict[tuple[str, int, int], list[int]] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def port(self) -> int:
        """The bound TCP port (valid after :meth:`start`; kept after :meth:`stop`)."""
        if self._bound_port is not None:
            return self._bound_port
        if self._requested_port:
            return self._requested_port
        raise RuntimeError("server not started")

    @property
    def open_connections(self) -> int:
        return len(self._connections)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        port = self._bound_port if self._bound_port is not None else self._requested_port
        self._closing = False
        self._server = await asyncio.start_server(self._serve, self.host, port)
        self._bound_port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the listener and every client; leaves no tasks behind."""
        server, self._server = self._server, None
        if server is None:
            return
        self._closing = True
        server.close()
        await self.drop_connections()
        await server.wait_closed()

    def abort_connections(self) -> None:
        """Reset every client socket at once, from inside a request if need be.

        The request being handled gets no reply: its socket is gone.  Handlers
        end by themselves when they see the closed stream.
        """
        for writer in list(self._connections.values()):
            writer.transport.abort()

    async def drop_connections(self) -> None:
        """Close every open client connection now (a box that resets)."""
        current = asyncio.current_task()
        tasks = []
        for task, writer in list(self._connections.items()):
            writer.transport.abort()
            if task is not current:
                task.cancel()
                tasks.append(task)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- connection

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._closing:
            writer.transport.abort()
            return
        if self.before_accept is not None:
            self.before_accept()  # the box catches up with the clock (a refusal may end)
        full = self.max_connections is not None and len(self._connections) >= self.max_connections
        if full or self.faults.refuse_connections:
            self.stats.connections_refused += 1
            writer.transport.abort()
            return
        self._connections[task] = writer
        self.stats.connections_accepted += 1
        self.stats.max_concurrent = max(self.stats.max_concurrent, len(self._connections))
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    header = await reader.readexactly(_MBAP.size)
                except asyncio.IncompleteReadError as err:
                    self.stats.bytes_in += len(err.partial)
                    return
                self.stats.bytes_in += len(header)
                tid, protocol, length, unit = _MBAP.unpack(header)
                if protocol != 0 or not 2 <= length <= _MAX_MBAP_LENGTH:
                    raise _MalformedFrameError(f"protocol id {protocol}, length {length}")
                try:
                    pdu = await reader.readexactly(length - 1)
                except asyncio.IncompleteReadError as err:
                    self.stats.bytes_in += len(err.partial)
                    raise _MalformedFrameError("connection closed inside a frame") from None
                self.stats.bytes_in += len(pdu)
                await self._request(writer, tid, unit, pdu)
        except _MalformedFrameError as err:
            self.stats.malformed += 1
            _LOGGER.warning("closing connection from %s: malformed frame (%s)", peer, err)
        except (ConnectionError, OSError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _request(self, writer: asyncio.StreamWriter, tid: int, unit: int, pdu: bytes) -> None:
        faults = dataclasses.replace(self.faults)  # the faults in force when it arrived
        self.stats.requests += 1
        if faults.silent:
            return
        if faults.lose_replies > 0:
            self.faults.lose_replies -= 1
            return
        if faults.delay > 0:
            await asyncio.sleep(faults.delay)
        reply, ok = self._execute(unit, pdu, faults)
        if not ok:
            self.stats.exceptions += 1
        frame = _MBAP.pack(tid, 0, len(reply) + 1, unit) + reply
        writer.write(frame)
        await writer.drain()
        self.stats.bytes_out += len(frame)
        if ok:
            try:
                self.bank.transaction()
            except Exception:
                _LOGGER.exception("register bank transaction() failed")

    # ------------------------------------------------------------------- requests

    def _execute(self, unit: int, pdu: bytes, faults: Faults) -> tuple[bytes, bool]:
        """Answer one request PDU; returns (reply PDU, answered without exception)."""
        function = pdu[0]
        if faults.exception is not None:
            return _exception_pdu(function, faults.exception), False
        if faults.write_exception is not None and function in (WRITE_SINGLE, WRITE_MULTIPLE):
            return _exception_pdu(function, faults.write_exception), False
        if self.unit_id is not None and unit != self.unit_id:
            return _exception_pdu(function, GATEWAY_TARGET_FAILED), False
        try:
            if function in (READ_HOLDING, READ_INPUT):
                return self._read(function, pdu, faults.frozen), True
            if function == WRITE_SINGLE:
                return self._write_single(pdu), True
            if function == WRITE_MULTIPLE:
                return self._write_multiple(pdu), True
            raise ModbusReply(ILLEGAL_FUNCTION)
        except ModbusReply as reply:
            return _exception_pdu(function, reply.code), False
        except Exception:
            _LOGGER.exception(
                "register bank failed on function %d, request %s", function, pdu.hex()
            )
            return _exception_pdu(function, SERVER_DEVICE_FAILURE), False

    def _read(self, function: int, pdu: bytes, frozen: bool) -> bytes:
        if len(pdu) != 5:
            raise ModbusReply(ILLEGAL_DATA_VALUE)
        address, count = struct.unpack_from(">HH", pdu, 1)
        if not 1 <= count <= MAX_READ:
            raise ModbusReply(ILLEGAL_DATA_VALUE)
        if address + count > 0x10000:
            raise ModbusReply(ILLEGAL_DATA_ADDRESS)
        table = "holding" if function == READ_HOLDING else "input"
        key = (table, address, count)
        cached = self._frozen.get(key) if frozen else None
        if cached is not None:
            values = cached
        else:
            values = list(self.bank.read(table, address, count))
            if len(values) != count:
                raise TypeError(f"bank returned {len(values)} registers for {key}")
        data = _encode(values)
        self._frozen[key] = values
        self.stats.reads += 1
        self.stats.registers_read += count
        self.stats.reads_by_block[key] += 1
        return bytes((function, len(data))) + data

    def _accept_write(self, address: int, values: list[int]) -> None:
        self.bank.write(address, values)
        self.stats.writes += 1
        self.stats.registers_written += len(values)
        self.stats.writes_log.append((address, list(values)))

    def _write_single(self, pdu: bytes) -> bytes:
        if len(pdu) != 5:
            raise ModbusReply(ILLEGAL_DATA_VALUE)
        address, value = struct.unpack_from(">HH", pdu, 1)
        self._accept_write(address, [value])
        return pdu

    def _write_multiple(self, pdu: bytes) -> bytes:
        if len(pdu) < 6:
            raise ModbusReply(ILLEGAL_DATA_VALUE)
        address, count, byte_count = struct.unpack_from(">HHB", pdu, 1)
        if not 1 <= count <= MAX_WRITE or byte_count != 2 * count or len(pdu) != 6 + byte_count:
            raise ModbusReply(ILLEGAL_DATA_VALUE)
        if address + count > 0x10000:
            raise ModbusReply(ILLEGAL_DATA_ADDRESS)
        values = list(struct.unpack_from(f">{count}H", pdu, 6))
        self._accept_write(address, values)
        return pdu[:5]
