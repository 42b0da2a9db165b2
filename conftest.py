"""Root conftest: the checkout's root on sys.path, so that every suite imports
``custom_components.wallbox_modbus`` (and its device layer ``charger``) and
``simulators`` as packages."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
