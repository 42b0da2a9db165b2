"""Root conftest: make ``simulators`` importable, and through it the device layer
as the top-level package ``charger``, for every test suite."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import simulators  # noqa: E402,F401  (loads the device layer as ``charger``)
