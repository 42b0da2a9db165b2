"""Which simulator plays which model: one behaviour profile per map family.

The models come from the register maps (``MODELS``), so a new map gets a
simulator by itself.  A family's profile is the ``WallboxSimulator`` subclass in
the module of the family's name (``simulators/vestel.py``); a family without
one (a user's map) is played by the map-driven simulator.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from importlib import import_module

from custom_components.wallbox_modbus.charger import MODELS, ModelInfo

from .base import WallboxSimulator
from .mapsim import MapSimulator


@cache
def profile(family: str) -> type[WallboxSimulator]:
    """The simulator class of a family (the map-driven one when it has none)."""
    try:
        module = import_module(f"{__package__}.{family}")
    except ModuleNotFoundError:
        return MapSimulator
    return next(
        (
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, WallboxSimulator)
            and value.__module__ == module.__name__
        ),
        MapSimulator,
    )


def simulator_for(model: ModelInfo) -> Callable[..., WallboxSimulator]:
    """A factory of simulators of one model (keyword arguments as WallboxSimulator's)."""
    return partial(profile(model.family), model=model)


SIMULATORS: dict[str, Callable[..., WallboxSimulator]] = {
    model_id: simulator_for(model) for model_id, model in MODELS.items()
}
