"""The check of a box's clock (the map's derive rules): it shows the host's time and runs."""

from __future__ import annotations

import datetime as dt
import statistics

from .check_model import SAME, Alt, Judged, Kind, Sample, Status
from .check_readings import fmt, raw_int
from .check_record import Record
from .reader import box_clock
from .registers import Point

CLOCK_SLACK = 300.0  # s between the box's clock and the host's
CLOCK_RATE_SLACK = (5.0, 0.05)  # s, and a share of the window
CLOCK_MIN_SPAN = 30.0  # s of window before the clock's rate is judged


def check_clock(rec: Record, date: Point, time: Point) -> None:
    plain = _judge_clock(rec, date, time, SAME, SAME)
    if plain.status is Status.CONTRADICTED and plain.code == "clock_invalid":
        for alt_date, alt_time in ((True, False), (False, True), (True, True)):
            other = _judge_clock(
                rec,
                date,
                time,
                Alt(code="swapped", swap=True) if alt_date else SAME,
                Alt(code="swapped", swap=True) if alt_time else SAME,
            )
            if other.status is Status.CONFIRMED or other.code == "clock_offset":
                swapped = [p for p, s in ((date, alt_date), (time, alt_time)) if s]
                rec.add(
                    Kind.CLOCK,
                    [date, time],
                    Judged(
                        status=Status.CONTRADICTED,
                        code="swapped",
                        params={
                            **plain.params,
                            "expected": other.params.get("seen", "?"),
                            "swapped": ", ".join(p.id for p in swapped),
                        },
                    ),
                )
                return
    rec.add(Kind.CLOCK, [date, time], plain)


def _judge_clock(rec: Record, date: Point, time: Point, alt_date: Alt, alt_time: Alt) -> Judged:
    readings: list[tuple[Sample, dt.datetime]] = []
    raw_seen = ""
    read = 0
    for sample in rec.samples:
        d = raw_int(date, rec.words(date, sample), alt_date)
        t = raw_int(time, rec.words(time, sample), alt_time)
        if d is None or t is None:
            continue
        read += 1
        raw_seen = raw_seen or f"{d}, {t}"
        when = box_clock(d, t)
        if when is not None:
            readings.append((sample, when))
    if read == 0:
        return Judged(status=Status.NOT_OBSERVED, code="not_read")
    if len(readings) * 2 <= read:
        return Judged(status=Status.CONTRADICTED, code="clock_invalid", params={"seen": raw_seen})
    offsets = [(when - _local(s.host)).total_seconds() for s, when in readings]
    offset = statistics.median(offsets)
    first_sample, first = readings[0]
    last_sample, last = readings[-1]
    params = {
        "seen": first.isoformat(sep=" "),
        "expected": _local(first_sample.host).isoformat(sep=" ", timespec="seconds"),
        "seconds": str(round(offset)),
    }
    if abs(offset) > CLOCK_SLACK:
        hours = round(offset / 3600)
        if hours and abs(offset - hours * 3600) <= CLOCK_SLACK:
            return Judged(
                status=Status.CONTRADICTED,
                code="clock_offset",
                params={**params, "hours": f"{hours:+d}"},
            )
        return Judged(status=Status.CONTRADICTED, code="clock_off", params=params)
    host_span = (last_sample.host - first_sample.host).total_seconds()
    box_span = (last - first).total_seconds()
    slack = CLOCK_RATE_SLACK[0] + CLOCK_RATE_SLACK[1] * host_span
    if host_span >= CLOCK_MIN_SPAN and abs(box_span - host_span) > slack:
        return Judged(
            status=Status.CONTRADICTED,
            code="clock_stopped",
            params={**params, "seen": fmt(box_span, "s"), "expected": fmt(host_span, "s")},
        )
    return Judged(status=Status.CONFIRMED, code="clock_ok", params=params)


def _local(when: dt.datetime) -> dt.datetime:
    """The host's wall-clock time, as a box shows its own (naive)."""
    return when.replace(tzinfo=None)
