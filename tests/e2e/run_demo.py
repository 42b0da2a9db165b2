"""The one-command demo: simulated wallboxes + Home Assistant with this checkout's integration.

Started by scripts/run.sh (which builds or reuses the environments); directly:

    ~/.cache/wallbox-modbus/ha2025/bin/python tests/e2e/run_demo.py [--ha 2025.4] [--empty]

Home Assistant 2026.11 (what users run; Python 3.14 in the sid chroot) by default,
`--ha 2025.4` for the floor.  Every simulated model is added as a config entry through
the config-flow API (as the UI does it), and a "Wallboxes" dashboard with the README's
card for each charge point is created and made the first screen (2026.11; on 2025.4 the
default dashboard is a browser setting, so it is one click away in the sidebar).
`--empty` starts without entries and without the dashboard, to try the config flow; its
config dir is wiped at every start.  Otherwise the config dir (.demo/<release>/config,
gitignored) is kept between runs, so changes made in the UI survive; --reset starts
from scratch.  Ctrl-C (or SIGTERM) stops Home Assistant and the simulators and releases
the chroot mounts; "Restart" in the UI restarts Home Assistant here (exit code 100).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.hass_runner import (  # noqa: E402
    BASE_INTEGRATIONS,
    DEFAULT_RUNTIME,
    HISTORY_INTEGRATIONS,
    TIME_ZONE,
    HassError,
    HassInstance,
    die_with_parent,
    port_is_free,
    runtimes,
    start_hass,
    wipe_config_dir,
)

STARTED = time.monotonic()
DEMO_DIR = ROOT / ".demo"
RESTART_EXIT_CODE = 100


class Simulators:
    """`python -m simulators --all` as a child process; one JSON line per simulator."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.endpoints: list[dict[str, Any]] = []
        self.proc: subprocess.Popen[str] | None = None
        self._last_line = 0.0

    def start(self, extra_args: list[str], timeout: float = 30.0) -> None:
        cmd = [sys.executable, "-m", "simulators", "--all", *extra_args]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + timeout
        # Done when at least one simulator is up and no new line came for a second.
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"simulators exited with {self.proc.returncode}; see {self.log_path}"
                )
            if self.endpoints and time.monotonic() - self._last_line > 1.0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"simulators did not report their ports; see {self.log_path}")

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        with open(self.log_path, "a") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                with contextlib.suppress(json.JSONDecodeError, TypeError):
                    info = json.loads(line)
                    if isinstance(info, dict) and "port" in info:
                        self.endpoints.append(info)
                        self._last_line = time.monotonic()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)


def configure_wallboxes(ha: HassInstance, endpoints: list[dict[str, Any]]) -> list[str]:
    """HOOK (lead): one wallbox_modbus config entry per simulator, via the REST config flow.

    Mirrors what a user does in the UI: step "user" picks the model, step "details"
    takes host and port (unit id left at the model's default).  A simulator that is
    already configured (the config dir is reused) makes the flow abort; that is fine.
    Returns one line per simulator for the banner.
    """
    report: list[str] = []
    for ep in endpoints:
        label = f"{ep['model']} {ep['host']}:{ep['port']}"
        flow_id: str | None = None
        try:
            step = ha.start_config_flow("wallbox_modbus")
            flow_id = step["flow_id"]
            step = ha.config_flow_step(step["flow_id"], {"model": ep["model"]})
            if step.get("type") == "form":
                # the unit id keeps the model's default
                user_input = {"host": ep["host"], "port": int(ep["port"])}
                step = ha.config_flow_step(step["flow_id"], user_input)
        except HassError as err:
            report.append(f"{label}: config flow failed: {err}")
        else:
            if step.get("type") == "create_entry":
                report.append(f"{label}: added as {step['title']!r}")
                continue
            if step.get("type") == "abort":
                report.append(f"{label}: {step.get('reason')}")
                continue
            report.append(f"{label}: flow stopped at {step.get('step_id')}: {step.get('errors')}")
        if flow_id is not None:
            with contextlib.suppress(HassError):
                ha.abort_config_flow(flow_id)
    return report


DOMAIN = "wallbox_modbus"
DASHBOARD_URL = "wallbox-modbus"  # a storage dashboard's url needs a hyphen on 2025.4
DASHBOARD_TITLE = "Wallboxes"
# The entities of the README's card, in its order.
CARD_ROWS = ("charging_enabled", "charging_current", "power", "energy_session", "vehicle_connected")


@dataclass
class ChargePoint:
    """A device with a charging-current control: a box, or one connector of a Compleo DUO."""

    device_id: str
    name: str
    entities: dict[str, str]  # catalog key -> entity id (enabled entities only)
    names: dict[str, str]  # catalog key -> the entity's own name ("Power")


def charge_points(ha: HassInstance) -> list[ChargePoint]:
    """Every charge point of the wallbox_modbus entries, from the registries.

    An entity's unique id is "<device identifier>_<key>" (entities.md); a charge point
    is a device that has the charging-current number.  Entities disabled by default
    are left out (they have no state).
    """
    devices, entities = ha.ws(
        {"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}
    )
    entry_ids = {e["entry_id"] for e in ha.config_entries(DOMAIN)}
    points: list[ChargePoint] = []
    for device in devices:
        if not entry_ids & set(device["config_entries"]):
            continue
        idents = [i[1] for i in device["identifiers"] if i[0] == DOMAIN]
        if not idents:
            continue
        ours = {
            e["unique_id"].removeprefix(f"{idents[0]}_"): e
            for e in entities
            if e["device_id"] == device["id"]
            and e["platform"] == DOMAIN
            and e.get("disabled_by") is None
        }
        if "charging_current" in ours:
            name = device["name_by_user"] or device["name"]
            ids = {key: e["entity_id"] for key, e in ours.items()}
            names = {key: e["original_name"] for key, e in ours.items() if e.get("original_name")}
            points.append(ChargePoint(device["id"], name, ids, names))
    return sorted(points, key=lambda p: p.name)


def wallbox_card(point: ChargePoint) -> dict[str, Any]:
    """The README's dashboard card for one charge point (what exists of it).

    The tile carries the device's name, so the rows show the entities' own names
    ("Power" rather than "Compleo DUO connector 1 Power").
    """
    ids = point.entities
    cards: list[dict[str, Any]] = []
    if "status" in ids:
        cards.append({"type": "tile", "entity": ids["status"], "name": point.name})
    rows = [
        {"entity": ids[key], **({"name": point.names[key]} if key in point.names else {})}
        for key in CARD_ROWS
        if key in ids
    ]
    if rows:
        cards.append({"type": "entities", "entities": rows})
    if "energy_total" in ids:
        cards.append(
            {
                "type": "statistics-graph",
                "entities": [ids["energy_total"]],
                "stat_types": ["change"],
                # the README says "day"; five minutes fill the graph while you watch
                "period": "5minute",
                "days_to_show": 1,
            }
        )
    return {"type": "vertical-stack", "cards": cards}


def dashboard_config(points: list[ChargePoint]) -> dict[str, Any]:
    return {
        "title": DASHBOARD_TITLE,
        "views": [
            {
                "title": DASHBOARD_TITLE,
                "path": "wallboxes",
                "icon": "mdi:ev-station",
                "cards": [wallbox_card(p) for p in points],
            }
        ],
    }


def ensure_dashboard(ha: HassInstance, points: list[ChargePoint]) -> str:
    """Create the "Wallboxes" dashboard once (later edits in the UI are kept).

    Over the websocket API, as the dashboard editor does it.  On 2026.11 it also
    becomes the first screen for everyone (the system-wide default dashboard, unless
    one was chosen already); 2025.4 keeps that choice in the browser only.
    """
    (dashboards,) = ha.ws({"type": "lovelace/dashboards/list"})
    if any(d["url_path"] == DASHBOARD_URL for d in dashboards):
        return "kept"
    ha.ws(
        {
            "type": "lovelace/dashboards/create",
            "url_path": DASHBOARD_URL,
            "title": DASHBOARD_TITLE,
            "icon": "mdi:ev-station",
            "show_in_sidebar": True,
            "require_admin": False,
            "mode": "storage",
        },
        {
            "type": "lovelace/config/save",
            "url_path": DASHBOARD_URL,
            "config": dashboard_config(points),
        },
    )
    try:
        (system,) = ha.ws({"type": "frontend/get_system_data", "key": "core"})
    except HassError:
        return "created (default dashboard: a browser setting on this release)"
    core = (system or {}).get("value") or {}
    if core.get("default_panel") is None:
        ha.ws(
            {
                "type": "frontend/set_system_data",
                "key": "core",
                "value": {**core, "default_panel": DASHBOARD_URL},
            }
        )
        return "created, the default dashboard"
    return f"created (default dashboard stays {core['default_panel']!r})"


def wait_for_live_values(ha: HassInstance, timeout: float = 60.0) -> list[ChargePoint]:
    """Wait until every charge point's power has a numeric state; return the points."""
    deadline = time.monotonic() + timeout
    while True:
        points = charge_points(ha)
        states = {s["entity_id"]: s["state"] for s in ha.states()}
        waiting = [p.name for p in points if not _numeric(states.get(p.entities.get("power", "")))]
        if points and not waiting:
            return points
        if time.monotonic() > deadline:
            raise HassError(f"no live values after {timeout:.0f} s from: {waiting or 'any box'}")
        time.sleep(0.5)


def _numeric(state: str | None) -> bool:
    try:
        float(state or "")
    except ValueError:
        return False
    return True


def _banner(
    ha: HassInstance,
    sims: Simulators | None,
    added: list[str],
    points: list[ChargePoint],
    dashboard: str | None,
    since: float,
) -> str:
    release = ha.version or (ha.runtime.name if ha.runtime else "?")
    lines = [
        "",
        "=" * 68,
        f"  Home Assistant  {ha.base_url}   (Home Assistant {release})",
        f"  user / password {ha.username} / {ha.password}",
        f"  ready after     {ha.timings.running:.1f} s"
        + ("  (first start: onboarded)" if ha.onboarded_now else ""),
        f"  log             {ha.log_path}",
    ]
    if sims is not None:
        lines.append("  simulated wallboxes (Modbus TCP):")
        lines += [
            f"    {ep.get('model', '?'):<24} {ep.get('host', '127.0.0.1')}:{ep['port']}"
            for ep in sims.endpoints
        ]
    if added:
        lines.append("  config entries:")
        lines += [f"    {line}" for line in added]
    if points:
        lines.append(f"  charge points with live values: {len(points)}")
    what = "entries, dashboard" if added else "Home Assistant"
    lines.append(f"  all ready after {time.monotonic() - since:.1f} s ({what})")
    if dashboard is not None:
        lines.append(f"  dashboard       {ha.base_url}/{DASHBOARD_URL}  ({dashboard})")
    if sims is not None and not added:
        lines.append("  add one: Settings > Devices & services > Add integration > Wallbox Modbus,")
        lines.append("           pick the model, host 127.0.0.1 and its port above")
    lines += ["  Ctrl-C stops everything.", "=" * 68, ""]
    return "\n".join(lines)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    releases = runtimes()
    parser.add_argument(
        "--ha",
        choices=sorted(releases),
        default=DEFAULT_RUNTIME,
        help=f"Home Assistant release (default {DEFAULT_RUNTIME}, what users run)",
    )
    parser.add_argument(
        "--empty",
        action="store_true",
        help="no wallboxes and no dashboard, to try the config flow (a fresh config dir)",
    )
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--config-dir", type=Path, default=None, help="default: .demo/<release>/config"
    )
    parser.add_argument("--reset", action="store_true", help="wipe the config dir first")
    parser.add_argument("--no-simulators", action="store_true")
    parser.add_argument("--no-history", action="store_true", help="skip recorder/history")
    parser.add_argument(
        "--sim-args", default="", help="extra arguments for `python -m simulators --all`"
    )
    args = parser.parse_args(argv)
    # Explicit for SIGINT too: a shell's background job starts with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)

    runtime = releases[args.ha]
    if (why := runtime.missing()) is not None:
        print(f"error: {why}", file=sys.stderr)
        return 1
    config_dir: Path = args.config_dir or (
        DEMO_DIR / args.ha / ("empty-config" if args.empty else "config")
    )
    if not port_is_free(args.port):
        print(f"port {args.port} is in use (another demo running?); try --port", file=sys.stderr)
        return 1
    if args.reset or args.empty:
        wipe_config_dir(config_dir)
    DEMO_DIR.mkdir(exist_ok=True)
    integrations = BASE_INTEGRATIONS + (() if args.no_history else HISTORY_INTEGRATIONS)

    sims: Simulators | None = None
    ha: HassInstance | None = None
    try:
        # ---- simulators ----------------------------------------------------------------
        if not args.no_simulators:
            sims = Simulators(DEMO_DIR / "simulators.log")
            print("starting simulators ...", flush=True)
            # The boxes' clocks in Home Assistant's time zone, as an owner sets a box up.
            sims.start(["--time-zone", TIME_ZONE, *args.sim_args.split()])
        # ---- Home Assistant --------------------------------------------------------------
        since = STARTED  # the first banner counts from the command, later ones from the restart
        while True:
            print(f"starting Home Assistant {runtime.version} on port {args.port} ...", flush=True)
            ha = start_hass(
                config_dir,
                port=args.port,
                custom_components=ROOT / "custom_components",
                integrations=integrations,
                runtime=runtime,
            )
            added: list[str] = []
            points: list[ChargePoint] = []
            dashboard: str | None = None
            if sims is not None and not args.empty:
                added = configure_wallboxes(ha, sims.endpoints)
                points = wait_for_live_values(ha)
                dashboard = ensure_dashboard(ha, points)
            print(_banner(ha, sims, added, points, dashboard, since), flush=True)
            while ha.is_running() and (sims is None or sims.alive()):
                time.sleep(0.5)
            if sims is not None and not sims.alive():
                print(f"simulators exited; see {sims.log_path}", file=sys.stderr)
                return 1
            code = ha.stop()
            if code != RESTART_EXIT_CODE:
                print(f"Home Assistant exited with {code}; see {ha.log_path}", file=sys.stderr)
                return 1
            print("Home Assistant asked for a restart", flush=True)
            since = time.monotonic()
            # wait for the port to be released before binding it again
            while not port_is_free(args.port):
                time.sleep(0.2)
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except (HassError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip this
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if ha is not None:
            ha.stop()
        if sims is not None:
            sims.stop()


if __name__ == "__main__":
    sys.exit(main())
