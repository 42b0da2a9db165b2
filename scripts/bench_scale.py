"""Scale benchmark: what one wallbox costs a real Home Assistant (CPU, memory, state writes).

Starts N simulated boxes (default 100; one model, or round-robin over every model;
``--charging`` of them with a car charging, default all) in this process on
127.0.0.1, and two real Home Assistant processes side by side, both with the
recorder and history (``--no-recorder``: without) and warnings-only logging:

- *loaded*: N config entries, added through the config flow (REST flow API);
- *baseline*: the same Home Assistant, the same configuration, no entries.

After a warm-up both are measured over the same window:

- CPU: utime + stime of the process from /proc/<pid>/stat, split into user and
  system time, and into the event loop's thread and the others (recorder, executor);
- RSS from /proc/<pid>/status;
- Modbus requests per second (the simulators' server counters);
- refreshes and state writes per second (``state_changed`` and ``state_reported``),
  counted in-process by the probe component ``scripts/bench_probe`` (loaded in the
  benchmark's config dirs only: ``state_reported`` cannot be subscribed to over the
  websocket);
- event-loop latency: websocket ping round trip, every half second.

CPU per box is (loaded - baseline) / N, for the whole window and as the median of
slices one scan interval long (the median leaves out a burst such as the
recorder's five-minute statistics compile or a full garbage collection).
``--profile`` then samples the loaded Home Assistant with py-spy for another
window (``--profile-window``; installed into a venv of its own under
~/.cache/wallbox-modbus/bench on first use; only the thread holding the GIL is
sampled, so samples are CPU time, not threads waiting) and summarises where its
time goes per refresh.  It prints figures and asserts nothing about speed.  Run::

    ~/.cache/wallbox-modbus/ha2025/bin/python scripts/bench_scale.py [--boxes 100]
        [--model vestel_evc04] [--interval 10] [--charging 1] [--window 60]
        [--profile [--profile-window 300]] [--checkout /tmp/before] [--json out.json]

``--checkout`` measures the integration of another checkout (its
custom_components/wallbox_modbus); the simulators and this harness stay this
checkout's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from custom_components.wallbox_modbus.charger import MODELS  # noqa: E402
from simulators.base import WallboxSimulator  # noqa: E402
from simulators.registry import SIMULATORS  # noqa: E402
from tests.e2e.hass_runner import (  # noqa: E402
    BASE_INTEGRATIONS,
    HassInstance,
    start_hass,
)

PROBE = ROOT / "scripts" / "bench_probe"
BENCH_VENV = Path.home() / ".cache" / "wallbox-modbus" / "bench"
PY_SPY_VERSION = "0.4.3"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PING_EVERY = 0.5  # seconds


# --------------------------------------------------------------------------- simulators


class Boxes:
    """N simulators on free ports of 127.0.0.1, each with a distinct serial.

    A share of them (spread over the models) has a car charging on every
    connector; the others have none, so that nothing they report changes.
    """

    def __init__(self, models: Sequence[str], charging: float = 1.0) -> None:
        self.models = list(models)
        self.charging = charging
        self.sims: list[WallboxSimulator] = []

    async def start(self) -> None:
        for index, model in enumerate(self.models):
            sim = SIMULATORS[model](port=0)
            await sim.start()
            if sim.bank.has("serial_number"):
                # every box its own serial: the config flow refuses a second one
                sim.bank.set("serial_number", f"BENCH-{model.upper()}-{index:04d}")
            if int((index + 1) * self.charging) > int(index * self.charging):
                for connector in sim.cars:
                    sim.plug(connector, max_current=16 if connector == 1 else 10)
            self.sims.append(sim)

    async def stop(self) -> None:
        for sim in self.sims:
            await sim.stop()

    def requests(self) -> int:
        return sum(sim.server.stats.requests for sim in self.sims)


# --------------------------------------------------------------------------- processes


def cpu_times(path: str) -> tuple[float, float]:
    """utime and stime of a process or thread, in seconds (fields 14 and 15 of stat(5))."""
    text = Path(path).read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of a process: user, system, and the event loop's thread alone."""

    user: float
    system: float
    loop: float

    @property
    def total(self) -> float:
        return self.user + self.system


def cpu_of(pid: int) -> Cpu:
    user, system = cpu_times(f"/proc/{pid}/stat")
    loop = sum(cpu_times(f"/proc/{pid}/task/{pid}/stat"))  # the main thread runs the loop
    return Cpu(user, system, loop)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Ws:
    """One websocket connection to a Home Assistant: commands by id, pings."""

    def __init__(self, instance: HassInstance) -> None:
        self.instance = instance
        self._next = 0
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._session: Any = None
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession()
        url = self.instance.base_url.replace("http", "ws", 1) + "/api/websocket"
        self._ws = await self._session.ws_connect(url, max_msg_size=0)
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self.instance.token()})
        reply = await self._ws.receive_json()
        if reply.get("type") != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {reply}")
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            data = json.loads(message.data)
            for item in data if isinstance(data, list) else [data]:
                future = self._waiting.pop(item.get("id"), None)
                if future is not None and not future.done():
                    future.set_result(item)

    async def call(self, command: dict[str, Any]) -> dict[str, Any]:
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        await self._ws.send_json({**command, "id": self._next})
        reply: dict[str, Any] = await asyncio.wait_for(future, 30)
        return reply

    async def result(self, command: dict[str, Any]) -> Any:
        reply = await self.call(command)
        if not reply.get("success", False):
            raise RuntimeError(f"{command['type']} failed: {reply.get('error')}")
        return reply.get("result")

    async def ping(self) -> float:
        """Round trip of a ping, in milliseconds."""
        started = time.perf_counter()
        reply = await self.call({"type": "ping"})
        assert reply.get("type") == "pong", reply
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()


@dataclass
class Side:
    """One of the two Home Assistants."""

    name: str
    instance: HassInstance
    ws: Ws
    pings: list[float] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.instance.process.pid


@dataclass(frozen=True)
class Sample:
    at: float
    cpu: Cpu
    rss: float
    counts: Mapping[str, int]


async def sample(side: Side) -> Sample:
    counts = await side.ws.result({"type": "bench_probe/counts"})
    return Sample(time.monotonic(), cpu_of(side.pid), rss_mb(side.pid), counts)


def custom_components_dir(workdir: Path, checkout: Path) -> Path:
    """The integration under test and the probe, side by side."""
    cc = workdir / "custom_components"
    cc.mkdir(parents=True, exist_ok=True)
    integration = (checkout / "custom_components" / "wallbox_modbus").resolve()
    if not (integration / "manifest.json").exists():
        raise SystemExit(f"{integration} is not the integration")
    (cc / "wallbox_modbus").symlink_to(integration, target_is_directory=True)
    shutil.copytree(PROBE, cc / "bench_probe", ignore=shutil.ignore_patterns("__pycache__"))
    return cc


def start_side(name: str, workdir: Path, cc: Path, args: argparse.Namespace) -> HassInstance:
    integrations = [*BASE_INTEGRATIONS, *(() if args.no_recorder else ("recorder", "history"))]
    return start_hass(
        workdir / name,
        custom_components=cc,
        integrations=integrations,
        debug_loggers=(),  # as users run it: warnings only
        extra_yaml="bench_probe:\n",
        hass_bin=args.hass,
    )


def add_entry(instance: HassInstance, model: str, port: int) -> str:
    """One box through the config flow, as the frontend adds it."""
    step = instance.start_config_flow("wallbox_modbus")
    step = instance.config_flow_step(step["flow_id"], {"model": model})
    step = instance.config_flow_step(
        step["flow_id"], {"host": "127.0.0.1", "port": port, "unit_id": 255}
    )
    if step.get("type") != "create_entry":
        raise RuntimeError(f"{model} on port {port}: {step}")
    entry_id: str = step["result"]["entry_id"]
    return entry_id


def set_interval(instance: HassInstance, entry_id: str, seconds: int) -> None:
    step = instance.api("POST", "/api/config/config_entries/options/flow", {"handler": entry_id})
    step = instance.api(
        "POST",
        f"/api/config/config_entries/options/flow/{step['flow_id']}",
        {"scan_interval": seconds},
    )
    if step.get("type") != "create_entry":
        raise RuntimeError(f"options of {entry_id}: {step}")


async def wait_loaded(instance: HassInstance, count: int, within: float = 300) -> None:
    deadline = time.monotonic() + within
    states: Counter[str] = Counter()
    while time.monotonic() < deadline:
        entries = await asyncio.to_thread(instance.config_entries, "wallbox_modbus")
        states = Counter(entry["state"] for entry in entries)
        if states["loaded"] == count:
            return
        await asyncio.sleep(1)
    raise RuntimeError(f"entries not loaded in time: {dict(states)}")


# --------------------------------------------------------------------------- measuring


async def pinger(side: Side, stop: asyncio.Event) -> None:
    while not stop.is_set():
        side.pings.append(await side.ws.ping())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PING_EVERY)


def rate(first: Sample, last: Sample, key: str) -> float:
    return (last.counts[key] - first.counts[key]) / (last.at - first.at)


def cpu_percent(first: Sample, last: Sample, part: str = "total") -> float:
    """% of one core between two samples (part: total, user, system or loop)."""
    spent = getattr(last.cpu, part) - getattr(first.cpu, part)
    return float(spent / (last.at - first.at) * 100)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(
    sides: Sequence[Side], boxes: Boxes, window: float, slice_seconds: float
) -> dict[str, Any]:
    """Both sides over the same window, sampled every slice."""
    stop = asyncio.Event()
    for side in sides:
        side.pings.clear()
    pings = [asyncio.create_task(pinger(side, stop)) for side in sides]
    samples: dict[str, list[Sample]] = {side.name: [] for side in sides}
    requests: list[tuple[float, int]] = []
    started = time.monotonic()
    slices = max(1, round(window / slice_seconds))
    for index in range(slices + 1):
        if index:
            await asyncio.sleep(max(0.0, started + index * slice_seconds - time.monotonic()))
        for side in sides:
            samples[side.name].append(await sample(side))
        requests.append((time.monotonic(), boxes.requests()))
    stop.set()
    await asyncio.gather(*pings)
    result: dict[str, Any] = {"window": time.monotonic() - started, "sides": {}}
    for side in sides:
        series = samples[side.name]
        first, last = series[0], series[-1]
        per_slice = [cpu_percent(a, b) for a, b in pairwise(series)]
        result["sides"][side.name] = {
            "cpu_percent": cpu_percent(first, last),
            "cpu_user_percent": cpu_percent(first, last, "user"),
            "cpu_system_percent": cpu_percent(first, last, "system"),
            "cpu_loop_percent": cpu_percent(first, last, "loop"),
            "cpu_threads_percent": cpu_percent(first, last) - cpu_percent(first, last, "loop"),
            "cpu_slices": per_slice,
            "rss_mb": statistics.median(s.rss for s in series),
            "refreshes_per_s": rate(first, last, "refreshes"),
            "changed_per_s": rate(first, last, "own_changed"),
            "reported_per_s": rate(first, last, "own_reported"),
            "all_changed_per_s": rate(first, last, "state_changed"),
            "all_reported_per_s": rate(first, last, "state_reported"),
            "entities": last.counts["own_entities"],
            "ping_median_ms": statistics.median(side.pings) if side.pings else float("nan"),
            "ping_p95_ms": percentile(side.pings, 0.95),
            "ping_max_ms": max(side.pings, default=float("nan")),
        }
    (t0, r0), (t1, r1) = requests[0], requests[-1]
    result["modbus_requests_per_s"] = (r1 - r0) / (t1 - t0)
    return result


# --------------------------------------------------------------------------- profile


def py_spy() -> Path:
    """py-spy in a venv of the benchmark's own (installed on first use)."""
    binary = BENCH_VENV / "bin" / "py-spy"
    if binary.exists():
        return binary
    print(f"installing py-spy {PY_SPY_VERSION} into {BENCH_VENV} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run(
        [
            str(BENCH_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            f"py-spy=={PY_SPY_VERSION}",
        ],
        check=True,
    )
    return binary


# Where a sample's time goes: the innermost frame of a known module decides.
SELF_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pymodbus (client, framer, transaction)", ("/pymodbus/",)),
    ("device layer (charger/: read, decode, derive, reconcile)", ("/wallbox_modbus/charger/",)),
    ("integration glue (coordinator, entities)", ("/custom_components/wallbox_modbus/",)),
    ("recorder + SQLite", ("/components/recorder/", "/sqlalchemy/", "sqlite3")),
    (
        "websocket / http / frontend",
        ("/components/websocket_api/", "/aiohttp/", "/components/http/"),
    ),
    (
        "entity state (helpers/entity.py, platforms)",
        (
            "/helpers/entity.py",
            "/components/sensor/",
            "/components/number/",
            "/components/binary_sensor/",
            "/components/switch/",
            "/components/select/",
            "/components/lock/",
        ),
    ),
    ("state machine + event bus (core.py)", ("/homeassistant/core.py",)),
    (
        "coordinator + scheduling helpers",
        ("/helpers/update_coordinator.py", "/helpers/event.py", "/helpers/debounce.py"),
    ),
    ("other Home Assistant", ("/homeassistant/",)),
    (
        "json / logging / typing",
        ("/json/", "orjson", "/logging/", "/typing.py", "/enum.py", "/dataclasses.py"),
    ),
    ("asyncio loop, sockets, selectors", ("/asyncio/", "selectors.py", "socket.py")),
)

# What a sample was doing: the first activity (in this order) any frame of its stack matches.
ACTIVITIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("poll: _async_update_data (Modbus reads, decode, reconcile)", ("_async_update_data (",)),
    (
        "notify: entities work out and write their state",
        ("async_update_listeners (", "async_set_updated_data (", "_handle_coordinator_update ("),
    ),
    ("recorder: five-minute statistics compile", ("StatisticsTask.run (",)),
    ("recorder thread: states into the database", ()),
    ("websocket / http", ("/components/websocket_api/", "/aiohttp/web_protocol.py")),
    (
        "coordinator refresh and timers (rest)",
        ("_async_refresh (", "_handle_refresh_interval (", "/helpers/event.py"),
    ),
    ("event loop: select, sockets, callbacks", ("/asyncio/",)),
)


def group_of(frames: Sequence[str], groups: Iterable[tuple[str, tuple[str, ...]]]) -> str:
    """The group of the innermost frame that belongs to one (self time)."""
    groups = list(groups)
    for frame in reversed(frames):
        for name, needles in groups:
            if any(needle in frame for needle in needles):
                return name
    return "other"


def activity_of(thread: str, frames: Sequence[str]) -> str:
    """The first activity that any frame of the stack (or the thread's name) matches."""
    for name, needles in ACTIVITIES:
        if name.startswith("recorder thread"):
            if "Recorder" in thread:
                return name
            continue
        if any(needle in frame for frame in frames for needle in needles):
            return name
    return "other"


def summarise_profile(raw: Path, seconds: float, rate: int, refreshes: int) -> dict[str, Any]:
    """Self time by module group and time by activity, in ms per refresh and % of a core."""
    by_group: Counter[str] = Counter()
    by_activity: Counter[str] = Counter()
    by_stack: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if len(frames) <= 1:
            continue  # a thread without Python frames (idle in C)
        total += count
        by_group[group_of(frames[1:], SELF_GROUPS)] += count
        by_activity[activity_of(frames[0], frames[1:])] += count
        by_stack[" < ".join(frame.split(" (")[0] for frame in reversed(frames[-3:]))] += count

    def table(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {
                "what": name,
                "samples": count,
                "share": count / total if total else 0.0,
                "ms_per_refresh": count / rate * 1000 / refreshes if refreshes else float("nan"),
                "core_percent": count / rate / seconds * 100,
            }
            for name, count in counter.most_common()
        ]

    return {
        "samples": total,
        "rate": rate,
        "seconds": seconds,
        "refreshes": refreshes,
        "by_module": table(by_group),
        "by_activity": table(by_activity),
        # One stack with a large share is a burst: a garbage collection (charged to
        # the allocation that set it off) or the recorder's five-minute statistics.
        "top_stacks": table(Counter(dict(by_stack.most_common(5)))),
    }


async def profile(side: Side, seconds: float, rate: int, out: Path) -> dict[str, Any]:
    binary = await asyncio.to_thread(py_spy)
    before = await sample(side)
    proc = await asyncio.create_subprocess_exec(
        str(binary), "record", "--pid", str(side.pid), "--duration", str(int(seconds)),
        "--rate", str(rate), "--format", "raw", "--nonblocking", "--threads", "--gil",
        "--full-filenames", "--output", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await proc.communicate()
    after = await sample(side)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed: {output.decode(errors='replace')}")
    refreshes = after.counts["refreshes"] - before.counts["refreshes"]
    summary = summarise_profile(out, after.at - before.at, rate, refreshes)
    summary["cpu_percent"] = cpu_percent(before, after)
    summary["raw"] = str(out)
    return summary


# --------------------------------------------------------------------------- report


def git_describe(checkout: Path) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(checkout), "log", "-1", "--format=%h %s"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return str(checkout)


def report(result: dict[str, Any], boxes: int) -> None:
    base = result["sides"]["baseline"]
    load = result["sides"]["loaded"]
    slices = [a - b for a, b in zip(load["cpu_slices"], base["cpu_slices"], strict=True)]
    result["cpu_per_box_percent"] = (load["cpu_percent"] - base["cpu_percent"]) / boxes
    result["cpu_per_box_percent_median"] = statistics.median(slices) / boxes
    result["rss_per_box_mb"] = (load["rss_mb"] - base["rss_mb"]) / boxes
    refreshes = load["refreshes_per_s"]
    writes = load["changed_per_s"] + load["reported_per_s"]
    result["writes_per_refresh"] = writes / refreshes if refreshes else float("nan")
    result["changed_per_refresh"] = load["changed_per_s"] / refreshes if refreshes else float("nan")
    result["requests_per_refresh"] = (
        result["modbus_requests_per_s"] / refreshes if refreshes else float("nan")
    )

    print()
    print(f"checkout:   {result['checkout']}")
    print(f"models:     {result['models']}")
    print(
        f"boxes:      {boxes} at a {result['interval']} s scan interval;"
        f" {result['charging']:.0%} charging; {load['entities']} entities;"
        f" window {result['window']:.0f} s;"
        f" recorder {'off' if result['no_recorder'] else 'on'}"
    )
    rows = [
        ("CPU, % of one core (window)", "cpu_percent", "{:.2f}"),
        ("CPU, % of one core (median slice)", "cpu_median", "{:.2f}"),
        ("  user", "cpu_user_percent", "{:.2f}"),
        ("  system (kernel: sockets, epoll)", "cpu_system_percent", "{:.2f}"),
        ("  event-loop thread", "cpu_loop_percent", "{:.2f}"),
        ("  other threads (recorder, executor)", "cpu_threads_percent", "{:.2f}"),
        ("RSS, MB (median)", "rss_mb", "{:.1f}"),
        ("refreshes / s", "refreshes_per_s", "{:.1f}"),
        ("state_changed / s (wallbox)", "changed_per_s", "{:.1f}"),
        ("state_reported / s (wallbox)", "reported_per_s", "{:.1f}"),
        ("state_changed / s (all)", "all_changed_per_s", "{:.1f}"),
        ("state_reported / s (all)", "all_reported_per_s", "{:.1f}"),
        ("ping round trip, ms (median)", "ping_median_ms", "{:.2f}"),
        ("ping round trip, ms (p95)", "ping_p95_ms", "{:.2f}"),
        ("ping round trip, ms (max)", "ping_max_ms", "{:.2f}"),
    ]
    for side in (base, load):
        side["cpu_median"] = statistics.median(side["cpu_slices"])
    print(f"{'':36} {'baseline':>10} {'loaded':>10} {'difference':>11}")
    for label, key, fmt in rows:
        b, v = base[key], load[key]
        print(f"{label:36} {fmt.format(b):>10} {fmt.format(v):>10} {fmt.format(v - b):>11}")
    print(f"{'Modbus requests / s':36} {'':>10} {result['modbus_requests_per_s']:>10.1f}")
    print()
    print(f"CPU per box:           {result['cpu_per_box_percent']:.4f} % of a core (window),"
          f" {result['cpu_per_box_percent_median']:.4f} % (median of"
          f" {len(slices)} slices of {result['interval']} s)")  # fmt: skip
    print(f"memory per box:        {result['rss_per_box_mb']:.2f} MB")
    print(f"Modbus requests/refresh: {result['requests_per_refresh']:.2f}")
    print(
        f"state writes/refresh:  {result['writes_per_refresh']:.2f}"
        f" (of which changed: {result['changed_per_refresh']:.2f};"
        f" entities per box: {load['entities'] / boxes:.1f})"
    )
    if "profile" in result:
        prof = result["profile"]
        print()
        print(
            f"profile (py-spy, loaded side, {prof['seconds']:.0f} s at {prof['rate']} Hz,"
            f" {prof['samples']} samples, {prof['refreshes']} refreshes,"
            f" CPU {prof['cpu_percent']:.2f} %):"
        )
        sections = (
            ("by module (self time)", "by_module"),
            ("by activity", "by_activity"),
            ("most sampled stacks (innermost first)", "top_stacks"),
        )
        for title, key in sections:
            print(f"  {title:58} {'share':>6} {'ms/refresh':>11} {'% core':>7}")
            for row in prof[key]:
                print(
                    f"  {row['what'][:58]:58} {row['share'] * 100:>5.1f}%"
                    f" {row['ms_per_refresh']:>11.3f} {row['core_percent']:>7.2f}"
                )


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    models = (
        [args.model] * args.boxes
        if args.model
        else [list(MODELS)[i % len(MODELS)] for i in range(args.boxes)]
    )
    checkout = args.checkout.resolve()
    workdir = Path(tempfile.mkdtemp(prefix="wallbox-bench-", dir=args.workdir))
    print(f"work dir {workdir}; integration from {git_describe(checkout)}", flush=True)
    cc = custom_components_dir(workdir, checkout)
    boxes = Boxes(models, args.charging)
    await boxes.start()
    instances: list[HassInstance] = []
    sides: list[Side] = []
    try:
        started = await asyncio.gather(
            asyncio.to_thread(start_side, "baseline", workdir, cc, args),
            asyncio.to_thread(start_side, "loaded", workdir, cc, args),
        )
        instances.extend(started)
        baseline, loaded = started
        print(f"Home Assistant up (pids {baseline.process.pid}, {loaded.process.pid});"
              f" adding {args.boxes} entries ...", flush=True)  # fmt: skip
        t0 = time.monotonic()
        for sim, model in zip(boxes.sims, models, strict=True):
            entry_id = await asyncio.to_thread(add_entry, loaded, model, sim.port)
            if args.interval != 10:
                await asyncio.to_thread(set_interval, loaded, entry_id, args.interval)
        await wait_loaded(loaded, args.boxes)
        print(f"{args.boxes} entries loaded in {time.monotonic() - t0:.0f} s;"
              f" warming up {args.warmup:.0f} s ...", flush=True)  # fmt: skip
        for name, instance in (("baseline", baseline), ("loaded", loaded)):
            ws = Ws(instance)
            await ws.open()
            sides.append(Side(name, instance, ws))
        await asyncio.sleep(args.warmup)
        print(f"measuring {args.window:.0f} s ...", flush=True)
        result = await measure(sides, boxes, args.window, args.interval)
        result.update(
            checkout=git_describe(checkout),
            models=dict(Counter(models)),
            interval=args.interval,
            boxes=args.boxes,
            charging=args.charging,
            no_recorder=args.no_recorder,
        )
        if args.profile:
            seconds = args.profile_window or args.window
            print(f"profiling {seconds:.0f} s with py-spy ...", flush=True)
            out = args.json.with_suffix(".pyspy.txt") if args.json else workdir / "pyspy.txt"
            result["profile"] = await profile(sides[1], seconds, args.rate, out)
        errors = [line for inst in instances for line in inst.log_errors()]
        result["log_errors"] = errors[:20]
        return result
    finally:
        for side in sides:
            await side.ws.close()
        for instance in instances:
            await asyncio.to_thread(instance.stop)
        await boxes.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--boxes", type=int, default=100, help="simulated boxes (default 100)")
    parser.add_argument(
        "--model", choices=sorted(MODELS), help="one model (default: all, round-robin)"
    )
    parser.add_argument("--interval", type=int, default=10, help="scan interval, s (default 10)")
    parser.add_argument(
        "--charging",
        type=float,
        default=1.0,
        help="share of the boxes with a car charging (default 1: all; 0: none, nothing moves)",
    )
    parser.add_argument("--warmup", type=float, default=30, help="seconds before measuring")
    parser.add_argument("--window", type=float, default=60, help="seconds measured")
    parser.add_argument(
        "--checkout", type=Path, default=ROOT, help="checkout whose integration is measured"
    )
    parser.add_argument(
        "--hass", type=Path, default=None, help="hass binary (default: next to this python)"
    )
    parser.add_argument("--no-recorder", action="store_true", help="without recorder and history")
    parser.add_argument("--profile", action="store_true", help="py-spy over a second window")
    parser.add_argument(
        "--profile-window",
        type=float,
        default=None,
        help="seconds profiled (default: --window; 300 takes in one statistics compile)",
    )
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="parent of the temporary config dirs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the config dirs")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    report(result, args.boxes)
    if result["log_errors"]:
        print("\nerrors in home-assistant.log:", *result["log_errors"], sep="\n  ")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
