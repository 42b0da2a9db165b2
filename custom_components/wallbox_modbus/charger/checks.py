"""Checks of a verification run: what a box showed, against what its map says.

A run samples the box (every value, and the registers behind it, at each
refresh).  The checks here judge those samples with the map's own data: units,
scales, documented values, bit fields, write ranges, the derive rules (the
clock), the identity section (layout, connectors, text) and the limit section.
Nothing here names a family or a register number, so a user's map gets the same
checks.  The electrical checks pair points by the catalog's words
(``voltage_l1``, ``current_l1``, ``power_l1``, ``power``, ``energy_…``) and a
shared prefix (``mid_``, ``station_``), on the same connector.

Every finding is ``confirmed``, ``contradicted`` (with the values seen) or
``not observed`` (nothing during the window could tell, e.g. nothing charged),
and says what it needs to be observed.  A contradicted value is tried again
with its two words swapped and scaled by 10, 100 or 1000: when one of those
fits, the finding says so ("looks 10x too large").

This module runs every check of a plan in order (``Judge``) and is where the
rest of the package imports the checks' names from.  One job a module:

- ``check_model``: the data (kinds of check, findings, samples, the plan, the observation)
- ``check_messages``: the findings' texts by code, and which codes contradict
- ``check_readings``: a point's value from its registers, other readings, plausible ranges
- ``check_plan``: which checks apply to which point of a box
- ``check_record``: the run's samples as the checks read them, and the findings so far
- ``check_identity``: texts, layout version, connectors
- ``check_values``: documented values and bits, settings, ranges
- ``check_clock``: the box's clock (the map's derive rules)
- ``check_electrical``: voltage, current, power
- ``check_counters``: energy and duration counters
- ``check_keepalive``: no fallback while the run kept the box alive

The order of the checks matters beyond the report: a check that compares a
point with others (power with voltage and current, energy with power) leaves it
unjudged when one of those is contradicted by a check before it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .check_clock import check_clock
from .check_counters import check_energy, judge_duration
from .check_electrical import check_current, check_lone_voltage, check_power, check_voltage
from .check_identity import judge_connectors, judge_layout, judge_text
from .check_keepalive import check_keepalive
from .check_messages import CONTRADICTION_CODES, VERIFY_MESSAGES, message
from .check_model import (
    NEEDS,
    REQUIRED,
    SAME,
    Alt,
    Finding,
    Group,
    Judged,
    Kind,
    Needs,
    Observation,
    Plan,
    Sample,
    Status,
    needs_of,
    point_status,
)
from .check_plan import make_plan
from .check_readings import (
    FACTORS,
    FLOAT_TYPES,
    INTEGER_TYPES,
    NUMERIC_TYPES,
    TEXT_TYPES,
    UNIT_RANGES,
    VOLTAGE_RANGE,
    alternatives,
    fmt,
    majority,
    numeric,
    raw_int,
    span,
    with_hints,
)
from .check_record import Record
from .check_values import judge_bits, judge_enum, judge_range, judge_setting
from .registers import Point

# The checks of a point alone, in the order they run.
SINGLE: Mapping[Kind, Callable[[Record, Point], Judged]] = {
    Kind.IDENTITY_TEXT: judge_text,
    Kind.TEXT: judge_text,
    Kind.LAYOUT: judge_layout,
    Kind.CONNECTORS: judge_connectors,
    Kind.ENUM: judge_enum,
    Kind.BITS: judge_bits,
    Kind.SETTING: lambda rec, p: with_hints(p, lambda a: judge_setting(rec, p, a)),
    Kind.RANGE: lambda rec, p: with_hints(p, lambda a: judge_range(rec, p, a)),
    Kind.DURATION: lambda rec, p: with_hints(p, lambda a: judge_duration(rec, p, a)),
}


class Judge:
    """Every check of a plan over a run's samples."""

    def __init__(self, observation: Observation) -> None:
        self.record = Record(observation)

    def run(self) -> list[Finding]:
        rec = self.record
        plan = rec.plan
        ids = plan.by_id()
        for point in plan.dropped:
            rec.add(
                Kind.SERVED,
                [point],
                Judged(
                    status=Status.CONTRADICTED,
                    code="not_served",
                    params={"table": str(point.table), "address": str(point.address)},
                ),
            )
        for kind, judge in SINGLE.items():
            for point_id, kinds in plan.kinds.items():
                if kind in kinds:
                    point = ids[point_id]
                    rec.add(kind, [point], judge(rec, point))
        for date, time in plan.clocks:
            check_clock(rec, date, time)
        for group in plan.groups:
            for phase, point in group.voltages.items():
                check_voltage(rec, point, group, phase)
        for point_id, kinds in plan.kinds.items():
            point = ids[point_id]
            if Kind.VOLTAGE in kinds and not any(point in g.voltages.values() for g in plan.groups):
                check_lone_voltage(rec, point)
        for group in plan.groups:
            for point in group.currents.values():
                check_current(rec, point, group)
        for group in plan.groups:
            for phase, point in group.powers.items():
                check_power(rec, point, group, [phase])
            if group.power is not None:
                check_power(rec, group.power, group, sorted(group.currents))
        for point_id, power in plan.energy.items():
            check_energy(rec, ids[point_id], power)
        check_keepalive(rec)
        return rec.findings


__all__ = [
    "CONTRADICTION_CODES",
    "FACTORS",
    "FLOAT_TYPES",
    "INTEGER_TYPES",
    "NEEDS",
    "NUMERIC_TYPES",
    "REQUIRED",
    "SAME",
    "TEXT_TYPES",
    "UNIT_RANGES",
    "VERIFY_MESSAGES",
    "VOLTAGE_RANGE",
    "Alt",
    "Finding",
    "Group",
    "Judge",
    "Judged",
    "Kind",
    "Needs",
    "Observation",
    "Plan",
    "Record",
    "Sample",
    "Status",
    "alternatives",
    "fmt",
    "majority",
    "make_plan",
    "message",
    "needs_of",
    "numeric",
    "point_status",
    "raw_int",
    "span",
    "with_hints",
]
