"""Modbus TCP transport: one serialised connection to one box.

The transport is the only module that knows pymodbus.  It keeps a single TCP
connection (some boxes accept only one), serialises every request behind one
lock, reconnects on demand with an exponential backoff, and turns every
pymodbus failure into one of the layer's own errors.

Timing is owned here, not by pymodbus: pymodbus gets no retries, no automatic
reconnect and a generous timeout of its own, and this module enforces the
real connect and request timeouts.  That keeps the behaviour identical on every
pymodbus release Home Assistant pins (3.8.3 and newer).

Logging is owned here too.  pymodbus reports what goes wrong under it at
warning or error ("Failed to connect ..." on every attempt on 3.8.3): for the
requests of this transport those reports are failures this module turns into
its own errors, which the coordinator logs once when the box stops answering
and once when it answers again.  While a request of ours runs, pymodbus's
records are therefore taken out of the log (a context variable marks them, so
any other use of pymodbus in the same process is untouched); their text goes
into our error and a debug line.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from pymodbus import ExceptionResponse
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from .const import MAX_READ_REGISTERS, Table, monotonic
from .errors import (
    ChargerConnectionError,
    ChargerProtocolError,
    ChargerTimeoutError,
    IllegalAddressError,
    ModbusExceptionError,
)

_LOGGER = logging.getLogger(__name__)

# pymodbus's own logger (pymodbus.logging.Log) on every 3.x release.
PYMODBUS_LOGGER = "pymodbus.logging"
# What pymodbus reported while a request (or connect) of ours was under way.
_REPORTS: ContextVar[list[str] | None] = ContextVar("wallbox_modbus_reports", default=None)


class _OwnRequests(logging.Filter):
    """Takes pymodbus's records made inside our requests out of the log, keeping the text."""

    def filter(self, record: logging.LogRecord) -> bool:
        reports = _REPORTS.get()
        if reports is None:
            return True
        text = record.getMessage()
        if text and not text.startswith("Repeating"):
            reports.append(text)
        return False


def _install_filter() -> None:
    logger = logging.getLogger(PYMODBUS_LOGGER)
    if not any(isinstance(f, _OwnRequests) for f in logger.filters):
        logger.addFilter(_OwnRequests())


_install_filter()

MAX_WRITE_REGISTERS = 123  # Modbus limit for one FC16 request

# Modbus TCP frame sizes: MBAP header (7 bytes, unit id included) + PDU.
_MBAP = 7
_READ_REQUEST_BYTES = _MBAP + 5  # fc, address, count
_WRITE_SINGLE_BYTES = _MBAP + 5  # fc, address, value (request and echo)
_WRITE_MULTIPLE_REPLY_BYTES = _MBAP + 5  # fc, address, count
_EXCEPTION_REPLY_BYTES = _MBAP + 2  # fc | 0x80, exception code

# pymodbus's own timeout only backs up ours; it must never fire first.
_PYMODBUS_TIMEOUT_FACTOR = 2.0


def _read_reply_bytes(count: int) -> int:
    return _MBAP + 2 + 2 * count  # fc, byte count, registers


def _write_multiple_request_bytes(count: int) -> int:
    return _MBAP + 6 + 2 * count  # fc, address, count, byte count, registers


@cache
def _unit_keyword() -> str:
    """Name of the unit id argument: `slave` up to pymodbus 3.9, `device_id` since 3.10."""
    parameters = inspect.signature(AsyncModbusTcpClient.read_holding_registers).parameters
    return "device_id" if "device_id" in parameters else "slave"


@cache
def _client_parameters() -> frozenset[str]:
    return frozenset(inspect.signature(AsyncModbusTcpClient).parameters)


def _consume_result(task: asyncio.Future[Any]) -> None:
    """Retrieve a finished task's exception so asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()


def _check_address(name: str, value: int) -> None:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{name} {value} is outside 0..65535")


def _check_span(address: int, count: int, limit: int) -> None:
    _check_address("address", address)
    if not 1 <= count <= limit:
        raise ValueError(f"count {count} is outside 1..{limit}")
    if address + count - 1 > 0xFFFF:
        raise ValueError(f"registers {address}..{address + count - 1} run past 65535")


class _ConnectionLostError(ChargerConnectionError):
    """The connection went while a request was on it (the request may not have arrived)."""


@dataclass
class TransportStats:
    """Counters of one transport, for diagnostics."""

    requests: int = 0  # Modbus requests sent (reads + writes)
    reads: int = 0
    writes: int = 0
    registers_read: int = 0
    registers_written: int = 0
    bytes_sent: int = 0  # Modbus TCP frame sizes (MBAP + PDU), not socket counters
    bytes_received: int = 0
    errors: int = 0  # failed connects and failed requests
    connects: int = 0  # successful TCP connects
    last_success: float | None = None  # clock() of the last successful transaction

    def as_dict(self) -> dict[str, int | float | None]:
        """Return the counters as a plain dictionary."""
        return asdict(self)


class ModbusTransport:
    """One Modbus TCP connection to one unit, shared by all requests.

    Requests connect on demand.  After a failed connect, requests fail at once
    with ChargerConnectionError until the backoff delay has passed (doubling
    from backoff_initial up to backoff_max); a successful connect resets it.
    An explicit connect() always tries.

    A connection the box closed while it was idle (a restart, a fallback, a
    router forgetting it) is found dead only when a request goes out on it:
    such a request is sent once more on a new connection.  Every request is a
    read or a write of register values, so sending it twice changes nothing.
    A connection lost on a request of its own, or closed by close(), is an
    error at once.
    """

    def __init__(
        self,
        host: str,
        port: int,
        unit_id: int,
        *,
        timeout: float = 5.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 10.0,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        """Describe the connection; nothing touches the network until used."""
        _check_address("port", port)
        if not 0 <= unit_id <= 255:
            raise ValueError(f"unit id {unit_id} is outside 0..255")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if not 0 <= backoff_initial <= backoff_max:
            raise ValueError("backoff must satisfy 0 <= backoff_initial <= backoff_max")
        self._host = host
        self._port = port
        self._unit_id = unit_id
        self._configured_timeout = timeout
        self._timeout = timeout  # in force: the configured one, or a shorter cap
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._clock = clock
        self.stats = TransportStats()
        self._lock = asyncio.Lock()
        self._client: AsyncModbusTcpClient | None = None
        # Resolved when the current connection is lost or close() is called.
        self._interrupted: asyncio.Future[None] | None = None
        self._closing = 0  # close() calls under way: a lost connection is not sent again
        self._backoff = backoff_initial
        self._retry_at: float | None = None

    def __repr__(self) -> str:
        """Name the peer, for logs."""
        return f"ModbusTransport({self._host}:{self._port}, unit {self._unit_id})"

    @property
    def timeout(self) -> float:
        """Seconds a connect or a request may take now."""
        return self._timeout

    def cap_timeout(self, seconds: float | None) -> None:
        """Let no connect or request wait longer than this (None: the configured timeout).

        A box with a keepalive must hear from us within its own timeout: a reply
        that does not come has to be given up soon enough to try again in time.
        """
        timeout = self._configured_timeout
        if seconds is not None and 0 < seconds < timeout:
            timeout = seconds
        self._timeout = timeout

    @property
    def connected(self) -> bool:
        """Return True while the TCP connection is up."""
        return self._client is not None and self._client.connected

    async def connect(self) -> None:
        """Open the connection now (closing any previous one), ignoring the backoff.

        Raises ChargerConnectionError or ChargerTimeoutError.
        """
        async with self._lock:
            await self._connect_locked()

    async def close(self) -> None:
        """Close the connection; idempotent.

        A request waiting for its reply is interrupted with ChargerConnectionError.
        """
        self._closing += 1
        try:
            if self._interrupted is not None and not self._interrupted.done():
                self._interrupted.set_result(None)
            async with self._lock:
                await self._drop()
        finally:
            self._closing -= 1

    async def read(self, table: Table, address: int, count: int) -> list[int]:
        """Read count registers from table, starting at address (FC04 / FC03)."""
        table = Table(table)
        _check_span(address, count, MAX_READ_REGISTERS)
        unit = self._unit_kwargs()

        def call(client: AsyncModbusTcpClient) -> Awaitable[ModbusPDU]:
            if table is Table.INPUT:
                return client.read_input_registers(address, count=count, **unit)
            return client.read_holding_registers(address, count=count, **unit)

        response = await self._transact(
            call, table=table, address=address, count=count, sent=_READ_REQUEST_BYTES
        )
        registers = list(response.registers)
        self.stats.bytes_received += _read_reply_bytes(len(registers))
        if len(registers) != count:
            self.stats.errors += 1
            raise ChargerProtocolError(
                f"{self!r}: asked for {count} {table} registers at {address}, got {len(registers)}"
            )
        self.stats.registers_read += count
        self.stats.last_success = self._clock()
        return registers

    async def write_register(self, address: int, value: int) -> None:
        """Write one holding register (FC06)."""
        _check_address("address", address)
        _check_address("value", value)
        unit = self._unit_kwargs()

        def call(client: AsyncModbusTcpClient) -> Awaitable[ModbusPDU]:
            return client.write_register(address, value, **unit)

        await self._transact(
            call,
            table=Table.HOLDING,
            address=address,
            count=1,
            sent=_WRITE_SINGLE_BYTES,
            write=True,
        )
        self._write_done(_WRITE_SINGLE_BYTES, 1)

    async def write_registers(self, address: int, values: Sequence[int]) -> None:
        """Write consecutive holding registers (FC16)."""
        words = list(values)
        _check_span(address, len(words), MAX_WRITE_REGISTERS)
        for value in words:
            _check_address("value", value)
        unit = self._unit_kwargs()

        def call(client: AsyncModbusTcpClient) -> Awaitable[ModbusPDU]:
            return client.write_registers(address, words, **unit)

        await self._transact(
            call,
            table=Table.HOLDING,
            address=address,
            count=len(words),
            sent=_write_multiple_request_bytes(len(words)),
            write=True,
        )
        self._write_done(_WRITE_MULTIPLE_REPLY_BYTES, len(words))

    # -- internals -------------------------------------------------------------

    def _unit_kwargs(self) -> dict[str, Any]:
        return {_unit_keyword(): self._unit_id}

    def _write_done(self, received: int, count: int) -> None:
        self.stats.bytes_received += received
        self.stats.registers_written += count
        self.stats.last_success = self._clock()

    def _new_client(self, interrupted: asyncio.Future[None]) -> AsyncModbusTcpClient:
        """Create a pymodbus client (inside the running loop) with its policies off."""

        def trace_connect(up: bool) -> None:
            # Called by pymodbus when the peer drops the connection (not on our close).
            if not up and not interrupted.done():
                interrupted.set_result(None)

        wanted: dict[str, Any] = {
            "port": self._port,
            "timeout": self._configured_timeout * _PYMODBUS_TIMEOUT_FACTOR,
            "retries": 0,
            "reconnect_delay": 0,  # 0 disables pymodbus's reconnect task
            "reconnect_delay_max": 0,
            "trace_connect": trace_connect,
        }
        accepted = _client_parameters()
        options = {key: value for key, value in wanted.items() if key in accepted}
        return AsyncModbusTcpClient(self._host, **options)

    async def _connect_locked(self) -> None:
        await self._drop()
        interrupted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        client = self._new_client(interrupted)
        reports: list[str] = []
        token = _REPORTS.set(reports)
        try:
            ok = await asyncio.wait_for(client.connect(), self._timeout)
        except TimeoutError as err:
            await self._connect_failed(client)
            raise ChargerTimeoutError(
                f"{self!r}: no connection within {self._timeout:g} s"
            ) from err
        except (OSError, ModbusException) as err:
            await self._connect_failed(client)
            raise ChargerConnectionError(f"{self!r}: cannot connect: {err}") from err
        finally:
            _REPORTS.reset(token)
        if not ok or not client.connected:
            await self._connect_failed(client)
            why = f": {reports[-1]}" if reports else ""
            _LOGGER.debug("%r: cannot connect%s", self, why)
            raise ChargerConnectionError(f"{self!r}: cannot connect{why}")
        self._client = client
        self._interrupted = interrupted
        self._backoff = self._backoff_initial
        self._retry_at = None
        self.stats.connects += 1
        _LOGGER.debug("%r: connected", self)

    async def _connect_failed(self, client: AsyncModbusTcpClient) -> None:
        client.close()
        await asyncio.sleep(0)  # let asyncio finish closing a half-open socket
        self.stats.errors += 1
        self._retry_at = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2, self._backoff_max)

    async def _drop(self) -> None:
        """Forget the connection and close its socket."""
        client, self._client = self._client, None
        interrupted, self._interrupted = self._interrupted, None
        if interrupted is not None and not interrupted.done():
            interrupted.cancel()
        if client is not None:
            client.close()
            # transport.close() finishes on the next loop iteration; wait for it so
            # that nothing is held when we return.
            await asyncio.sleep(0)
            _LOGGER.debug("%r: disconnected", self)

    async def _ensure_connected(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        if self._retry_at is not None:
            wait = self._retry_at - self._clock()
            if wait > 0:
                raise ChargerConnectionError(
                    f"{self!r}: not connected, next attempt in {wait:.1f} s"
                )
        await self._connect_locked()
        assert self._client is not None
        return self._client

    async def _transact(
        self,
        call: Callable[[AsyncModbusTcpClient], Awaitable[ModbusPDU]],
        *,
        table: Table,
        address: int,
        count: int,
        sent: int,
        write: bool = False,
    ) -> ModbusPDU:
        """Send one request and return its (non-exception) reply."""
        reports: list[str] = []
        token = _REPORTS.set(reports)
        try:
            return await self._transact_reported(
                call, table=table, address=address, count=count, sent=sent, write=write
            )
        finally:
            _REPORTS.reset(token)
            for text in reports:
                _LOGGER.debug("%r: pymodbus: %s", self, text)

    async def _transact_reported(
        self,
        call: Callable[[AsyncModbusTcpClient], Awaitable[ModbusPDU]],
        *,
        table: Table,
        address: int,
        count: int,
        sent: int,
        write: bool,
    ) -> ModbusPDU:
        async with self._lock:
            for attempt in (1, 2):
                reused = self.connected  # opened before this request, maybe long idle
                client = await self._ensure_connected()
                try:
                    response = await self._send(client, call, sent=sent, write=write)
                except _ConnectionLostError as err:
                    if attempt == 1 and reused and not self._closing:
                        _LOGGER.debug("%r: %s; sending again on a new connection", self, err)
                        continue
                    raise
                break

        if isinstance(response, ExceptionResponse):
            self.stats.bytes_received += _EXCEPTION_REPLY_BYTES
            self.stats.errors += 1
            code = response.exception_code
            error = IllegalAddressError if code == 2 else ModbusExceptionError
            raise error(code, str(table), address, count)
        return response

    async def _send(
        self,
        client: AsyncModbusTcpClient,
        call: Callable[[AsyncModbusTcpClient], Awaitable[ModbusPDU]],
        *,
        sent: int,
        write: bool,
    ) -> ModbusPDU:
        interrupted = self._interrupted
        assert interrupted is not None
        try:
            pending = asyncio.ensure_future(call(client))
        except ConnectionException as err:  # the client saw the connection go
            await self._fail()
            raise _ConnectionLostError(f"{self!r}: connection lost: {err}") from err
        pending.add_done_callback(_consume_result)
        self.stats.requests += 1
        if write:
            self.stats.writes += 1
        else:
            self.stats.reads += 1
        self.stats.bytes_sent += sent
        return await self._await_reply(pending, interrupted)

    async def _await_reply(
        self, pending: asyncio.Future[ModbusPDU], interrupted: asyncio.Future[None]
    ) -> ModbusPDU:
        try:
            done, _ = await asyncio.wait(
                (pending, interrupted),
                timeout=self._timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
        except asyncio.CancelledError:
            # Our caller gave up: the reply may still come, so the stream is unusable.
            pending.cancel()
            await self._drop()
            raise
        if pending in done:
            try:
                return pending.result()
            except ConnectionException as err:
                await self._fail()
                raise _ConnectionLostError(f"{self!r}: connection lost: {err}") from err
            except ModbusIOException as err:
                # pymodbus's own timeout is longer than ours, so this is a reply it
                # rejected (wrong transaction or unit id): resynchronise.
                await self._fail()
                raise ChargerProtocolError(f"{self!r}: bad reply: {err}") from err
            except ModbusException as err:
                await self._fail()
                raise ChargerProtocolError(f"{self!r}: {err}") from err
        pending.cancel()
        await self._fail()
        if interrupted in done:
            raise _ConnectionLostError(f"{self!r}: connection lost")
        raise ChargerTimeoutError(f"{self!r}: no reply within {self._timeout:g} s")

    async def _fail(self) -> None:
        self.stats.errors += 1
        await self._drop()
