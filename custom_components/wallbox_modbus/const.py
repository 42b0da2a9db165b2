"""Constants of the Wallbox Modbus integration."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Final

DOMAIN: Final = "wallbox_modbus"
LOGGER = logging.getLogger(__package__)

CONF_MODEL: Final = "model"
CONF_UNIT_ID: Final = "unit_id"

DEFAULT_PORT: Final = 502
DEFAULT_UNIT_ID: Final = 255
DEFAULT_SCAN_INTERVAL: Final = 10  # seconds
MIN_SCAN_INTERVAL: Final = 2
MAX_SCAN_INTERVAL: Final = 3600

# Settings and ratings (the slow tier) are read this often, and right after a write.
SLOW_INTERVAL: Final = timedelta(minutes=5)
# Seconds the box has to answer one request once the entry runs.
REQUEST_TIMEOUT: Final = 5.0
# Cooldown of refreshes requested by controls.
REQUEST_REFRESH_COOLDOWN: Final = 1.0
