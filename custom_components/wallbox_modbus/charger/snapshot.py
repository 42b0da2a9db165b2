"""What one refresh knows: the box's identity, every value, and the user's wishes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


def pid(key: str, connector: int | None) -> str:
    """Point id of a key on a connector (None: the charger itself)."""
    return key if connector is None else f"{key}@{connector}"


@dataclass(frozen=True, kw_only=True)
class Identity:
    """What the box says about itself."""

    serial: str | None
    manufacturer: str
    model: str
    firmware: str | None
    layout_version: str | None
    connectors: int
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Desired:
    """What the user asked of one connector: the limit (A), paused or not, the phases.

    None means "not known yet": it is then taken from the box when first seen.
    """

    limit: float | None = None
    paused: bool | None = None
    phases: int | None = None

    @property
    def known(self) -> bool:
        return self.paused is not None

    def with_(self, **changes: Any) -> Desired:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {"limit": self.limit, "paused": self.paused, "phases": self.phases}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Desired:
        limit = data.get("limit")
        paused = data.get("paused")
        phases = data.get("phases")
        return cls(
            limit=float(limit) if isinstance(limit, (int, float)) and limit > 0 else None,
            paused=paused if isinstance(paused, bool) else None,
            phases=phases if isinstance(phases, int) and not isinstance(phases, bool) else None,
        )


@dataclass(frozen=True, kw_only=True)
class ChargerEvent:
    """Something the box announced in one refresh (a card presented), with its values."""

    key: str
    connector: int | None
    data: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class VerificationStatus:
    """Where the check of the box against its register map stands.

    ``state``: ``not_run``, ``running``, then the verdict (``confirmed``,
    ``contradicted``, ``incomplete``) or ``failed`` (the run itself broke off).
    """

    state: str = "not_run"
    progress: float = 0.0  # percent of the run done
    confirmed: int = 0
    contradicted: int = 0
    not_observed: int = 0


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Every decoded point after a refresh, the derived values, and the desired state."""

    values: Mapping[str, Any]
    failed: frozenset[str] = frozenset()
    codes: Mapping[str, int] = field(default_factory=dict)  # raw numbers of mapped points
    time: float = 0.0
    desired: Mapping[int | None, Desired] = field(default_factory=dict)
    pending: frozenset[int | None] = frozenset()  # connectors with a limit write held back
    events: tuple[ChargerEvent, ...] = ()  # announced by the refresh that made this snapshot
    verification: VerificationStatus = field(default_factory=VerificationStatus)

    def get(self, key: str, connector: int | None = None) -> Any:
        return self.values.get(pid(key, connector))

    def ok(self, key: str, connector: int | None = None) -> bool:
        """Whether the point was read (or derived) in its last refresh."""
        point_id = pid(key, connector)
        return point_id in self.values and point_id not in self.failed

    def wish(self, connector: int | None) -> Desired:
        return self.desired.get(connector, Desired())
