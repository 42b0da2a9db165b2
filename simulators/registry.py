"""Which simulator plays which model of the config flow."""

from __future__ import annotations

from .amperfied import (
    AmperfiedBusinessSimulator,
    AmperfiedHomeSimulator,
    AmperfiedSolarSimulator,
)
from .base import WallboxSimulator
from .compleo import CompleoDuoSimulator, CompleoSoloSimulator
from .vestel import VestelSimulator

SIMULATORS: dict[str, type[WallboxSimulator]] = {
    "vestel_evc04": VestelSimulator,
    "amperfied_home": AmperfiedHomeSimulator,
    "amperfied_business": AmperfiedBusinessSimulator,
    "amperfied_solar": AmperfiedSolarSimulator,
    "compleo_solo": CompleoSoloSimulator,
    "compleo_duo": CompleoDuoSimulator,
}
