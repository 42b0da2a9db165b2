"""What a verification run recorded, as the checks read it, and the findings so far.

Every check reads the samples through here (a point's words, its series of
values, another sample's value) and adds its finding here; a later check asks
whether a point it compares with is contradicted already.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .check_model import SAME, Alt, Finding, Judged, Kind, Observation, Sample, Status
from .check_readings import numeric, raw_int
from .registers import Point
from .snapshot import pid


class Record:
    """A run's samples and the findings made of them so far."""

    def __init__(self, observation: Observation) -> None:
        self.obs = observation
        self.plan = observation.plan
        self.samples = observation.samples
        self.findings: list[Finding] = []
        behaviour = self.plan.regmap.behaviour
        self.limit_max = behaviour.limit.max if behaviour.limit is not None else 80.0
        self.connector_count = len([c for c in observation.connectors if c is not None]) or 1

    def words(self, point: Point, sample: Sample) -> tuple[int, ...] | None:
        if point.id in sample.failed:
            return None
        return sample.raw.get(point.id)

    def latest_words(self, point: Point) -> tuple[int, ...] | None:
        for sample in reversed(self.samples):
            words = self.words(point, sample)
            if words is not None:
                return words
        return None

    def series(self, point: Point, alt: Alt = SAME) -> list[float | None]:
        return [numeric(point, self.words(point, s), alt) for s in self.samples]

    def raws(self, point: Point) -> list[int]:
        raws = [raw_int(point, self.words(point, s)) for s in self.samples]
        return [r for r in raws if r is not None]

    def value(self, sample: Sample, key: str, connector: int | None) -> Any:
        values = sample.values
        return values.get(pid(key, connector), values.get(key))

    def add(self, kind: Kind, points: Iterable[Point], judged: Judged) -> None:
        self.findings.append(
            Finding(
                kind=kind,
                status=judged.status,
                code=judged.code,
                points=tuple(p.id for p in points),
                params=dict(judged.params),
            )
        )

    def contradicted(self, point: Point) -> bool:
        return any(f.status is Status.CONTRADICTED and point.id in f.points for f in self.findings)
