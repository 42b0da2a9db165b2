"""The one-command demo as a newcomer meets it: scripts/run.sh's program, on both ends.

`tests/e2e/run_demo.py` (what scripts/run.sh exec's once the environments exist) runs
as a child process with a fresh config dir, a free port and simulators on free ports.
Once it prints its banner:

1. log in through the real login page: on 2026.11 the first screen is the Wallboxes
   dashboard (2025.4 keeps the default dashboard in the browser, so the test opens
   it); it holds one card per charge point (seven: six boxes, the DUO with two
   connectors), each with the charge point's name, "Charging" and a power in watts;
2. Ctrl-C (SIGINT): the demo exits with 0 and leaves no process and no chroot mount
   behind.

    ~/.cache/wallbox-modbus/ha2025/bin/python -m pytest -p no:homeassistant tests/e2e/test_demo.py

Screenshots: artifacts/screenshots/demo-ha<release>-NN-*.png.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

from custom_components.wallbox_modbus.charger import MODELS
from tests.e2e.browser import CHROMIUM, ha_browser
from tests.e2e.hass_runner import (
    CREDENTIALS_FILE,
    HaRuntime,
    chroot_registrations,
    descendants,
    find_free_port,
)
from tests.e2e.run_demo import DASHBOARD_URL

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("WALLBOX_ARTIFACTS", ROOT / "artifacts" / "screenshots"))
START_TIMEOUT = 240.0  # s until the banner (first start: onboarding, six entries)
# A charge point per box, two for the DUO: what the first screen must show.
CHARGE_POINTS = len(MODELS) + 1

pytestmark = [
    pytest.mark.timeout(420),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (apt chromium)"),
]


@dataclass
class Demo:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)

    def read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "Ctrl-C stops everything." in line:
                self.ready.set()
        self.ready.set()  # exited: stop waiting

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def url(self) -> str:
        for line in self.lines:
            if m := re.match(r"\s*Home Assistant\s+(http://\S+)", line):
                return m.group(1)
        raise AssertionError(f"no URL in the banner:\n{self.output}")


@pytest.fixture(scope="module")
def demo(runtime: HaRuntime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    config_dir = tmp_path_factory.mktemp("demo") / "config"
    cmd = [
        sys.executable,
        str(ROOT / "tests" / "e2e" / "run_demo.py"),
        "--ha",
        runtime.name,
        "--port",
        str(find_free_port()),
        "--config-dir",
        str(config_dir),
        "--sim-args=--base-port 0",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    running = Demo(proc)
    reader = threading.Thread(target=running.read, daemon=True)
    reader.start()
    try:
        assert running.ready.wait(START_TIMEOUT), f"no banner in time:\n{running.output}"
        assert proc.poll() is None, f"the demo exited with {proc.returncode}:\n{running.output}"
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        reader.join(10)


def test_first_screen_shows_every_charge_point_live(demo: Demo, runtime: HaRuntime) -> None:
    banner = demo.output
    assert f"charge points with live values: {CHARGE_POINTS}" in banner, banner
    assert "created, the default dashboard" in banner or runtime.name == "2025.4", banner
    log = re.search(r"log\s+(\S+)/home-assistant\.log", banner)
    assert log is not None, banner
    assert (Path(log.group(1)) / CREDENTIALS_FILE).exists()
    prefix = f"demo-ha{runtime.name}-"
    for old in ARTIFACTS.glob(f"{prefix}*"):
        old.unlink()
    with ha_browser(demo.url(), artifacts_dir=ARTIFACTS, prefix=prefix) as ui:
        ui.page.set_viewport_size({"width": 1280, "height": 1400})
        ui.login("demo", "demo1234")
        if runtime.name != "2025.4":
            # nothing clicked: the first screen is the dashboard
            ui.page.wait_for_url(re.compile(rf"/{DASHBOARD_URL}(/|$)"))
        else:
            ui.goto(f"/{DASHBOARD_URL}")
        tiles = ui.page.locator("hui-tile-card")
        expect(tiles).to_have_count(CHARGE_POINTS)
        for i in range(CHARGE_POINTS):  # (a tile's text lives in its shadow root)
            expect(tiles.nth(i).get_by_text("Charging", exact=True)).to_be_visible()
        powers = ui.page.locator("hui-entities-card hui-generic-entity-row").filter(
            has=ui.page.locator('div.info[title="Power"]')
        )
        expect(powers).to_have_count(CHARGE_POINTS)
        for i in range(CHARGE_POINTS):
            expect(powers.nth(i)).to_have_text(
                re.compile(r"^\s*[1-9][\d,.]*\s+W\s*$"), use_inner_text=True
            )
        ui.wait_idle(500)
        ui.screenshot("first-screen", full_page=True)
        assert not ui.page_errors, ui.page_errors


def test_ctrl_c_leaves_nothing_behind(demo: Demo) -> None:
    pid = demo.proc.pid
    children = descendants(pid)
    assert any("hass" in cmd for cmd in children.values()), children
    assert any("simulators" in cmd for cmd in children.values()), children
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(60) == 0, demo.output
    deadline = time.monotonic() + 10
    while (left := [p for p in children if Path(f"/proc/{p}").exists()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not left, {p: children[p] for p in left}
    assert not chroot_registrations(pid), "the demo left chroot mounts behind"
    assert "stopping ..." in demo.output
