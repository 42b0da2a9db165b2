"""Device layer of Wallbox Modbus: register maps, decoding, planning, transport
and per-family behaviour.  Imports nothing from Home Assistant."""

from __future__ import annotations

from .amperfied import AmperfiedCharger
from .charger import STATUSES, Charger, Identity, LimitState, Snapshot, pid
from .compleo import CompleoCharger
from .const import Table
from .errors import (
    BusyError,
    ChargerConnectionError,
    ChargerError,
    ChargerProtocolError,
    ChargerTimeoutError,
    IllegalAddressError,
    InvalidValueError,
    ModbusExceptionError,
    RegisterMapError,
    WrongModelError,
)
from .models import MODELS, ModelInfo
from .registers import Point, RegisterMap, Rung, Tier, load_map
from .transport import ModbusTransport
from .vestel import VestelCharger

FAMILIES: dict[str, type[Charger]] = {
    cls.family: cls for cls in (VestelCharger, AmperfiedCharger, CompleoCharger)
}

# Read and validate every shipped map when the package is imported (Home Assistant
# imports integrations in an executor), so no file is read inside an event loop
# later, and a malformed map fails loudly at once.
for _model in MODELS.values():
    load_map(_model.map_name)


def create_charger(
    model_id: str, host: str, port: int, unit_id: int, *, timeout: float = 5.0
) -> Charger:
    """A charger for a model at an address (not connected yet)."""
    model = MODELS[model_id]
    transport = ModbusTransport(host, port, unit_id, timeout=timeout)
    return FAMILIES[model.family](transport, model)


__all__ = [
    "FAMILIES",
    "MODELS",
    "STATUSES",
    "AmperfiedCharger",
    "BusyError",
    "Charger",
    "ChargerConnectionError",
    "ChargerError",
    "ChargerProtocolError",
    "ChargerTimeoutError",
    "CompleoCharger",
    "Identity",
    "IllegalAddressError",
    "InvalidValueError",
    "LimitState",
    "ModbusExceptionError",
    "ModbusTransport",
    "ModelInfo",
    "Point",
    "RegisterMap",
    "RegisterMapError",
    "Rung",
    "Snapshot",
    "Table",
    "Tier",
    "VestelCharger",
    "WrongModelError",
    "create_charger",
    "load_map",
    "pid",
]
