"""Soak: faults over time against all six simulated models in one real Home Assistant.

Six simulators run on a thread of this process (their fault switch is the control
channel); Home Assistant runs as a program from this interpreter's venv with one entry
per model (scan interval 10 s; the Compleo fallback timeout set to 30 s so that its
keepalive runs too).  Every --fault-every seconds one fault is switched on for
--fault-seconds, in a fixed rotation over the boxes:

  outage      the box's server stops, then starts again on the same port
  half_open   connections are accepted and requests never answered
  reboot      a box restarts (Amperfied: 261 back to 0, counters since power-on reset)
  refusal     every connection is dropped and new ones are refused
  exceptions  every request is answered with exception 4
  late        every reply comes 8 s late (beyond the 5 s request timeout)
  slow        every reply comes 3 s late (answered, slowly)
  frozen      reads return the values they returned before
  ha_restart  Home Assistant stops and starts again (every 30th fault; --short: the 4th)

It checks and prints (every invariant must be zero):

- faults not recovered within two scan intervals of their end (every entity of the
  box available again and the box answered since);
- keepalive lapses outside faults: a box fell back for want of a keepalive although
  no fault kept its keepalive away (a fault that lets requests through, slow or
  frozen, excuses none; one that blocks them excuses a lapse that comes while it is
  on or within one keepalive interval and two seconds after it);
- energy counters that went down (apart from a box's own counters after its reboot);
- tracebacks in the log; writes outside the valid values; more connections than a box
  allows; entities unlike the box at the end of a cycle;
- cycles in which the integration wrote more lines at info or above than a box going
  away and coming back needs (no line per request or per retry);

and figures: recovery times per fault kind, log lines per minute (all, and the
integration's own), memory growth of Home Assistant per hour.

    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/soak.py --minutes 60
    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/soak.py --short   # CI: 2.5 min
Exit status 1 if any invariant is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import MODELS  # noqa: E402
from simulators.base import WallboxSimulator  # noqa: E402
from tests.e2e.ha_rig import ALL_MODELS, HaRig, Ws  # noqa: E402

SCAN = 10.0  # the default scan interval
KINDS = ("outage", "half_open", "reboot", "refusal", "exceptions", "late", "slow", "frozen")
BLOCKING = {"outage", "half_open", "refusal", "exceptions", "late", "ha_restart"}
HA_RESTART_EVERY = 30  # faults
# CI's short mode (2.5 min): the faults that cut a box off, a reboot, and a restart
SHORT_KINDS = ("outage", "half_open", "reboot")
SHORT_MINUTES = 2.5
ENERGY = ("energy_total", "mid_energy_total", "energy_session", "energy_since_power_on")
RESET_BY_REBOOT = {"energy_session", "energy_since_power_on"}
LINES_PER_BOX = 6  # stops answering, answers again, and a few settings applied again


@dataclass
class Fault:
    kind: str
    models: list[str]
    start: float
    end: float = 0.0
    recovered: dict[str, float] = field(default_factory=dict)  # model -> s after the end
    differences: list[str] = field(default_factory=list)
    our_lines: int = 0


def schedule(
    index: int, models: list[str], restart_every: int, kinds: tuple[str, ...] = KINDS
) -> tuple[str, list[str]]:
    """The index-th fault and the boxes it hits (a fixed rotation)."""
    if index % restart_every == restart_every - 1:
        return "ha_restart", list(models)
    kind = kinds[index % len(kinds)]
    if kind == "reboot":
        rebootable = [m for m in models if hasattr(SIM_TYPES[m], "reboot")]
        return kind, [rebootable[(index // len(kinds)) % len(rebootable)]]
    return kind, [models[(index + index // len(kinds)) % len(models)]]


SIM_TYPES: dict[str, type[WallboxSimulator]] = {}


class Soak:
    def __init__(
        self,
        rig: HaRig,
        fault_seconds: float,
        restart_every: int,
        kinds: tuple[str, ...] = KINDS,
    ) -> None:
        self.rig = rig
        self.kinds = kinds
        self.restart_every = restart_every
        self.fault_seconds = fault_seconds
        self.faults: list[Fault] = []
        self.energy: dict[str, float] = {}
        self.energy_drops: list[str] = []
        self.rebooted: dict[str, float] = {}  # model -> when it was last rebooted
        self.rss: list[tuple[float, float, int]] = []  # (time, MB, hass pid)

    # ---------------------------------------------------------------- faults

    def _set(self, model: str, switch: Callable[[WallboxSimulator], None]) -> None:
        sim = self.rig.sim(model)
        self.rig.sims.call(lambda: switch(sim))

    def inject(self, fault: Fault) -> None:
        rig = self.rig
        for model in fault.models if fault.kind != "ha_restart" else []:
            sim = rig.sim(model)
            if fault.kind == "outage":
                rig.sims.run(sim.stop())
            elif fault.kind == "half_open":
                self._set(model, lambda s: setattr(s.server.faults, "silent", True))
            elif fault.kind == "reboot":
                self._set(model, lambda s: s.reboot())  # type: ignore[attr-defined]
                self.rebooted[model] = time.monotonic()
            elif fault.kind == "refusal":
                self._set(model, lambda s: setattr(s.server.faults, "refuse_connections", True))
                self._set(model, lambda s: s.drop_connections())
            elif fault.kind == "exceptions":
                self._set(model, lambda s: setattr(s.server.faults, "exception", 4))
            elif fault.kind == "late":
                self._set(model, lambda s: setattr(s.server.faults, "delay", 8.0))
            elif fault.kind == "slow":
                self._set(model, lambda s: setattr(s.server.faults, "delay", 3.0))
            elif fault.kind == "frozen":
                self._set(model, lambda s: setattr(s.server.faults, "frozen", True))
        if fault.kind == "ha_restart":
            rig.restart_hass()
        else:
            time.sleep(self.fault_seconds)

    def clear(self, fault: Fault) -> None:
        rig = self.rig
        for model in fault.models if fault.kind != "ha_restart" else []:
            sim = rig.sim(model)
            if fault.kind == "outage":
                rig.sims.run(sim.start())
            else:

                def reset(s: WallboxSimulator) -> None:
                    faults = s.server.faults
                    faults.silent = faults.frozen = faults.refuse_connections = False
                    faults.exception = None
                    faults.delay = 0.0

                self._set(model, reset)
        fault.end = time.monotonic()

    # ---------------------------------------------------------------- watching

    def watch(self, fault: Fault, until: float) -> None:
        """Poll Home Assistant until every box of the fault recovered (or until)."""
        rig = self.rig
        waiting = set(fault.models)
        while waiting and time.monotonic() < until:
            states = rig.states()
            self.check_energy(states)
            for model in list(waiting):
                answered = rig.sims.call(
                    lambda m=model: rig.sim(m).bank.last_transaction or 0.0  # type: ignore[misc]
                )
                available = all(
                    states.get(e.entity_id, {}).get("state") != "unavailable"
                    or rig.box_status(e) == "unavailable"
                    for e in rig.entities()
                    if e.model == model
                )
                if answered > fault.end and available:
                    fault.recovered[model] = time.monotonic() - fault.end
                    waiting.discard(model)
            time.sleep(0.5)

    def check_energy(self, states: dict[str, dict[str, Any]]) -> None:
        for ent in self.rig.entities("sensor"):
            if ent.key not in ENERGY:
                continue
            try:
                value = float(states[ent.entity_id]["state"])
            except (KeyError, ValueError):
                continue
            last = self.energy.get(ent.entity_id)
            rebooted = time.monotonic() - self.rebooted.get(ent.model, -1e9) < 2 * SCAN + 10
            reset = ent.key in RESET_BY_REBOOT and rebooted  # the box's own counters start again
            if last is not None and value < last - 1e-9 and not reset:
                self.energy_drops.append(f"{ent.entity_id}: {last} -> {value}")
            self.energy[ent.entity_id] = value

    def sample_memory(self) -> None:
        self.rss.append((time.monotonic(), self.rig.rss_mb(), self.rig.hass.process.pid))

    # ---------------------------------------------------------------- the run

    def run(self, minutes: float, every: float) -> None:
        began = time.monotonic()
        end = began + minutes * 60
        index = 0
        next_fault = began + every
        self.sample_memory()
        while next_fault + every <= end + 1e-6:
            self.watch_idle(next_fault)
            kind, models = schedule(index, self.rig.models, self.restart_every, self.kinds)
            fault = Fault(kind=kind, models=models, start=time.monotonic())
            lines_before = len(self.rig.log().ours_lines)
            self.inject(fault)
            self.clear(fault)
            next_fault += every
            self.watch(fault, next_fault - 1.0)
            self.watch_idle(next_fault - 0.5)
            fault.differences = self.rig.differences()
            fault.our_lines = len(self.rig.log().ours_lines) - lines_before
            self.faults.append(fault)
            self.sample_memory()
            recovered = ", ".join(f"{m} {s:.1f} s" for m, s in fault.recovered.items())
            print(
                f"  {time.monotonic() - began:6.0f} s  {kind:10} {' '.join(models):40}"
                f" recovered: {recovered or 'no'}"
                + (f"  differences: {fault.differences[:3]}" if fault.differences else ""),
                flush=True,
            )
            index += 1

    def watch_idle(self, until: float) -> None:
        while time.monotonic() < until:
            self.check_energy(self.rig.states())
            time.sleep(min(1.0, max(0.0, until - time.monotonic())))

    # ---------------------------------------------------------------- figures

    def lapses_outside_faults(self) -> list[str]:
        found: list[str] = []
        for model, facts in self.rig.box_facts().items():
            timeout = self.rig.sims.call(
                lambda m=model: self.rig.sim(m).keepalive_timeout()  # type: ignore[misc]
            )
            keepalive = MODELS[model].regmap.behaviour.keepalive
            per = keepalive.per_timeout if keepalive is not None else 3
            grace = (timeout or 0) / per + 2.0
            for at in facts["lapses"]:
                excused = any(
                    f.kind in BLOCKING and model in f.models and f.start <= at <= f.end + grace
                    for f in self.faults
                )
                if not excused:
                    when = at - self.rig.started
                    found.append(f"{model} at {when:.0f} s ({facts['events'][-4:]})")
        return found

    def memory_growth(self) -> float:
        """MB per hour, over every run of one hass process after its first fifth (warm-up)."""
        runs: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for at, mb, pid in self.rss:
            runs[pid].append((at, mb))
        grown = hours = 0.0
        for samples in runs.values():
            if len(samples) < 3:
                continue
            start = samples[len(samples) // 5]
            grown += samples[-1][1] - start[1]
            hours += (samples[-1][0] - start[0]) / 3600
        return grown / hours if hours > 0 else 0.0


def report(soak: Soak, minutes: float) -> int:
    rig = soak.rig
    facts = rig.box_facts()
    log = rig.log()
    late = [
        f"{f.kind} {m}: {'not recovered' if m not in f.recovered else f'{f.recovered[m]:.1f} s'}"
        for f in soak.faults
        for m in f.models
        if f.recovered.get(m, 1e9) > 2 * SCAN
    ]
    lapses = soak.lapses_outside_faults()
    invalid = [f"{m}: {w}" for m, f in facts.items() for w in f["invalid_writes"]]
    crowded = [
        f"{m}: {f['max_concurrent']} > {f['max_connections']}"
        for m, f in facts.items()
        if f["max_concurrent"] > f["max_connections"]
    ]
    unlike = [
        f"{f.kind} {' '.join(f.models)}: {f.differences[:4]}" for f in soak.faults if f.differences
    ]
    chatty = [
        f"{f.kind} {' '.join(f.models)}: {f.our_lines} lines"
        for f in soak.faults
        if f.our_lines > LINES_PER_BOX * len(f.models)
    ]
    invariants: dict[str, list[str]] = {
        "faults not recovered within two scan intervals": late,
        "keepalive lapses outside faults": lapses,
        "energy counters that went down": soak.energy_drops,
        "tracebacks in the log": log.traceback_heads,
        "writes outside the valid values": invalid,
        "connections above the box's maximum": crowded,
        "cycles ending with entities unlike the box": unlike,
        "cycles with more of the integration's lines than a fault needs": chatty,
    }
    print("\n=== soak figures")
    print(f"duration              {minutes:g} min, {len(soak.faults)} faults")
    by_kind: dict[str, list[float]] = defaultdict(list)
    for f in soak.faults:
        by_kind[f.kind] += list(f.recovered.values())
    for kind, times in sorted(by_kind.items()):
        if times:
            print(
                f"recovery {kind:13} {len(times):3} boxes: mean {statistics.mean(times):5.1f} s,"
                f" max {max(times):5.1f} s"
            )
    all_lapses = sum(len(f["lapses"]) for f in facts.values())
    print(f"keepalive lapses      {all_lapses} in all (inside faults that block requests: "
          f"{all_lapses - len(lapses)})")  # fmt: skip
    print(
        f"log lines per minute  {log.per_minute():.1f} at info and above"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(log.by_level.items()) if k != 'DEBUG')});"
        f" the integration's own {log.per_minute(ours=True):.2f}"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(log.ours_by_level.items()) if k != 'DEBUG')})"
    )
    rss = [mb for _, mb, _ in soak.rss]
    print(
        f"memory (hass RSS)     {rss[0]:.0f} MB at the start, {rss[-1]:.0f} MB at the end,"
        f" growth {soak.memory_growth():+.1f} MB/h (runs of one process, after warm-up)"
    )
    print("connections per box   " + ", ".join(
        f"{m} {f['connections']} (refused {f['refused']}, at once {f['max_concurrent']})"
        for m, f in facts.items()))  # fmt: skip
    print("\n=== invariants (each must be 0)")
    failed = 0
    for name, items in invariants.items():
        print(f"{name:64} {len(items)}")
        if items:
            failed += 1
            for item in items[:12]:
                print(f"    {item}")
    print("\nthe integration's lines at info and above (last 20):")
    for line in log.ours_lines[-20:]:
        print(f"    {line[:220]}")
    return 1 if failed else 0


async def set_compleo_fallback(rig: HaRig) -> None:
    """A 30 s fallback timeout on the Compleo boxes, so that their keepalive runs too."""
    async with Ws(rig.hass) as ws:
        for ent in rig.entities("number"):
            if ent.key == "fallback_timeout":
                reply = await ws.call("number", "set_value", ent.entity_id, {"value": 30})
                if not reply.get("success"):
                    raise RuntimeError(f"{ent.entity_id}: {reply}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds")
    parser.add_argument("--fault-seconds", type=float, default=8.0, help="how long one lasts")
    parser.add_argument(
        "--short",
        action="store_true",
        help=f"{SHORT_MINUTES:g} minutes: {', '.join(SHORT_KINDS)}, ha_restart (what CI runs)",
    )
    parser.add_argument("--models", nargs="*", default=list(ALL_MODELS))
    parser.add_argument("--config-dir", type=Path, default=None, help="kept after the run")
    args = parser.parse_args(argv)
    minutes = SHORT_MINUTES if args.short else args.minutes
    kinds = SHORT_KINDS if args.short else KINDS
    restart_every = len(SHORT_KINDS) + 1 if args.short else HA_RESTART_EVERY
    config_dir = args.config_dir or Path(tempfile.mkdtemp(prefix="wallbox-soak-")) / "config"
    print(f"soak: {minutes:g} min, a fault every {args.fault_every:g} s for"
          f" {args.fault_seconds:g} s, models {' '.join(args.models)}")  # fmt: skip
    print(f"Home Assistant config and log: {config_dir}", flush=True)
    rig = HaRig(config_dir, args.models)
    with rig:
        SIM_TYPES.update({m: type(rig.sim(m)) for m in rig.models})
        asyncio.run(set_compleo_fallback(rig))
        soak = Soak(rig, args.fault_seconds, restart_every, kinds)
        soak.run(minutes, args.fault_every)
        return report(soak, minutes)


if __name__ == "__main__":
    sys.exit(main())
