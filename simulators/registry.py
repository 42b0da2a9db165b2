"""Which simulator plays which model: one behaviour profile per map family.

The models come from the register maps (``MODELS``), so a new map gets a
simulator entry by itself; a family without a profile of its own (a user's map)
is played by the map-driven simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from custom_components.wallbox_modbus.charger import MODELS, ModelInfo

from .amperfied import AmperfiedSimulator
from .base import WallboxSimulator
from .compleo import CompleoSimulator
from .mapsim import MapSimulator
from .vestel import VestelSimulator

PROFILES: dict[str, type[WallboxSimulator]] = {
    "vestel": VestelSimulator,
    "amperfied": AmperfiedSimulator,
    "compleo": CompleoSimulator,
}


def simulator_for(model: ModelInfo) -> Callable[..., WallboxSimulator]:
    """A factory of simulators of one model (keyword arguments as WallboxSimulator's)."""
    profile = PROFILES.get(model.family, MapSimulator)
    return partial(profile, model=model)


SIMULATORS: dict[str, Callable[..., WallboxSimulator]] = {
    model_id: simulator_for(model) for model_id, model in MODELS.items()
}
