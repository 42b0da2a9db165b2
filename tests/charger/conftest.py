"""Make the device layer importable as the top-level package ``charger``."""

from __future__ import annotations

import sys
from pathlib import Path


def add_device_layer_to_path() -> None:
    """Put custom_components/wallbox_modbus on sys.path once (a root conftest may too)."""
    integration = str(Path(__file__).resolve().parents[2] / "custom_components" / "wallbox_modbus")
    if integration not in sys.path:
        sys.path.insert(0, integration)


add_device_layer_to_path()
