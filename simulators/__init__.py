"""Behavioural wallbox simulators: real Modbus TCP servers on loopback.

They are driven by the same register maps as the integration (imported from
the checkout's ``custom_components/wallbox_modbus/charger``), and answer the
way the vendor documents say the boxes do.  Not shipped to users.
"""

from __future__ import annotations

import sys
from pathlib import Path

_INTEGRATION = Path(__file__).resolve().parent.parent / "custom_components" / "wallbox_modbus"
if str(_INTEGRATION) not in sys.path:
    # The device layer is imported as the top-level package ``charger`` so that
    # the simulators never import Home Assistant.
    sys.path.insert(0, str(_INTEGRATION))
