"""Fuzz: randomised service calls through a real Home Assistant at all six simulated models.

Six simulators (one per model, a car charging on every connector) run on a thread of
this process; Home Assistant runs as a program from this interpreter's venv
(tests/e2e/hass_runner.py) with one entry per model.  The fuzz then fires N service
calls over one websocket, as the frontend and automations send them:

- numbers get values below the minimum, above the maximum, fractions of a step,
  huge ones, strings, nothing at all, null, booleans, and valid ones;
- switches, locks and selects get rapid toggles (several calls at once on one entity)
  and options that do not exist;
- bursts: several calls on several boxes at once; and forced refreshes in between;
- uneven traffic: a changing pair of boxes takes most calls while the others stay
  quiet after their last command, and now and then a pause of a few seconds, so that
  timers run (a keepalive after its timeout changed, a held-back write, a phase block);
- timeout turns: now and then a box's keepalive timeout is set long, a few seconds
  later short, and the box is then left alone for two of the short timeouts.

Then, after a quiet period, it checks and prints (every invariant must be zero):

- writes outside the valid values, seen by the boxes;
- keepalive lapses (a box fell back for want of a keepalive);
- connections above what a box allows (Amperfied: one);
- commands the box did not take ("the wallbox did not take the command") and errors
  without a translation (every refusal must be a ServiceValidationError or
  HomeAssistantError with a translation key; Home Assistant's own schema errors are
  counted apart);
- tracebacks in the log;
- entities unavailable, or showing other than the box holds, after the quiet period;

with figures: calls per second, latencies, outcomes, writes per box, log lines per
minute (all, and the integration's own at info and above) and memory.

Run like the benchmark, with the Home Assistant test venv:
    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/fuzz.py --calls 10000
    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/fuzz.py --short   # what CI runs
Exit status 1 if any invariant is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.ha_rig import ALL_MODELS, Entity, HaRig, Ws, percentile  # noqa: E402

TIMEOUT_KEYS = ("failsafe_timeout", "watchdog_timeout", "fallback_timeout")
SHORT_CALLS = 200  # CI: about two minutes with the quiet period
QUIET = 45.0  # s without calls before comparing: held-back writes (20 s) and a poll go out
UNTRANSLATED_OK = {"invalid_format"}  # Home Assistant's own schema errors


def number_value(rng: random.Random, attrs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A value for number.set_value, and its category."""
    low, high = float(attrs.get("min", 0)), float(attrs.get("max", 100))
    step = float(attrs.get("step", 1)) or 1.0
    kind = rng.choice(
        ("valid", "valid", "valid", "edge", "below", "above", "fraction", "huge", "string",
         "numeric_string", "missing", "null", "bool")
    )  # fmt: skip
    inside = low + step * rng.randint(0, max(0, int((high - low) / step)))
    value: Any
    if attrs.get("device_class") == "duration" and rng.random() < 0.5:
        # timeouts: mostly short ones, long and short in turn (a keepalive's rhythm)
        return "timeout", {"value": rng.choice((0, 4, 5, 6, 7, 10, 15, 19, 27, 60, 1051))}
    if kind == "valid":
        value = round(inside, 6)
    elif kind == "edge":
        value = rng.choice((low, high, low - step, high + step, 0))
    elif kind == "below":
        value = low - rng.choice((0.001, 0.5, 1, 10, 1000))
    elif kind == "above":
        value = high + rng.choice((0.001, 0.5, 1, 10, 1000))
    elif kind == "fraction":
        value = round(inside + step * rng.choice((0.37, 0.5, 0.001, 0.999)), 9)
    elif kind == "huge":
        value = rng.choice((1e12, -1e12, 1e308, -1e308, 2**63))
    elif kind == "string":
        value = rng.choice(("abc", "", "10 A", "NaN", "inf", "-"))
    elif kind == "numeric_string":
        value = str(round(inside, 3))
    elif kind == "null":
        value = None
    elif kind == "bool":
        value = rng.choice((True, False))
    else:
        return kind, {}
    return kind, {"value": value}


def calls_for(
    rng: random.Random, ent: Entity, attrs: dict[str, Any]
) -> list[tuple[str, str, dict[str, Any], str]]:
    """One or more (domain, service, data, category) for an entity."""
    if ent.domain == "number":
        kind, data = number_value(rng, attrs)
        return [("number", "set_value", data, kind)]
    if ent.domain == "switch":
        if rng.random() < 0.3:  # rapid toggles
            return [("switch", rng.choice(("turn_on", "turn_off", "toggle")), {}, "toggle")
                    for _ in range(rng.randint(3, 8))]  # fmt: skip
        return [("switch", rng.choice(("turn_on", "turn_off", "toggle")), {}, "switch")]
    if ent.domain == "select":
        option = rng.choice(("1", "3", "1", "3", "2", "", "x", 3))
        calls = [("select", "select_option", {"option": option}, "select")]
        if rng.random() < 0.3:
            calls += [("select", "select_option", {"option": rng.choice(("1", "3"))}, "toggle")
                      for _ in range(rng.randint(2, 5))]  # fmt: skip
        return calls
    if ent.domain == "lock":
        if rng.random() < 0.3:
            return [("lock", rng.choice(("lock", "unlock")), {}, "toggle")
                    for _ in range(rng.randint(3, 6))]  # fmt: skip
        return [("lock", rng.choice(("lock", "unlock", "open")), {}, "lock")]
    return [("homeassistant", "update_entity", {}, "refresh")]


class Fuzz:
    def __init__(
        self, rig: HaRig, calls: int, seed: int, *, mean_pause: float, long_pauses: float
    ) -> None:
        self.rig = rig
        self.mean_pause = mean_pause
        self.long_pauses = long_pauses
        self.calls = calls
        self.rng = random.Random(seed)
        self.outcomes: Counter[str] = Counter()
        self.categories: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.untranslated: list[str] = []
        self.not_taken: list[str] = []
        self.sent = 0
        self.cold: dict[str, float] = {}  # model -> left alone until

    async def _one(self, ws: Ws, ent: Entity, call: tuple[str, str, dict[str, Any], str]) -> None:
        domain, service, data, category = call
        began = time.monotonic()
        try:
            reply = await ws.call(domain, service, ent.entity_id, data)
        except TimeoutError:
            self.outcomes["no reply in 60 s"] += 1
            self.untranslated.append(f"{ent.entity_id} {service} {data}: no reply")
            return
        finally:
            self.latencies.append(time.monotonic() - began)
            self.sent += 1
            self.categories[category] += 1
        if reply.get("success"):
            self.outcomes["done"] += 1
            return
        error = reply.get("error") or {}
        key = error.get("translation_key")
        code = error.get("code", "?")
        self.outcomes[f"refused: {key or code}"] += 1
        what = f"{ent.entity_id} {service} {data}: {code} {key} {error.get('message', '')[:160]}"
        if not key and code not in UNTRANSLATED_OK:
            self.untranslated.append(what)
        if key == "write_failed":
            self.not_taken.append(what)

    async def _pause(self) -> None:
        """Time between calls: mostly short, now and then long enough for timers to run
        (a keepalive on a long timeout, a held-back write, a phase switch's block)."""
        roll = self.rng.random()
        if roll < self.long_pauses:
            await asyncio.sleep(self.rng.uniform(2, 25))
        else:
            await asyncio.sleep(self.rng.expovariate(1 / self.mean_pause))

    async def _timeout_turn(self, ws: Ws, ent: Entity) -> None:
        """A box's timeout set long, then short a few seconds later, then the box left
        alone for two of the short timeouts: its keepalive must follow on its own."""
        self.cold[ent.model] = time.monotonic() + 60
        await self._one(
            ws,
            ent,
            (
                "number",
                "set_value",
                {"value": self.rng.choice((19, 21, 24, 27, 60, 1051))},
                "timeout_turn",
            ),
        )
        await asyncio.sleep(self.rng.uniform(0, 12))
        sim = self.rig.sim(ent.model)
        seen = self.rig.sims.call(lambda: sim.bank.last_transaction)
        for _ in range(60):  # right after the box answered a poll, as a user might
            await asyncio.sleep(0.2)
            if self.rig.sims.call(lambda: sim.bank.last_transaction) != seen:
                break
        short = self.rng.choice((5, 6, 7))
        await self._one(ws, ent, ("number", "set_value", {"value": short}, "timeout_turn"))
        self.cold[ent.model] = time.monotonic() + 2 * short + 2
        await asyncio.sleep(2 * short + 2)

    def _warm(self, entities: list[Entity]) -> list[Entity]:
        now = time.monotonic()
        return [e for e in entities if self.cold.get(e.model, 0) < now]

    async def run(self) -> float:
        rig = self.rig
        controls = rig.entities("number", "switch", "select", "lock")
        sensors = rig.entities("sensor", "binary_sensor")
        states = rig.states()
        models = sorted({e.model for e in controls})
        hot: set[str] = set()
        rounds = 0
        began = time.monotonic()
        next_report = began + 30
        async with Ws(rig.hass) as ws:
            turns: set[asyncio.Task[None]] = set()
            timeouts = [e for e in controls if e.key in TIMEOUT_KEYS]
            while self.sent < self.calls:
                roll = self.rng.random()
                warm = self._warm(controls)
                if roll > 0.985 and timeouts and self._warm(timeouts):
                    task = asyncio.ensure_future(
                        self._timeout_turn(ws, self.rng.choice(self._warm(timeouts)))
                    )
                    turns.add(task)
                    task.add_done_callback(turns.discard)
                    continue
                if not warm:
                    await asyncio.sleep(0.5)
                    continue
                if roll < 0.05:
                    ent = self.rng.choice(sensors)
                    await self._one(ws, ent, ("homeassistant", "update_entity", {}, "refresh"))
                    continue
                if roll < 0.20:  # a burst on several boxes at once
                    picks = [self.rng.choice(warm) for _ in range(self.rng.randint(3, 6))]
                    work = [
                        self._one(ws, ent, call)
                        for ent in picks
                        for call in calls_for(self.rng, ent, states[ent.entity_id]["attributes"])
                    ]
                    for sensor in self.rng.sample(sensors, 2):
                        work.append(
                            self._one(ws, sensor, ("homeassistant", "update_entity", {}, "burst"))
                        )
                    await asyncio.gather(*work)
                    await self._pause()
                    continue
                if rounds % 40 == 0:  # traffic is uneven: a few boxes busy, the others quiet
                    hot = set(self.rng.sample(models, min(2, len(models))))
                rounds += 1
                pool = [e for e in warm if e.model in hot] if self.rng.random() < 0.85 else []
                ent = self.rng.choice(pool or warm)
                attrs = states[ent.entity_id]["attributes"]
                calls = calls_for(self.rng, ent, attrs)
                if len(calls) > 1:  # rapid toggles: at once, as fast as they go out
                    await asyncio.gather(*(self._one(ws, ent, c) for c in calls))
                else:
                    await self._one(ws, ent, calls[0])
                if self.rng.random() < 0.1:
                    states = rig.states()  # ranges follow the box (maxima from registers)
                await self._pause()
                if time.monotonic() >= next_report:
                    print(f"  {self.sent} calls, {time.monotonic() - began:.0f} s", flush=True)
                    next_report += 30
            if turns:
                await asyncio.gather(*turns)
        return time.monotonic() - began


def report(rig: HaRig, fuzz: Fuzz, seconds: float, rss: tuple[float, float]) -> int:
    facts = rig.box_facts()
    differences = rig.differences()
    log = rig.log()
    invalid = {m: f["invalid_writes"] for m, f in facts.items() if f["invalid_writes"]}
    lapses = {m: f["lapses"] for m, f in facts.items() if f["lapses"]}
    crowded = {
        m: f"{f['max_concurrent']} > {f['max_connections']}"
        for m, f in facts.items()
        if f["max_concurrent"] > f["max_connections"]
    }
    invariants: dict[str, tuple[int, Any]] = {
        "writes outside the valid values": (sum(map(len, invalid.values())), invalid),
        "keepalive lapses": (sum(map(len, lapses.values())), lapses),
        "connections above the box's maximum": (len(crowded), crowded),
        "commands the box did not take": (len(fuzz.not_taken), fuzz.not_taken[:10]),
        "errors without a translation": (len(fuzz.untranslated), fuzz.untranslated[:10]),
        "tracebacks in the log": (log.tracebacks, log.traceback_heads[:10]),
        "entities unavailable or unlike the box after the quiet period": (
            len(differences),
            differences[:20],
        ),
    }
    print("\n=== fuzz figures")
    print(f"service calls         {fuzz.sent} in {seconds:.0f} s ({fuzz.sent / seconds:.1f}/s)")
    print(
        f"latency               p50 {percentile(fuzz.latencies, 0.5) * 1000:.0f} ms,"
        f" p95 {percentile(fuzz.latencies, 0.95) * 1000:.0f} ms,"
        f" max {max(fuzz.latencies, default=0) * 1000:.0f} ms"
    )
    print(
        "calls by kind         " + ", ".join(f"{k} {v}" for k, v in sorted(fuzz.categories.items()))
    )
    print("outcomes              " + ", ".join(f"{k} {v}" for k, v in fuzz.outcomes.most_common()))
    print("writes taken by box   " + ", ".join(f"{m} {f['writes']}" for m, f in facts.items()))
    print(
        "connections per box   "
        + ", ".join(
            f"{m} {f['connections']} (at once {f['max_concurrent']})" for m, f in facts.items()
        )
    )
    print(
        f"log lines per minute  {log.per_minute():.1f} at info and above"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(log.by_level.items()) if k != 'DEBUG')});"
        f" the integration's own {log.per_minute(ours=True):.2f}"
        f" ({', '.join(f'{k} {v}' for k, v in sorted(log.ours_by_level.items()) if k != 'DEBUG')})"
    )
    print(f"memory (hass RSS)     {rss[0]:.0f} MB -> {rss[1]:.0f} MB")
    print("\n=== invariants (each must be 0)")
    failed = 0
    for name, (count, detail) in invariants.items():
        print(f"{name:64} {count}")
        if count:
            failed += 1
            print(f"    {detail}")
    for line in log.ours_lines[-15:]:
        print(f"    log: {line[:220]}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="service calls to fire")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--pause", type=float, default=0.05, help="mean seconds between calls")
    parser.add_argument(
        "--long-pauses", type=float, default=0.03, help="share of pauses of 2-25 s between calls"
    )
    parser.add_argument("--short", action="store_true", help=f"{SHORT_CALLS} calls: what CI runs")
    parser.add_argument("--models", nargs="*", default=list(ALL_MODELS))
    parser.add_argument("--config-dir", type=Path, default=None, help="kept after the run")
    args = parser.parse_args(argv)
    calls = SHORT_CALLS if args.short else args.calls
    config_dir = args.config_dir or Path(tempfile.mkdtemp(prefix="wallbox-fuzz-")) / "config"
    print(f"fuzz: {calls} calls, seed {args.seed}, models {' '.join(args.models)}")
    print(f"Home Assistant config and log: {config_dir}", flush=True)
    with HaRig(config_dir, args.models) as rig:
        print(f"{len(rig.entities())} entities; fuzzing", flush=True)
        rss_start = rig.rss_mb()
        fuzz = Fuzz(rig, calls, args.seed, mean_pause=args.pause, long_pauses=args.long_pauses)
        seconds = asyncio.run(fuzz.run())
        print(f"quiet for {QUIET:.0f} s", flush=True)
        time.sleep(QUIET)
        return report(rig, fuzz, seconds, (rss_start, rig.rss_mb()))


if __name__ == "__main__":
    sys.exit(main())
