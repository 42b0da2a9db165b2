"""The keepalive check: no sign of a fallback while the run kept the box alive."""

from __future__ import annotations

from collections.abc import Mapping

from .check_model import Judged, Kind, Status
from .check_readings import fmt
from .check_record import Record


def check_keepalive(rec: Record) -> None:
    spec = rec.plan.regmap.behaviour.keepalive
    if spec is None:
        return
    ids = rec.plan.by_id()
    points = [ids[p] for p, kinds in rec.plan.kinds.items() if Kind.KEEPALIVE in kinds and p in ids]
    if not points:
        return
    timeout = rec.obs.keepalive_timeout
    samples = rec.samples
    if not samples:
        window = 0.0
    else:
        started = samples[0].at if rec.obs.started is None else rec.obs.started
        window = samples[-1].at - started
    params = {"seconds": str(round(window)), "timeout": fmt(timeout) if timeout else "0"}
    if not samples:
        judged = Judged(status=Status.NOT_OBSERVED, code="not_read", params=params)
    elif not timeout:
        judged = Judged(status=Status.NOT_OBSERVED, code="timeout_off", params=params)
    elif window <= timeout:
        judged = Judged(status=Status.NOT_OBSERVED, code="timeout_long", params=params)
    else:
        judged = _fallback_sign(rec, params) or Judged(
            status=Status.CONFIRMED, code="keepalive_ok", params=params
        )
    rec.add(Kind.KEEPALIVE, points, judged)


def _fallback_sign(rec: Record, params: Mapping[str, str]) -> Judged | None:
    first, last = rec.samples[0], rec.samples[-1]
    connects = first.connects if rec.obs.start_connects is None else rec.obs.start_connects
    fallbacks = first.fallbacks if rec.obs.start_fallbacks is None else rec.obs.start_fallbacks
    if (count := last.connects - connects) > 0:
        return Judged(
            status=Status.CONTRADICTED,
            code="reconnected",
            params={**params, "count": str(count)},
        )
    if (count := last.fallbacks - fallbacks) > 0:
        reasons = last.fallback_reasons[-count:]
        return Judged(
            status=Status.CONTRADICTED,
            code="reapplied",
            params={**params, "count": str(count), "reason": "; ".join(reasons)},
        )
    if any(s.lapsed for s in rec.samples):
        return Judged(status=Status.CONTRADICTED, code="lapsed", params=params)
    connectors = rec.obs.connectors
    if any(rec.value(s, "status", c) == "faulted" for s in rec.samples for c in connectors):
        return Judged(status=Status.CONTRADICTED, code="faulted", params=params)
    return None
