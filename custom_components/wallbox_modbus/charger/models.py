"""The models a user can choose: every variant of every register map.

The maps are the one list of models.  A model's id is ``<family>_<variant>``
unless its variant names another; its title is the map's manufacturer and the
variant's name.  User maps (files the user adds) give models the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatch

from .registers import MAPS_DIR, RegisterMap, load_map


@dataclass(frozen=True, kw_only=True, eq=False)
class ModelInfo:
    """One choice of the config flow."""

    id: str
    variant: str
    regmap: RegisterMap
    user_map: bool = False

    @property
    def family(self) -> str:
        return self.regmap.family

    @property
    def map_name(self) -> str:
        return self.regmap.name

    @property
    def manufacturer(self) -> str:
        return self.regmap.manufacturer

    @property
    def name(self) -> str:
        return self.regmap.variants[self.variant].name

    @property
    def title(self) -> str:
        """'Amperfied connect.solar'."""
        return f"{self.manufacturer} {self.name}"

    @property
    def connectors(self) -> int:
        return self.regmap.variants[self.variant].connectors

    def announced_as(self, hostname: str) -> bool:
        """Whether a box of this model can have this DHCP host name (by its map)."""
        return any(fnmatch(hostname.lower(), pattern) for pattern in self.regmap.dhcp_hostnames)


def models_of(regmap: RegisterMap, *, user_map: bool = False) -> list[ModelInfo]:
    """The models a map describes, one per variant."""
    return [
        ModelInfo(id=v.model_id, variant=v.id, regmap=regmap, user_map=user_map)
        for v in regmap.variants.values()
    ]


def _shipped() -> Iterable[ModelInfo]:
    for path in sorted(MAPS_DIR.glob("*.json")):
        yield from models_of(load_map(path.stem))


# Every shipped map is read and validated when the package is imported (Home
# Assistant imports integrations in an executor), so no file is read inside the
# event loop later, and a malformed shipped map fails loudly at once.
MODELS: dict[str, ModelInfo] = {model.id: model for model in _shipped()}
