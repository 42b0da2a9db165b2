"""Behavioural wallbox simulators: real Modbus TCP servers on loopback.

They are driven by the same register maps as the integration, and answer the
way the vendor documents say the boxes do.  Not shipped to users.

The device layer (``custom_components/wallbox_modbus/charger``) imports nothing
from Home Assistant; it is loaded here as the top-level package ``charger`` by
file location.  (Putting the integration folder on ``sys.path`` would let its
``select.py`` shadow the standard library's ``select``.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DEVICE_LAYER = (
    Path(__file__).resolve().parent.parent / "custom_components" / "wallbox_modbus" / "charger"
)


def load_device_layer() -> None:
    """Make ``import charger`` import the checkout's device layer (once)."""
    if "charger" in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        "charger",
        DEVICE_LAYER / "__init__.py",
        submodule_search_locations=[str(DEVICE_LAYER)],
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["charger"] = module
    spec.loader.exec_module(module)


load_device_layer()
