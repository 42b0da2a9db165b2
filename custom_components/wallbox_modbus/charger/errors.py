"""Errors of the device layer.

Every failure the layer can report is one of these, so that the Home Assistant
glue maps them onto translated messages without knowing pymodbus.
"""

from __future__ import annotations


class ChargerError(Exception):
    """Base class of every error the device layer raises."""


class ChargerConnectionError(ChargerError):
    """The box cannot be reached, or the connection was lost."""


class ChargerTimeoutError(ChargerError):
    """The box accepted the connection but did not answer in time."""


class ChargerProtocolError(ChargerError):
    """The box answered, but not in the shape the request asked for."""


class ModbusExceptionError(ChargerError):
    """The box answered a request with a Modbus exception."""

    def __init__(self, code: int, table: str, address: int, count: int) -> None:
        super().__init__(f"Modbus exception {code} for {table} register {address} (count {count})")
        self.code = code
        self.table = table
        self.address = address
        self.count = count


class IllegalAddressError(ModbusExceptionError):
    """Exception 2: the box does not serve (some of) the addresses asked for."""


class InvalidValueError(ChargerError):
    """A write was refused before anything went on the wire."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        super().__init__(f"{value!r} is not a valid value for {key}: allowed {allowed}")
        self.key = key
        self.value = value
        self.allowed = allowed


class WrongModelError(ChargerError):
    """The box at this address is not the model that was chosen."""

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"expected {expected}, found {found}")
        self.expected = expected
        self.found = found


class BusyError(ChargerError):
    """The box is busy with a previous command (a phase switch in progress)."""


class RegisterMapError(ChargerError):
    """A register map file is malformed; the message names the file and point."""
