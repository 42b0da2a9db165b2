"""Six simulated wallboxes in one real Home Assistant, for the fuzz and the soak.

``HaRig`` starts the simulators on a thread of this process (tests/e2e/sim_thread.py,
which is also the control channel: faults are switched on the simulator objects
through ``sims.call``), starts Home Assistant from the running interpreter's venv
(tests/e2e/hass_runner.py), adds one entry per model through the config-flow API,
and then answers what both scripts check:

- ``entities()``: every entity of the integration, with its catalog key, connector
  and model;
- ``differences()``: what Home Assistant shows against what the boxes hold (limits,
  pause, settings, phases, lock) and entities that are unavailable;
- ``box_facts()``: per box, the writes outside the valid values, the keepalive
  lapses (the box fell back for want of a keepalive), the most connections it had
  at once against the most it allows;
- ``log()``: lines of home-assistant.log by level and by who wrote them, and
  tracebacks;
- ``rss_mb()``: Home Assistant's resident memory.

``Ws`` is a websocket client that keeps one connection and lets many service calls
run at once (bursts), each answered by its id.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import re
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from custom_components.wallbox_modbus.charger import MODELS
from custom_components.wallbox_modbus.charger.codec import decode
from custom_components.wallbox_modbus.charger.registers import Point
from simulators.base import WallboxSimulator
from tests.e2e.hass_runner import BASE_INTEGRATIONS, HassInstance, start_hass
from tests.e2e.sim_thread import SimulatorThread

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_COMPONENTS = ROOT / "custom_components"
DOMAIN = "wallbox_modbus"
ALL_MODELS = (
    "vestel_evc04",
    "amperfied_home",
    "amperfied_business",
    "amperfied_solar",
    "compleo_solo",
    "compleo_duo",
)
REPLY_TIMEOUT = 60.0  # s for Home Assistant to answer one command
VOLTAGE = 230
CAR_PHASES = 3
OURS = ("custom_components.wallbox_modbus", "pymodbus")
LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ "
    r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) \([^)]*\) \[([^\]]+)\] (.*)$"
)


# --------------------------------------------------------------------------- websocket


class Ws:
    """One authenticated websocket; ``call`` may run many at once."""

    def __init__(self, ha: HassInstance) -> None:
        self._ha = ha
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._session: Any = None
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ws:
        import aiohttp

        self._session = aiohttp.ClientSession()
        url = self._ha.base_url.replace("http", "ws", 1) + "/api/websocket"
        self._ws = await self._session.ws_connect(url, max_msg_size=0)
        await self._ws.receive_json()  # auth_required
        await self._ws.send_json({"type": "auth", "access_token": self._ha.token()})
        if (msg := await self._ws.receive_json())["type"] != "auth_ok":
            raise RuntimeError(f"websocket auth failed: {msg}")
        self._reader = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _read(self) -> None:
        while True:
            msg = await self._ws.receive_json()
            future = self._waiting.pop(msg.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(msg)

    async def send(self, command: dict[str, Any]) -> dict[str, Any]:
        """Send a command; the whole reply (success, result or error)."""
        msg_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        await self._ws.send_json({**command, "id": msg_id})
        try:
            return await asyncio.wait_for(future, REPLY_TIMEOUT)
        finally:
            self._waiting.pop(msg_id, None)

    async def call(
        self, domain: str, service: str, entity_id: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.send(
            {
                "type": "call_service",
                "domain": domain,
                "service": service,
                "service_data": {**(data or {})},
                "target": {"entity_id": entity_id},
            }
        )


# --------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Entity:
    entity_id: str
    domain: str
    key: str
    connector: int | None  # None: the box (or station) itself, or a single connector
    model: str
    enabled: bool


@dataclass
class LogFigures:
    minutes: float
    by_level: Counter[str] = field(default_factory=Counter)
    ours_by_level: Counter[str] = field(default_factory=Counter)
    ours_lines: list[str] = field(default_factory=list)  # ours, INFO and above
    tracebacks: int = 0
    traceback_heads: list[str] = field(default_factory=list)

    def per_minute(self, levels: Sequence[str] = ("INFO", "WARNING", "ERROR", "CRITICAL"),
                   *, ours: bool = False) -> float:  # fmt: skip
        counts = self.ours_by_level if ours else self.by_level
        return sum(counts[level] for level in levels) / max(self.minutes, 1e-9)


class HaRig:
    """Simulators of some models, one Home Assistant, one entry per model."""

    def __init__(self, config_dir: Path, models: Sequence[str] = ALL_MODELS) -> None:
        self.config_dir = config_dir
        self.models = list(models)
        self.sims = SimulatorThread(self.models, car_phases=CAR_PHASES)
        self.ha: HassInstance | None = None
        self.entry_ids: dict[str, str] = {}
        self._entities: list[Entity] = []
        self._earlier_logs: list[str] = []  # Home Assistant starts a new log at each start
        self.started = time.monotonic()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> HaRig:
        if self.config_dir.exists():
            shutil.rmtree(self.config_dir)
        self.sims.start()
        self.start_hass()
        for model in self.models:
            self._add_entry(model)
        self.wait_loaded()
        self._entities = self._read_entities()
        return self

    def start_hass(self) -> HassInstance:
        self.ha = start_hass(
            self.config_dir, custom_components=CUSTOM_COMPONENTS, integrations=BASE_INTEGRATIONS
        )
        return self.ha

    def restart_hass(self) -> float:
        """Stop Home Assistant and start it again; seconds it was away."""
        assert self.ha is not None
        began = time.monotonic()
        self.ha.stop()
        if self.ha.log_path.exists():
            self._earlier_logs.append(self.ha.log_path.read_text(errors="replace"))
        self.start_hass()
        self.wait_loaded()
        return time.monotonic() - began

    def stop(self) -> None:
        if self.ha is not None:
            self.ha.stop()
        self.sims.stop()

    def __enter__(self) -> HaRig:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def hass(self) -> HassInstance:
        assert self.ha is not None
        return self.ha

    def _add_entry(self, model: str) -> None:
        step = self.hass.start_config_flow(DOMAIN)
        step = self.hass.config_flow_step(
            step["flow_id"],
            {"model": model, "host": "127.0.0.1", "port": self.sims.port(model), "unit_id": 255},
        )
        if step.get("type") != "create_entry":
            raise RuntimeError(f"{model}: the config flow ended in {step}")

    def wait_loaded(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entries = self.hass.config_entries(DOMAIN)
            if len(entries) == len(self.models) and all(e["state"] == "loaded" for e in entries):
                self.entry_ids = {e["title"]: e["entry_id"] for e in entries}
                return
            time.sleep(0.5)
        raise RuntimeError(f"entries not loaded in time: {self.hass.config_entries(DOMAIN)}")

    # ---------------------------------------------------------------- entities

    def sim(self, model: str) -> WallboxSimulator:
        return self.sims.sims[model]

    def _device_bases(self) -> dict[str, str]:
        """config entry id -> model; the entities' unique ids start with the entry's
        unique id (the serial number) or, for a box without one, with the entry id."""
        by_title = {MODELS[m].title: m for m in self.models}
        return {
            e["entry_id"]: by_title[e["title"]]
            for e in self.hass.config_entries(DOMAIN)
            if e["title"] in by_title
        }

    def _serial(self, model: str) -> str:
        sim = self.sim(model)
        return str(self.sims.call(lambda: sim.bank.get("serial_number")))

    def _read_entities(self) -> list[Entity]:
        registry = self.hass.ws({"type": "config/entity_registry/list"})[0]
        models = self._device_bases()
        found: list[Entity] = []
        for item in registry:
            if item["platform"] != DOMAIN or item["config_entry_id"] not in models:
                continue
            key = item["translation_key"]
            uid: str = item["unique_id"]
            model = models[item["config_entry_id"]]
            entry_id = item["config_entry_id"]
            base = entry_id if uid.startswith(f"{entry_id}_") else self._serial(model)
            middle = uid[len(base) + 1 : -len(key)].rstrip("_")
            found.append(
                Entity(
                    entity_id=item["entity_id"],
                    domain=item["entity_id"].split(".", 1)[0],
                    key=key,
                    connector=int(middle) if middle else None,
                    model=model,
                    enabled=item["disabled_by"] is None,
                )
            )
        return sorted(found, key=lambda e: e.entity_id)

    def entities(self, *domains: str) -> list[Entity]:
        return [e for e in self._entities if e.enabled and (not domains or e.domain in domains)]

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self.hass.states()}

    # ---------------------------------------------------------------- the boxes

    def _box_point(self, model: str, key: str, connector: int | None) -> Point | None:
        points = self.sim(model).bank.points
        if connector is not None and f"{key}@{connector}" in points:
            return points[f"{key}@{connector}"]
        if key in points:
            return points[key]
        with_key = [p for p in points.values() if p.key == key]
        return with_key[0] if len(with_key) == 1 and connector is None else None

    def _limit_point(self, model: str, connector: int | None) -> Point | None:
        limit = MODELS[model].regmap.behaviour.limit
        return None if limit is None else self._box_point(model, limit.point, connector)

    def box_value(self, model: str, point: Point) -> Any:
        sim = self.sim(model)
        return self.sims.call(lambda: decode(point, sim.bank.words(point)))

    def differences(self) -> list[str]:
        """What Home Assistant shows against what the boxes hold, and unavailable entities."""
        states = self.states()
        found: list[str] = []
        for ent in self.entities():
            state = states.get(ent.entity_id)
            if state is None:
                found.append(f"{ent.entity_id}: no state")
                continue
            value = state["state"]
            if value == "unavailable" and self.box_status(ent) != "unavailable":
                # (the catalog's status vocabulary has an OCPP state of that name too:
                # the box says "locked or not ready"; Home Assistant cannot tell them apart)
                found.append(f"{ent.entity_id}: unavailable")
                continue
            found += self._difference(ent, value)
        return found

    def box_status(self, ent: Entity) -> Any:
        """The catalog status the box reports now (status entities only, else None)."""
        if ent.key != "status" or ent.domain != "sensor":
            return None
        rule = next(
            (r for r in MODELS[ent.model].regmap.behaviour.derive if r.key == "status"), None
        )
        source = self._box_point(ent.model, "status" if rule is None else str(rule.source),
                                 ent.connector)  # fmt: skip
        if source is None:
            return None
        value = self.box_value(ent.model, source)
        return value if rule is None or rule.mapping is None else rule.mapping.get(value)

    def _difference(self, ent: Entity, value: str) -> list[str]:
        regmap = MODELS[ent.model].regmap
        limit = regmap.behaviour.limit
        limit_point = self._limit_point(ent.model, ent.connector)
        if ent.key in ("charging_enabled", "charging_current") and limit_point and limit:
            raw = int(self.sims.call(lambda: self.sim(ent.model).bank.raw(limit_point.id)))
            paused = raw == limit.pause
            if ent.key == "charging_enabled":
                on = value == "on"
                return [] if on != paused else [f"{ent.entity_id}: {value}, box holds {raw}"]
            if paused:
                return []  # the number shows the limit that resuming restores
            amps = float(value)
            if limit.power is not None:
                watts_per_step = limit_point.scale
                wanted = math.ceil(round(amps * CAR_PHASES * VOLTAGE / watts_per_step, 6))
                assert limit_point.write is not None
                wanted = min(wanted, limit_point.write.bounds()[1])
            else:
                wanted = round(amps / limit_point.scale)
            return [] if wanted == raw else [f"{ent.entity_id}: {value} A, box holds {raw}"]
        if ent.domain == "number":
            point = self._box_point(ent.model, ent.key, ent.connector)
            if point is None:
                return [f"{ent.entity_id}: no register {ent.key} on the box"]
            box = self.box_value(ent.model, point)
            if isinstance(box, (int, float)) and math.isclose(float(value), box, abs_tol=1e-6):
                return []
            return [f"{ent.entity_id}: {value}, box holds {box}"]
        if ent.domain == "select" and ent.key == "phases":
            spec = regmap.behaviour.phase_switch
            assert spec is not None
            state_point = self._box_point(ent.model, spec.state, None)
            assert state_point is not None
            box = self.box_value(ent.model, state_point)
            if box == spec.switching:
                return []  # switching: Home Assistant shows unknown meanwhile
            return [] if str(box) == value else [f"{ent.entity_id}: {value}, box has {box}"]
        if ent.domain == "lock":
            lock = regmap.behaviour.remote_lock
            point = self._box_point(ent.model, ent.key, None)
            assert lock is not None and point is not None
            box = self.box_value(ent.model, point)
            locked = box == lock.locked
            return [] if locked == (value == "locked") else [f"{ent.entity_id}: {value}, box {box}"]
        return []

    def box_facts(self) -> dict[str, dict[str, Any]]:
        """Per box: invalid writes, keepalive lapses, connections, writes taken."""

        def facts() -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for model, sim in self.sims.sims.items():
                stats = sim.server.stats
                out[model] = {
                    "invalid_writes": [
                        f"{w.point}={w.raw} ({w.why})" for w in sim.bank.invalid_writes
                    ],
                    "lapses": list(sim.lapses),
                    "max_concurrent": stats.max_concurrent,
                    "max_connections": sim.model.regmap.max_connections,
                    "writes": stats.writes,
                    "reads": stats.reads,
                    "connections": stats.connections_accepted,
                    "refused": stats.connections_refused,
                    "fallen_back": sim.fallen_back(),
                    "events": list(sim.events),
                }
            return out

        return self.sims.call(facts)

    # ---------------------------------------------------------------- Home Assistant

    def log(self) -> LogFigures:
        """Lines of home-assistant.log since the start (every run of it) and tracebacks."""
        path = self.hass.log_path
        text = path.read_text(errors="replace") if path.exists() else ""
        figures = LogFigures(minutes=(time.monotonic() - self.started) / 60)
        lines = [line for t in [*self._earlier_logs, text] for line in t.splitlines()]
        for i, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                figures.tracebacks += 1
                head = next((lines[j] for j in range(i - 1, -1, -1) if LINE.match(lines[j])), "")
                figures.traceback_heads.append(head[:300])
                continue
            match = LINE.match(line)
            if match is None:
                continue
            level, logger, _ = match.groups()
            figures.by_level[level] += 1
            if logger.startswith(OURS):
                figures.ours_by_level[level] += 1
                if level != "DEBUG":
                    figures.ours_lines.append(line)
        return figures

    def rss_mb(self) -> float:
        """Resident memory of the hass process, MB."""
        status = Path(f"/proc/{self.hass.process.pid}/status").read_text()
        kb = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        return kb / 1024


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]
