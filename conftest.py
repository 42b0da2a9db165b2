"""Root conftest: make the device layer importable as ``charger`` and the
simulators as ``simulators`` for every test suite."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for entry in (ROOT, ROOT / "custom_components" / "wallbox_modbus"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))
