"""Checks of counters: energy against the integral of power, durations against the time charged."""

from __future__ import annotations

from .check_model import Alt, Judged, Kind, Sample, Status
from .check_readings import fmt, majority, with_hints
from .check_record import Record
from .registers import Point

ENERGY_SLACK = 0.15  # share of the integral of power
ENERGY_STEPS = 3  # the integral must span this many counter steps to be judged
DURATION_SLACK = (1.5, 0.1)  # s, and a share of the time charged


def check_energy(rec: Record, point: Point, power: Point | None) -> None:
    if power is not None and rec.contradicted(power):
        rec.add(
            Kind.ENERGY, [point], Judged(status=Status.NOT_OBSERVED, code="inputs_contradicted")
        )
        return
    rec.add(Kind.ENERGY, [point], with_hints(point, lambda alt: _judge_kwh(rec, point, power, alt)))


def _restart(rec: Record, point: Point, before: Sample, after: Sample, value: float) -> bool:
    """Whether a counter going down is a restart the map allows (not a contradiction)."""
    if point.key in rec.plan.regmap.behaviour.reboot_counters:
        return True
    if "session" not in point.key:
        return False
    arrived = (
        rec.value(before, "vehicle_connected", point.connector) is False
        and rec.value(after, "vehicle_connected", point.connector) is True
    )
    return arrived or abs(value) <= point.scale * 1.01


def _judge_kwh(rec: Record, point: Point, power: Point | None, alt: Alt) -> Judged:
    step = point.scale / (1000 if point.unit == "Wh" else 1)
    energy = rec.series(point, alt)
    watts = rec.series(power) if power is not None else [None] * len(energy)
    rise = integral = 0.0
    judged_pairs = 0
    for i in range(len(rec.samples) - 1):
        e0, e1 = energy[i], energy[i + 1]
        if e0 is None or e1 is None:
            continue
        if e1 < e0 - step / 2:
            if _restart(rec, point, rec.samples[i], rec.samples[i + 1], e1):
                continue
            return Judged(
                status=Status.CONTRADICTED,
                code="decreased",
                params={"seen": fmt(e0, "kWh"), "expected": fmt(e1, "kWh")},
            )
        if power is None:
            rise += e1 - e0
            judged_pairs += 1
            continue
        p0, p1 = watts[i], watts[i + 1]
        if p0 is None or p1 is None:
            continue
        seconds = rec.samples[i + 1].at - rec.samples[i].at
        rise += e1 - e0
        integral += (p0 + p1) / 2 * seconds / 3_600_000
        judged_pairs += 1
    if judged_pairs == 0:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    params = {
        "seen": fmt(rise, "kWh"),
        "expected": fmt(integral, "kWh"),
        "step": fmt(step, "kWh"),
    }
    if power is None:
        if rise > step / 2:
            return Judged(status=Status.CONFIRMED, code="energy_rose", params=params)
        return Judged(status=Status.NOT_OBSERVED, code="not_charging", params=params)
    if integral < step / 10:
        if rise > step * 1.5:
            return Judged(status=Status.CONTRADICTED, code="energy_without_power", params=params)
        return Judged(status=Status.NOT_OBSERVED, code="no_power", params=params)
    if integral < ENERGY_STEPS * step:
        return Judged(status=Status.NOT_OBSERVED, code="too_little_energy", params=params)
    good = abs(rise - integral) <= ENERGY_SLACK * integral + step * 1.01
    return Judged(
        status=Status.CONFIRMED if good else Status.CONTRADICTED,
        code="energy_ok" if good else "energy_mismatch",
        params=params,
    )


def judge_duration(rec: Record, point: Point, alt: Alt) -> Judged:
    values = rec.series(point, alt)
    ok = bad = 0
    rose = charged = 0.0
    step = max(point.scale, 1.0)
    for i in range(len(rec.samples) - 1):
        before, after = rec.samples[i], rec.samples[i + 1]
        v0, v1 = values[i], values[i + 1]
        if v0 is None or v1 is None:
            continue
        if not (
            rec.value(before, "charging", point.connector) is True
            and rec.value(after, "charging", point.connector) is True
        ):
            continue
        seconds = after.at - before.at
        if v1 < v0 and "session" in point.key and abs(v1) <= seconds + step:
            continue  # a new session started
        rose += v1 - v0
        charged += seconds
        slack = DURATION_SLACK[0] * step + DURATION_SLACK[1] * seconds
        ok, bad = (ok + 1, bad) if abs((v1 - v0) - seconds) <= slack else (ok, bad + 1)
    status = majority(ok, bad)
    params = {"seen": fmt(rose, "s"), "expected": fmt(charged, "s")}
    if status is None:
        return Judged(status=Status.NOT_OBSERVED, code="not_charging")
    return Judged(
        status=status,
        code="duration_ok" if status is Status.CONFIRMED else "duration_mismatch",
        params=params,
    )
