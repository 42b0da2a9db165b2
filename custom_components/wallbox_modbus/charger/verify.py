"""Verifying a real box against its register map, without touching the charging.

A ``Verification`` watches a box for a bounded time (default two minutes)
through the charger's own refreshes, keeps every value and the registers
behind it, and then judges each map point (``checks.py``): ``confirmed``,
``contradicted`` with the values seen, or ``not observed``.  Whoever drives it
passes the host's clock and a sleep, so a test runs it on fake time; Home
Assistant passes its own refresh, so its entities see the same readings.

Only when asked (``write_test=True``) and only with no vehicle plugged in,
the run writes the current limit, reads it back and puts back what was there
(the pause included), with the reconciler on hold so that the test is neither
adopted as the user's wish nor fought.  Without it the run writes nothing; the
box's keepalive goes on as always.

The report is plain JSON and redacted by the map: private points (serial
numbers, cards, tags) never show a value, and nothing names the host.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .capabilities import CurrentLimit
from .charger import Charger
from .checks import (
    NUMERIC_TYPES,
    Finding,
    Judge,
    Judged,
    Kind,
    Needs,
    Observation,
    Plan,
    Sample,
    Status,
    fmt,
    make_plan,
    message,
    numeric,
    point_status,
    raw_int,
)
from .codec import decode
from .errors import ChargerError, InvalidValueError
from .evidence import REPORT_KIND, map_digest
from .registers import Point, Tier
from .snapshot import Snapshot, VerificationStatus, pid

_LOGGER = logging.getLogger(__name__)

DEFAULT_DURATION = 120.0  # seconds the box is watched
DEFAULT_INTERVAL = 10.0  # seconds between two samples
REPORT_FORMAT = 1

Sleep = Callable[[float], Awaitable[None]]
Refresh = Callable[[bool], Awaitable[Any]]


@dataclass(frozen=True, kw_only=True)
class Report:
    """What a run found: the JSON report and its findings."""

    data: Mapping[str, Any]
    findings: tuple[Finding, ...]
    verdict: str  # confirmed, contradicted or incomplete

    @property
    def contradictions(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.CONTRADICTED]


@dataclass(kw_only=True)
class _WriteResult:
    connector: int | None
    before: int
    written: int | None = None
    seen: int | None = None
    restored: int | None = None
    error: str | None = None


class Verification:
    """One run against one charger."""

    def __init__(
        self,
        charger: Charger,
        *,
        wall_clock: Callable[[], dt.datetime],
        sleep: Sleep,
        refresh: Refresh | None = None,
        drive_timers: bool = True,
        duration: float = DEFAULT_DURATION,
        interval: float = DEFAULT_INTERVAL,
        write_test: bool = False,
        about: Mapping[str, str] | None = None,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        """Prepare a run.

        ``wall_clock`` is the host's local time; ``sleep`` waits on the charger's
        clock.  ``refresh(slow)`` refreshes the charger (default: the charger's
        own refresh); with ``drive_timers`` the run also serves the charger's
        timed work (keepalive) itself, as Home Assistant's coordinator does.
        """
        if duration <= 0 or interval <= 0:
            raise ValueError("duration and interval must be positive")
        self.charger = charger
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._refresh = refresh or self._charger_refresh
        self._drive_timers = drive_timers
        self.duration = float(duration)
        self.interval = min(float(interval), self.duration)
        self.write_test = write_test
        self.about = dict(about or {})
        self._on_progress = on_progress
        self.samples: list[Sample] = []
        self.missed = 0
        self._start = 0.0
        self._last = 0.0
        self._start_counts = (0, 0)
        self._writes: list[_WriteResult] = []
        self._write_skip: str | None = None

    # ------------------------------------------------------------------ running

    async def _charger_refresh(self, slow: bool) -> Snapshot:
        return await self.charger.refresh(slow=slow)

    @property
    def _total(self) -> float:
        """Seconds the whole run is expected to take (the write test waits out holds)."""
        if not self.write_test:
            return self.duration
        holds = sum(2 * limit.spec.hold + 2 for limit in self.charger.limits.values())
        return self.duration + holds

    def _progress(self, state: str = "running", done: float | None = None) -> None:
        if done is None:
            done = min(99.0, 100 * (self.charger.clock() - self._start) / self._total)
        self.charger.verification = VerificationStatus(state=state, progress=round(done, 1))
        if self._on_progress is not None:
            self._on_progress()

    async def run(self) -> Report:
        """Watch the box, test the write if asked, and judge every point."""
        charger = self.charger
        if charger.identity is None:
            await charger.identify()
        self._start = self._last = charger.clock()
        self._start_counts = (charger.transport.stats.connects, charger.reconciler.fallbacks)
        self._progress(done=0.0)
        try:
            await self._take(slow=True)
            end = self._start + self.duration
            while charger.clock() < end - 1e-6:
                await self._wait_until(min(end, self._last + self.interval))
                await self._take(slow=charger.clock() >= end - 1e-6)
            await self._run_write_test()
        except BaseException:
            self._progress("failed", done=0.0)
            raise
        report = self._report()
        summary = report.data["summary"]
        charger.verification = VerificationStatus(
            state=report.verdict,
            progress=100.0,
            confirmed=summary["confirmed"],
            contradicted=summary["contradicted"],
            not_observed=summary["not observed"],
        )
        if self._on_progress is not None:
            self._on_progress()
        return report

    async def _take(self, *, slow: bool) -> None:
        """One refresh, kept as a sample (a refresh that fails is counted, not kept)."""
        charger = self.charger
        self._last = charger.clock()
        try:
            result = await self._refresh(slow)
        except ChargerError as err:
            self.missed += 1
            _LOGGER.debug("%s: a refresh of the check failed: %s", charger.model.title, err)
            self._progress()
            return
        failed = result.failed if isinstance(result, Snapshot) else frozenset()
        keepalive = charger.keepalive
        reconciler = charger.reconciler
        self.samples.append(
            Sample(
                at=charger.clock(),
                host=self._wall_clock(),
                values=dict(charger.reader.values),
                raw=dict(charger.reader.raw_words),
                failed=frozenset(failed),
                connects=charger.transport.stats.connects,
                fallbacks=reconciler.fallbacks,
                fallback_reasons=tuple(reconciler.fallback_reasons),
                lapsed=keepalive.lapsed() if keepalive is not None else False,
            )
        )
        self._progress()

    async def _wait_until(self, until: float) -> None:
        """Sleep until then, serving the charger's timed work meanwhile (when driving it)."""
        charger = self.charger
        idle = 0
        while (now := charger.clock()) < until - 1e-6:
            wake = until
            due = charger.next_due() if self._drive_timers else None
            if due is not None and due.at < until:
                wake = max(now, due.at)
            if wake - now <= 1e-6:
                idle += 1
                if idle > 5:  # due again at once: do not spin
                    wake = min(until, now + 0.5)
            else:
                idle = 0
            await self._sleep(max(0.0, wake - now))
            if due is not None and due.at <= charger.clock() + 1e-6:
                try:
                    ran = await charger.run_due()
                except ChargerError as err:
                    _LOGGER.debug("%s: timed work failed: %s", charger.model.title, err)
                    continue
                if ran.poll:
                    await self._take(slow=False)

    # ------------------------------------------------------------------ the write test

    async def _run_write_test(self) -> None:
        if not self.write_test:
            self._write_skip = "write_test_not_requested"
            return
        charger = self.charger
        values = charger.reader.values
        for connector in charger.limits:
            plugged = values.get(pid("vehicle_connected", connector))
            charging = values.get(pid("charging", connector))
            if plugged is not False or charging is True:
                self._write_skip = "write_test_vehicle"
                return
        with charger.reconciler.hold():
            for connector, limit in charger.limits.items():
                self._writes.append(await self._write_one(connector, limit))
                self._progress()

    async def _write_one(self, connector: int | None, limit: CurrentLimit) -> _WriteResult:
        reader = self.charger.reader
        point = limit.point
        try:
            await reader.read_points([point])
            before = reader.raw_words[point.id][0]
        except (ChargerError, KeyError) as err:
            return _WriteResult(connector=connector, before=-1, error=type(err).__name__)
        result = _WriteResult(connector=connector, before=before)
        test = self._test_raw(limit, before)
        if test is None:
            result.error = "no other valid limit"
            return result
        changed = False
        try:
            await self._wait_until(self.charger.clock() + limit.hold_left())
            changed = True  # from here on the box may hold the test value
            await limit.write(test)
            result.written = test
            await reader.read_points([point])
            result.seen = reader.raw_words[point.id][0]
        except ChargerError as err:
            result.error = type(err).__name__
        finally:
            if changed:
                await self._restore(limit, result)
        return result

    def _test_raw(self, limit: CurrentLimit, before: int) -> int | None:
        """A valid limit other than the one the box holds (the lowest, if it differs)."""
        values = self.charger.reader.values
        low, high = limit.range(values)
        for amps in (low, low + 1, high):
            try:
                raw = limit.check(amps, values)
            except InvalidValueError:
                continue
            if raw != before:
                return raw
        return None

    async def _restore(self, limit: CurrentLimit, result: _WriteResult) -> None:
        """Put back what the box held, after the hold the box asks for.

        When the run is cancelled (the entry unloads), the value is put back at
        once, and the cancellation goes on afterwards.
        """
        reader = self.charger.reader
        task = asyncio.current_task()
        cancelled = task is not None and task.cancelling() > 0
        if not cancelled:
            try:
                await self._wait_until(self.charger.clock() + limit.hold_left())
            except asyncio.CancelledError:
                cancelled = True
        try:
            await reader.write(limit.point, result.before)
            limit.last_write = self.charger.clock()
            await reader.read_points([limit.point])
            result.restored = reader.raw_words[limit.point.id][0]
        except ChargerError as err:
            result.error = result.error or type(err).__name__
            _LOGGER.warning(
                "%s: the charging current could not be put back after the write test: %s",
                self.charger.model.title,
                err,
            )
        if cancelled:
            raise asyncio.CancelledError

    def _write_findings(self, plan: Plan) -> list[Finding]:
        limits = self.charger.limits
        points = [limits[c].point for c in limits]
        if self._write_skip is not None or not self._writes:
            code = self._write_skip or "write_test_failed"
            return [
                Finding(
                    kind=Kind.WRITE_TEST,
                    status=Status.NOT_OBSERVED,
                    code=code,
                    points=tuple(p.id for p in points),
                    params={"error": "?"},
                )
            ]
        findings = []
        for result in self._writes:
            point = limits[result.connector].point

            def shown(raw: int | None, point: Point = point) -> str:
                return "?" if raw is None else fmt(raw * point.scale, point.unit)

            params = {
                "written": shown(result.written),
                "seen": shown(result.seen),
                "restored": shown(result.before),
                "error": result.error or "",
            }
            if result.written is not None and result.restored != result.before:
                judged = Judged(
                    status=Status.CONTRADICTED,
                    code="restore_failed",
                    params={**params, "seen": shown(result.restored)},
                )
            elif result.written is None or result.seen is None:
                judged = Judged(status=Status.NOT_OBSERVED, code="write_test_failed", params=params)
            elif result.seen != result.written:
                judged = Judged(status=Status.CONTRADICTED, code="readback_mismatch", params=params)
            else:
                judged = Judged(status=Status.CONFIRMED, code="readback_ok", params=params)
            findings.append(
                Finding(
                    kind=Kind.WRITE_TEST,
                    status=judged.status,
                    code=judged.code,
                    points=(point.id,),
                    params=dict(judged.params),
                )
            )
        return findings

    # ------------------------------------------------------------------ the report

    def plan(self) -> Plan:
        reader = self.charger.reader
        dropped = [p for p in reader.map.points if p.id in reader.dropped]
        return make_plan(reader.map, self.charger.model.variant, reader.points, dropped)

    def _report(self) -> Report:
        charger = self.charger
        plan = self.plan()
        keepalive = charger.keepalive
        observation = Observation(
            plan=plan,
            samples=self.samples,
            connectors=charger.connectors,
            limits=charger.limits,
            keepalive_timeout=None if keepalive is None else keepalive.timeout(),
            identity_values=dict(charger.identity.values) if charger.identity else {},
            started=self._start,
            start_connects=self._start_counts[0],
            start_fallbacks=self._start_counts[1],
        )
        findings = Judge(observation).run()
        findings += self._write_findings(plan)
        data = build_report(
            charger, plan, findings, self.samples, run=self._run_info(), about=self.about
        )
        return Report(data=data, findings=tuple(findings), verdict=data["summary"]["verdict"])

    def _run_info(self) -> dict[str, Any]:
        charging = any(
            s.values.get(pid("charging", c)) is True
            for s in self.samples
            for c in self.charger.connectors
        )
        window = self.samples[-1].at - self.samples[0].at if self.samples else 0.0
        return {
            "duration": round(self.duration, 1),
            "observed": round(window, 1),
            "interval": round(self.interval, 1),
            "samples": len(self.samples),
            "missed": self.missed,
            "charging_seen": charging,
            "write_test": "done"
            if self._writes
            else "not requested"
            if self._write_skip == "write_test_not_requested"
            else "skipped",
        }


# ---------------------------------------------------------------------------- the report


def verdict_of(plan: Plan, findings: list[Finding] | tuple[Finding, ...]) -> tuple[str, int, int]:
    """contradicted / confirmed / incomplete, with the required points and those confirmed."""
    required = plan.required()
    confirmed = [p for p in required if point_status(findings, p) is Status.CONFIRMED]
    if any(f.status is Status.CONTRADICTED for f in findings):
        verdict = "contradicted"
    elif len(confirmed) == len(required):
        verdict = "confirmed"
    else:
        verdict = "incomplete"
    return verdict, len(required), len(confirmed)


def _seen(point: Point, samples: list[Sample]) -> dict[str, Any] | None:
    words_seen = [s.raw[point.id] for s in samples if point.id in s.raw]
    if not words_seen:
        return None
    last = words_seen[-1]
    seen: dict[str, Any] = {"words": list(last)}
    if point.values is not None:
        raws = sorted({r for w in words_seen if (r := raw_int(point, w)) is not None})
        seen["raw"] = {str(r): point.values.get(r) for r in raws}
    elif point.bits is not None:
        seen["raw"] = sorted(
            {f"0x{r:04x}" for w in words_seen if (r := raw_int(point, w)) is not None}
        )
    elif point.type in NUMERIC_TYPES:
        numbers = [v for w in words_seen if (v := numeric(point, w)) is not None]
        if numbers:
            unit_value = 1000 if point.unit == "Wh" else 1  # numeric() gives kWh for Wh
            shown = [round(v * unit_value, 6) for v in numbers]
            seen.update(first=shown[0], last=shown[-1], min=min(shown), max=max(shown))
    elif len(last) == point.count:
        seen["value"] = str(decode(point, last))
    return seen


def build_report(
    charger: Charger,
    plan: Plan,
    findings: list[Finding],
    samples: list[Sample],
    *,
    run: Mapping[str, Any],
    about: Mapping[str, str],
) -> dict[str, Any]:
    """The JSON report of a run: every map point, every finding, redacted."""
    regmap = charger.map
    identity = charger.identity
    on_box = {p.id for p in plan.points} | {p.id for p in plan.dropped}
    points: dict[str, Any] = {}
    counts = {str(s): 0 for s in Status}
    for point in regmap.points:
        entry: dict[str, Any] = {
            "table": str(point.table),
            "address": point.address,
            "count": point.count,
            "type": point.type,
        }
        if point.connector is not None:
            entry["connector"] = point.connector
        if point.scale != 1:
            entry["scale"] = point.scale
        if point.unit:
            entry["unit"] = point.unit
        own = [f for f in findings if point.id in f.points]
        status = point_status(findings, point.id)
        if point.id not in on_box:
            why = [message("not_on_box", {})]
        elif not own:
            polled = point.readable and point.tier is not Tier.NONE
            why = [message("no_check" if polled else "not_polled", {})]
        else:
            why = [f.message for f in own]
        status = status or Status.NOT_OBSERVED
        entry["status"] = str(status)
        entry["on_box"] = point.id in on_box
        entry["checks"] = sorted({str(f.kind) for f in own})
        entry["needs"] = sorted({str(f.needs) for f in own})
        entry["why"] = why
        if point.private:
            entry["private"] = True
        elif (seen := _seen(point, samples)) is not None:
            entry["seen"] = seen
        points[point.id] = entry
        if point.id in on_box:
            counts[str(status)] += 1
    verdict, required, required_confirmed = verdict_of(plan, findings)
    verified = [c.firmware for c in regmap.hardware_verified]
    firmware = identity.firmware if identity is not None else None
    return {
        "kind": REPORT_KIND,
        "format": REPORT_FORMAT,
        "generated": samples[-1].host.isoformat(timespec="seconds") if samples else None,
        "software": dict(about),
        "model": {
            "id": charger.model.id,
            "title": charger.model.title,
            "variant": charger.model.variant,
            "user_map": charger.model.user_map,
        },
        "box": {
            "manufacturer": identity.manufacturer if identity else None,
            "model": identity.model if identity else None,
            "firmware": firmware,
            "layout_version": identity.layout_version if identity else None,
            "connectors": identity.connectors if identity else None,
        },
        "map": {
            "name": regmap.name,
            "title": regmap.title,
            "document": regmap.document.get("file"),
            "revision": regmap.document.get("revision"),
            "rung": str(regmap.rung),
            "hardware_verified": verified,
            "firmware_verified": firmware in verified,
            "digest": map_digest(regmap),
        },
        "run": dict(run),
        "summary": {
            "verdict": verdict,
            **counts,
            "required": required,
            "required_confirmed": required_confirmed,
            "needs": _needs_summary(plan, findings),
        },
        "points": points,
        "findings": [f.as_dict() for f in findings],
    }


def _needs_summary(plan: Plan, findings: list[Finding]) -> dict[str, list[str]]:
    """The points still not observed, by what they need (charging, mains, ...)."""
    waiting: dict[str, list[str]] = {}
    for point in plan.points:
        if point_status(findings, point.id) is not Status.NOT_OBSERVED:
            continue
        for needs in sorted(plan.needs(point.id)):
            if needs is not Needs.READING:
                waiting.setdefault(str(needs), []).append(point.id)
    return waiting


__all__ = [
    "DEFAULT_DURATION",
    "DEFAULT_INTERVAL",
    "REPORT_FORMAT",
    "REPORT_KIND",
    "Report",
    "Verification",
    "build_report",
    "verdict_of",
]
