"""The one-command demo: simulated wallboxes + Home Assistant with this checkout's integration.

Started by scripts/run.sh (which prepares the venv); directly:

    ~/.cache/wallbox-modbus/ha2025/bin/python tests/e2e/run_demo.py [--reset] [--port 8123]

Home Assistant's config dir is .demo/config (gitignored) and is kept between runs, so
config entries added in the UI survive; --reset starts from scratch.  Ctrl-C (or
SIGTERM) stops Home Assistant and the simulators; "Restart" in the UI restarts
Home Assistant here (it exits with code 100 for that).
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
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.hass_runner import (  # noqa: E402
    BASE_INTEGRATIONS,
    HISTORY_INTEGRATIONS,
    TIME_ZONE,
    HassError,
    HassInstance,
    die_with_parent,
    port_is_free,
    start_hass,
    wipe_config_dir,
)

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


def _banner(ha: HassInstance, sims: Simulators | None, added: list[str]) -> str:
    lines = [
        "",
        "=" * 64,
        f"  Home Assistant  {ha.base_url}",
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
        lines.append("  add one: Settings > Devices & services > Add integration > Wallbox Modbus,")
        lines.append("           pick the model, host 127.0.0.1 and its port above")
    if added:
        lines.append("  config entries:")
        lines += [f"    {line}" for line in added]
    lines += ["  Ctrl-C stops everything.", "=" * 64, ""]
    return "\n".join(lines)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--config-dir", type=Path, default=DEMO_DIR / "config")
    parser.add_argument("--reset", action="store_true", help="wipe the config dir first")
    parser.add_argument("--no-simulators", action="store_true")
    parser.add_argument(
        "--add",
        action="store_true",
        help="add every simulator as a config entry (by default you add them in the UI)",
    )
    parser.add_argument("--no-history", action="store_true", help="skip recorder/history")
    parser.add_argument(
        "--sim-args", default="", help="extra arguments for `python -m simulators --all`"
    )
    args = parser.parse_args(argv)
    # Explicit for SIGINT too: a shell's background job starts with SIGINT ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)

    if not port_is_free(args.port):
        print(f"port {args.port} is in use (another demo running?); try --port", file=sys.stderr)
        return 1
    if args.reset:
        wipe_config_dir(args.config_dir)
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
        while True:
            print(f"starting Home Assistant on port {args.port} ...", flush=True)
            ha = start_hass(
                args.config_dir,
                port=args.port,
                custom_components=ROOT / "custom_components",
                integrations=integrations,
            )
            added: list[str] = []
            if sims is not None and args.add:
                added = configure_wallboxes(ha, sims.endpoints)
            print(_banner(ha, sims, added), flush=True)
            while ha.is_running() and (sims is None or sims.alive()):
                time.sleep(0.5)
            if sims is not None and not sims.alive():
                print(f"simulators exited; see {sims.log_path}", file=sys.stderr)
                return 1
            code = ha.process.returncode
            if code != RESTART_EXIT_CODE:
                print(f"Home Assistant exited with {code}; see {ha.log_path}", file=sys.stderr)
                return 1
            print("Home Assistant asked for a restart", flush=True)
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
