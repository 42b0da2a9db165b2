"""Electrical checks: voltages in range and on the right phases, currents within the limit,
power against the sum of voltage x current.

The points are paired by the plan's groups (the catalog's words and a shared
prefix, on the same connector).
"""

from __future__ import annotations

from collections.abc import Mapping

from .check_model import SAME, Alt, Group, Judged, Kind, Sample, Status
from .check_readings import VOLTAGE_RANGE, fmt, majority, span, with_hints
from .check_record import Record
from .registers import Point

ZERO_VOLTS = 0.5
FLOWING_AMPS = 0.5  # a current below this is "nothing flows"
PHASE_IN_USE = 1.0  # a phase carrying this much must have a voltage
LIMIT_SLACK = (1.0, 0.1)  # a current may exceed its limit by 1 A or 10 %
POWER_SLACK = (30.0, 0.1)  # power vs sum U*I: 30 W plus 10 % (power factor, sampling)
NOTHING_FLOWS = 50.0  # W


def _phase_voltages(rec: Record, group: Group, phase: int) -> list[Point]:
    """The voltage of a phase: the group's own, else the connector's, else every connector's."""
    if phase in group.voltages:
        return [group.voltages[phase]]
    plain = [g for g in rec.plan.groups if g.prefix == "" and phase in g.voltages]
    same = [g.voltages[phase] for g in plain if g.connector == group.connector]
    if same:
        return same
    if group.connector is None:
        return [g.voltages[phase] for g in plain]
    return []


def check_lone_voltage(rec: Record, point: Point) -> None:
    """A voltage without currents beside it: only its range is judged."""
    rec.add(
        Kind.VOLTAGE,
        [point],
        with_hints(point, lambda alt: _judge_volts(rec, point, alt, None, {})),
    )


def check_voltage(rec: Record, point: Point, group: Group, phase: int) -> None:
    current = group.currents.get(phase)
    others = {n: v for n, v in group.voltages.items() if n != phase}
    rec.add(
        Kind.VOLTAGE,
        [point],
        with_hints(point, lambda alt: _judge_volts(rec, point, alt, current, others, group)),
    )


def _judge_volts(
    rec: Record,
    point: Point,
    alt: Alt,
    current: Point | None,
    others: Mapping[int, Point],
    group: Group | None = None,
) -> Judged:
    low, high = VOLTAGE_RANGE
    volts = rec.series(point, alt)
    amps = rec.series(current) if current is not None else [None] * len(volts)
    ok = bad = 0
    dead: list[int] = []  # samples where the phase carries current at 0 V
    seen: list[float] = []
    for i, value in enumerate(volts):
        if value is None:
            continue
        seen.append(value)
        if abs(value) < ZERO_VOLTS:
            flowing = amps[i]
            if flowing is not None and flowing >= PHASE_IN_USE:
                bad += 1
                dead.append(i)
            continue
        if low <= value <= high:
            ok += 1
        else:
            bad += 1
    params = {
        "seen": span(seen, "V") if seen else "?",
        "expected": f"{fmt(low)}–{fmt(high)} V, or 0 V on an unused phase",
    }
    status = majority(ok, bad)
    if status is None:
        return Judged(
            status=Status.NOT_OBSERVED, code="not_read" if not seen else "zero", params=params
        )
    if status is Status.CONFIRMED:
        return Judged(status=status, code="in_range", params=params)
    if dead and len(dead) * 2 >= bad and current is not None and group is not None:
        phase = next(n for n, p in group.voltages.items() if p is point)
        flowing = max(a for i in dead if (a := amps[i]) is not None)
        params = {**params, "phase": f"L{phase}", "current": fmt(flowing, "A")}
        for other_phase, other in sorted(others.items()):
            other_volts = rec.series(other)
            other_amps = (
                rec.series(group.currents[other_phase])
                if other_phase in group.currents
                else [None] * len(volts)
            )
            live = [
                v
                for i in dead
                if (v := other_volts[i]) is not None
                and low <= v <= high
                and (other_amps[i] or 0.0) < FLOWING_AMPS
            ]
            if len(live) * 2 > len(dead):
                return Judged(
                    status=status,
                    code="wrong_phase",
                    params={
                        **params,
                        "other": f"L{other_phase}",
                        "voltage": fmt(max(live), "V"),
                    },
                )
        return Judged(status=status, code="no_voltage", params=params)
    return Judged(status=status, code="out_of_range", params=params)


def _limit_amps(rec: Record, sample: Sample, connector: int | None) -> float | None:
    limits = rec.obs.limits
    if connector in limits:
        return limits[connector].observed(sample.values)
    if connector is None and limits:
        total = 0.0
        for limit in limits.values():
            amps = limit.observed(sample.values)
            if amps is None:
                return None
            total += amps
        return total
    return None


def check_current(rec: Record, point: Point, group: Group) -> None:
    if not rec.obs.limits:
        rec.add(Kind.CURRENT, [point], Judged(status=Status.NOT_OBSERVED, code="no_limit"))
        return
    rec.add(
        Kind.CURRENT, [point], with_hints(point, lambda alt: _judge_amps(rec, point, group, alt))
    )


def _judge_amps(rec: Record, point: Point, group: Group, alt: Alt) -> Judged:
    ok = bad = 0
    worst: tuple[float, float] | None = None
    best: tuple[float, float] | None = None
    for sample, amps in zip(rec.samples, rec.series(point, alt), strict=True):
        if amps is None or amps < FLOWING_AMPS:
            continue
        limit = _limit_amps(rec, sample, group.connector)
        if limit is None:
            continue
        slack = max(LIMIT_SLACK[0], LIMIT_SLACK[1] * limit)
        # Another reading of the registers fits only near the limit, not merely below it.
        floor = limit / 2 if alt is not SAME else 0.0
        if floor <= amps <= limit + slack:
            ok += 1
            best = (amps, limit) if best is None or amps > best[0] else best
        else:
            bad += 1
            worst = (amps, limit) if worst is None or amps > worst[0] else worst
    status = majority(ok, bad)
    if status is None:
        return Judged(status=Status.NOT_OBSERVED, code="no_current")
    amps, limit = worst if status is Status.CONTRADICTED and worst else best or (0.0, 0.0)
    params = {"seen": fmt(amps, "A"), "expected": fmt(limit, "A")}
    return Judged(
        status=status,
        code="current_ok" if status is Status.CONFIRMED else "above_limit",
        params=params,
    )


def check_power(rec: Record, point: Point, group: Group, phases: list[int]) -> None:
    parts = [(group.currents[n], _phase_voltages(rec, group, n)) for n in phases]
    inputs = [p for current, volts in parts for p in (current, *volts)]
    if any(not volts for _, volts in parts):
        rec.add(Kind.POWER, [point], Judged(status=Status.NOT_OBSERVED, code="no_check"))
        return
    if any(rec.contradicted(p) for p in inputs):
        rec.add(Kind.POWER, [point], Judged(status=Status.NOT_OBSERVED, code="inputs_contradicted"))
        return
    rec.add(
        Kind.POWER, [point], with_hints(point, lambda alt: _judge_watts(rec, point, parts, alt))
    )


def _judge_watts(
    rec: Record, point: Point, parts: list[tuple[Point, list[Point]]], alt: Alt
) -> Judged:
    watts = rec.series(point, alt)
    series = [(rec.series(current), [rec.series(v) for v in volts]) for current, volts in parts]
    ok = bad = 0
    shown: tuple[float, float] | None = None
    for i, power in enumerate(watts):
        if power is None:
            continue
        total = 0.0
        slack = POWER_SLACK[0] + point.scale
        known = True
        for (current, _), (amps, volts) in zip(parts, series, strict=True):
            a = amps[i]
            vs = [u for v in volts if (u := v[i]) is not None]
            if a is None or not vs:
                known = False
                break
            u = sum(vs) / len(vs)
            total += u * a
            slack += u * current.scale
        if not known or (power < NOTHING_FLOWS and total < NOTHING_FLOWS):
            continue
        slack += POWER_SLACK[1] * max(power, total)
        good = abs(power - total) <= slack
        ok, bad = (ok + 1, bad) if good else (ok, bad + 1)
        if shown is None or not good:
            shown = (power, total)
    status = majority(ok, bad)
    if status is None or shown is None:
        return Judged(status=Status.NOT_OBSERVED, code="no_power")
    params = {"seen": fmt(shown[0], "W"), "expected": fmt(shown[1], "W")}
    return Judged(
        status=status,
        code="power_ok" if status is Status.CONFIRMED else "power_mismatch",
        params=params,
    )
