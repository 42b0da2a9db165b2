"""The models a user can choose, and which map and variant each one is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """One choice of the config flow."""

    id: str
    family: str
    variant: str
    map_name: str
    manufacturer: str
    name: str
    connectors: int = 1


MODELS: dict[str, ModelInfo] = {
    m.id: m
    for m in (
        ModelInfo(
            id="vestel_evc04",
            family="vestel",
            variant="evc04",
            map_name="vestel_evc04",
            manufacturer="Vestel",
            name="EVC04",
        ),
        ModelInfo(
            id="amperfied_home",
            family="amperfied",
            variant="home",
            map_name="amperfied_connect",
            manufacturer="Amperfied",
            name="connect.home",
        ),
        ModelInfo(
            id="amperfied_business",
            family="amperfied",
            variant="business",
            map_name="amperfied_connect",
            manufacturer="Amperfied",
            name="connect.business",
        ),
        ModelInfo(
            id="amperfied_solar",
            family="amperfied",
            variant="solar",
            map_name="amperfied_connect",
            manufacturer="Amperfied",
            name="connect.solar",
        ),
        ModelInfo(
            id="compleo_solo",
            family="compleo",
            variant="solo",
            map_name="compleo_duo_solo",
            manufacturer="Compleo",
            name="SOLO",
        ),
        ModelInfo(
            id="compleo_duo",
            family="compleo",
            variant="duo",
            map_name="compleo_duo_solo",
            manufacturer="Compleo",
            name="DUO",
            connectors=2,
        ),
    )
}
