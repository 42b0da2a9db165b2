"""Small shared vocabulary of the device layer."""

from __future__ import annotations

import time
from enum import StrEnum


class Table(StrEnum):
    """Modbus register table a point lives in."""

    INPUT = "input"  # function code 04, read only
    HOLDING = "holding"  # function codes 03 / 06 / 16


MAX_READ_REGISTERS = 125  # Modbus limit for one read request


def monotonic() -> float:
    """time.monotonic, looked up at each call so that a test's frozen clock applies."""
    return time.monotonic()
