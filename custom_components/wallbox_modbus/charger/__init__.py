"""Device layer of Wallbox Modbus: register maps, decoding, planning, transport,
capabilities and the user's wishes.  Imports nothing from Home Assistant.

Everything imports it as the package ``custom_components.wallbox_modbus.charger``
(the integration, the simulators, the tests and mypy alike).
"""

from __future__ import annotations

from .capabilities import (
    Command,
    CurrentLimit,
    EventWatch,
    PhaseSwitch,
    RemoteLock,
    Setting,
    Toggle,
)
from .charger import Charger
from .checks import CONTRADICTION_CODES, Finding, Status
from .const import Table
from .errors import (
    MAP_MESSAGES,
    BusyError,
    ChargerConnectionError,
    ChargerError,
    ChargerProtocolError,
    ChargerTimeoutError,
    IllegalAddressError,
    InvalidValueError,
    LayoutTooOldError,
    ModbusExceptionError,
    RegisterMapError,
    WrongModelError,
)
from .keepalive import Keepalive
from .models import MODELS, ModelInfo, models_of
from .registers import Point, RegisterMap, Rung, Tier, load_map, load_map_file
from .snapshot import ChargerEvent, Desired, Identity, Snapshot, VerificationStatus, pid
from .spec import STATUSES
from .timers import Due, Ran
from .transport import ModbusTransport
from .user_maps import (
    UserMaps,
    ensure_folder,
    file_of,
    is_user_model,
    load_user_map,
    scan_user_maps,
    user_model_id,
)
from .verify import DEFAULT_DURATION, Report, Verification


def create_charger(
    model: str | ModelInfo, host: str, port: int, unit_id: int, *, timeout: float = 5.0
) -> Charger:
    """A charger for a model at an address (not connected yet)."""
    info = MODELS[model] if isinstance(model, str) else model
    transport = ModbusTransport(host, port, unit_id, timeout=timeout)
    return Charger(transport, info)


__all__ = [
    "CONTRADICTION_CODES",
    "DEFAULT_DURATION",
    "MAP_MESSAGES",
    "MODELS",
    "STATUSES",
    "BusyError",
    "Charger",
    "ChargerConnectionError",
    "ChargerError",
    "ChargerEvent",
    "ChargerProtocolError",
    "ChargerTimeoutError",
    "Command",
    "CurrentLimit",
    "Desired",
    "Due",
    "EventWatch",
    "Finding",
    "Identity",
    "IllegalAddressError",
    "InvalidValueError",
    "Keepalive",
    "LayoutTooOldError",
    "ModbusExceptionError",
    "ModbusTransport",
    "ModelInfo",
    "PhaseSwitch",
    "Point",
    "Ran",
    "RegisterMap",
    "RegisterMapError",
    "RemoteLock",
    "Report",
    "Rung",
    "Setting",
    "Snapshot",
    "Status",
    "Table",
    "Tier",
    "Toggle",
    "UserMaps",
    "Verification",
    "VerificationStatus",
    "WrongModelError",
    "create_charger",
    "ensure_folder",
    "file_of",
    "is_user_model",
    "load_map",
    "load_map_file",
    "load_user_map",
    "models_of",
    "pid",
    "scan_user_maps",
    "user_model_id",
]
