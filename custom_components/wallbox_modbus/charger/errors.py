"""Errors of the device layer.

Every failure the layer can report is one of these, so that the Home Assistant
glue maps them onto translated messages without knowing pymodbus.
"""

from __future__ import annotations

from collections.abc import Mapping


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


class LayoutTooOldError(WrongModelError):
    """The box's register layout is older than the chosen model needs."""

    def __init__(self, expected: str, layout: str, minimum: str) -> None:
        super().__init__(expected, f"register layout {layout} (needs at least {minimum})")
        self.layout = layout
        self.minimum = minimum


class BusyError(ChargerError):
    """The box is busy with a previous command (a phase switch in progress)."""


# English texts of the map errors; the Home Assistant glue has them translated
# under the same codes.  Placeholders: field, value, low, high, allowed.
MAP_MESSAGES: Mapping[str, str] = {
    "unreadable": "cannot be read: {value}",
    "not_json": "is not valid JSON: {value}",
    "not_yaml": "is not valid YAML: {value}",
    "not_object": "`{field}` must be an object",
    "not_list": "`{field}` must be a list",
    "missing": "`{field}` is missing",
    "not_integer": "`{field}` must be a whole number from {low} to {high}, found {value}",
    "not_number": "`{field}` must be a number, found {value}",
    "not_positive": "`{field}` must be above zero, found {value}",
    "not_text": "`{field}` must be text, found {value}",
    "not_key": "`{field}` must be a name of small letters, digits and _, found {value}",
    "not_lower_case": "`{field}` must be in small letters, found {value}",
    "unknown_choice": "`{field}` must be one of {allowed}, found {value}",
    "unknown_fields": "has unknown field(s) {value}",
    "unknown_point": "`{field}` names point `{value}`, which the map does not have",
    "not_writable": "`{field}` names point `{value}`, which is not writable",
    "not_readable": "`{field}` names point `{value}`, which cannot be read",
    "not_a_command": "`{field}` {value} is not a value that point `{allowed}` takes",
    "overlap": "overlaps point `{value}`",
    "duplicate": "is defined twice",
    "fixed_width": "`count` of a {value} point is always {low}",
    "past_end": "runs past register 65535",
    "empty_range": "`{field}` range {value} is empty",
    "write_allows_nothing": "`write` allows no value",
    "write_without_access": (
        "`write` (the valid raw values) goes with access rw or w, and only with them"
    ),
    "input_read_only": "input registers are read only: `access` must be r",
    "write_only_polled": "a write-only point is never polled: `tier` must be none",
    "text_scaled": "text points cannot be scaled",
    "no_evidence": "claims rung {value} without evidence for {field}",
    "verified_below_rung": "`hardware_verified` lists reports, but the rung is {value}",
    "bad_report_path": (
        "`{field}` must be a path evidence/<map>/<firmware>.json beside the map, found {value}"
    ),
    "bad_version": "`{field}` must be a version such as 1.0.8, found {value}",
    "unknown_status": "`{field}` maps onto {value}, which is not a catalog status",
    "no_points": "has no points",
}


class RegisterMapError(ChargerError):
    """A register map file is malformed: which file, where, and what is wrong.

    ``code`` names the kind of mistake (a key of ``MAP_MESSAGES``), ``where`` the
    point (its key) or section of the map, ``params`` the placeholders.  ``str()``
    gives the English message; the glue translates by code.
    """

    def __init__(self, file: str, where: str, code: str, **params: object) -> None:
        self.file = file
        self.where = where
        self.code = code
        self.params = {key: str(value) for key, value in params.items()}
        super().__init__(f"{file}: {where}: {self.message}")

    @property
    def place(self) -> str:
        """Where, in the file's own words: the point key or section name ('power', 'limit')."""
        if "`" in self.where:
            return self.where.split("`")[1]
        return self.where

    @property
    def message(self) -> str:
        """The English text of the mistake, without file and place."""
        template = MAP_MESSAGES.get(self.code, "{value}")
        return template.format_map(_Defaults(self.params))


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
