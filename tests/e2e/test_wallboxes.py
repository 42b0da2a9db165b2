"""End to end in the browser: every model, added through the real config-flow dialog.

One Home Assistant (this checkout's custom_components, fresh config dir) and one
headless Chromium serve the whole module; the six simulated wallboxes run in this
process on a thread of their own (tests/e2e/sim_thread.py), a car charging on every
connector.  For each model, in the real frontend:

1. Settings > Devices & services > Add integration > "Wallbox Modbus", pick the model
   in the dropdown, host 127.0.0.1 and the simulator's port, Submit, the created-entry
   step with the entry's devices listed ("Success!" on 2025.4, "Name and assign" on
   2026.11), Finish;
2. on the page of each charge point device: the power is a non-zero number of watts
   and the status reads "Charging";
3. drag the "Charging current" slider to 10 A: the simulator must receive exactly that
   write (Vestel 5004 = 10, Amperfied 261 = 100 in 0.1 A, Compleo 256 / 272 = 69 in
   100 W for three phases at 230 V), and the page must then show 10.0 A flowing.

Finally Home Assistant's log must hold no "Detected blocking call" and no error or
traceback from wallbox_modbus.

    ~/.cache/wallbox-modbus/ha2025/bin/python -m pytest -p no:homeassistant tests/e2e -q

Runs once per Home Assistant release of the `runtime` fixture (tests/e2e/conftest.py:
2025.4.4 and 2026.11.0), each with simulators of its own.  Screenshots:
artifacts/screenshots/wallbox-ha<release>-NN-<model>-<step>.png (WALLBOX_ARTIFACTS
overrides the folder); a failed step leaves ...-FAILED-<step>.png, and the browser
console goes to wallbox-ha<release>-console.log.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import Locator, expect

from custom_components.wallbox_modbus.charger import MODELS as ALL_MODELS
from tests.e2e.browser import CHROMIUM, HaUi, ha_browser
from tests.e2e.hass_runner import (
    BASE_INTEGRATIONS,
    HISTORY_INTEGRATIONS,
    HaRuntime,
    HassInstance,
    chroot_registrations,
    descendants,
    start_hass,
)
from tests.e2e.sim_thread import SimulatorThread

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_COMPONENTS = ROOT / "custom_components"
INTEGRATION = CUSTOM_COMPONENTS / "wallbox_modbus"
ARTIFACTS = Path(os.environ.get("WALLBOX_ARTIFACTS", ROOT / "artifacts" / "screenshots"))
PREFIX = "wallbox-"
DOMAIN = "wallbox_modbus"

MODELS = (
    "vestel_evc04",
    "amperfied_home",
    "amperfied_business",
    "amperfied_solar",
    "compleo_solo",
    "compleo_duo",
)
TARGET_AMPS = 10
# Register and raw value each model must receive for TARGET_AMPS, per connector
# (None: the box itself).  Compleo is controlled by power in 100 W steps:
# 10 A x 3 phases x 230 V = 6900 W -> 69.
EXPECTED_WRITES: dict[str, dict[int | None, tuple[int, int]]] = {
    "vestel_evc04": {None: (5004, 10)},
    "amperfied_home": {None: (261, 100)},
    "amperfied_business": {None: (261, 100)},
    "amperfied_solar": {None: (261, 100)},
    "compleo_solo": {None: (256, 69)},
    "compleo_duo": {1: (256, 69), 2: (272, 69)},
}
WRITE_TIMEOUT = 25.0  # s from release to the write on the box (Amperfied may hold 20 s)
VALUE_TIMEOUT_MS = 20_000  # ms for a new reading to show on the device page
DEVICE_VIEWPORT = {"width": 1280, "height": 1400}  # the whole device page in one shot

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (apt chromium)"),
]


def _model_labels() -> dict[str, str]:
    """Model id -> the label the model dropdown shows (the map's manufacturer and name)."""
    return {model_id: model.title for model_id, model in ALL_MODELS.items()}


LABELS = _model_labels()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def no_leftovers(runtime: HaRuntime) -> Iterator[None]:
    """Set up first, torn down last: Home Assistant, Chromium and the simulators are gone,
    and (2026.11) the chroot mounts are released.

    The simulators are a thread of this process; their thread must have ended.
    """
    before = set(descendants(os.getpid()))
    yield
    assert not chroot_registrations(os.getpid()), "chroot mounts still held after the test"
    deadline = time.monotonic() + 10
    while (left := {p: c for p, c in descendants(os.getpid()).items() if p not in before}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    threads = [t.name for t in threading.enumerate() if t.name == SimulatorThread.THREAD_NAME]
    assert not left, f"processes left running after the test: {left}"
    assert not threads, f"simulator thread still running: {threads}"


@pytest.fixture(scope="module")
def sims(no_leftovers: None) -> Iterator[SimulatorThread]:
    with SimulatorThread(MODELS) as thread:
        yield thread


@pytest.fixture(scope="module")
def hass(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    runtime: HaRuntime,
    sims: SimulatorThread,
) -> Iterator[HassInstance]:
    if request.config.pluginmanager.has_plugin("homeassistant"):
        pytest.skip("needs the Home Assistant pytest plugin off: pytest -p no:homeassistant")
    # With the recorder, as most installations have it: the device page and the
    # integrations dashboard ask for recorder/info and do not all catch its absence.
    inst = start_hass(
        tmp_path_factory.mktemp("hass-config"),
        custom_components=CUSTOM_COMPONENTS,
        integrations=BASE_INTEGRATIONS + HISTORY_INTEGRATIONS,
        runtime=runtime,
    )
    print(
        f"\nHome Assistant {inst.version} at {inst.base_url}, "
        f"RUNNING after {inst.timings.running:.1f} s"
    )
    try:
        yield inst
    finally:
        code = inst.stop()
        print(f"hass exited with {code}; log: {inst.log_path}")


@pytest.fixture(scope="module")
def ui(hass: HassInstance, runtime: HaRuntime) -> Iterator[HaUi]:
    """One logged-in browser page for the whole module (login through the real page)."""
    assert hass.version == runtime.version, "a different Home Assistant answered"
    prefix = f"{PREFIX}ha{runtime.name}-"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{prefix}*"):
        old.unlink()
    with ha_browser(hass.base_url, artifacts_dir=ARTIFACTS, prefix=prefix) as page_ui:
        page_ui.login(hass.username, hass.password)
        expect(page_ui.page.locator("ha-sidebar").get_by_text("Settings")).to_be_visible()
        page_ui.screenshot("logged-in")
        page_ui.page.set_viewport_size(DEVICE_VIEWPORT)  # type: ignore[arg-type]
        yield page_ui


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def step(ui: HaUi, model: str, name: str) -> Iterator[None]:
    """Name the model and step in a failure, and keep a screenshot of the moment."""
    try:
        yield
    except BaseException as err:
        shot: Path | str = "(no screenshot)"
        with contextlib.suppress(Exception):
            shot = ui.screenshot(f"{model}-FAILED-{name}")
        err.add_note(f"[{model}] step {name!r} failed; screenshot: {shot}")
        raise


@dataclass
class ChargePoint:
    """A device with a charging-current control: the box, or one connector of it."""

    device_id: str
    name: str
    connector: int | None
    entity_ids: dict[str, str]  # key (power, status, ...) -> entity id


def _entry_ids(hass: HassInstance) -> set[str]:
    return {e["entry_id"] for e in hass.config_entries(DOMAIN)}


def _charge_points(hass: HassInstance, entry_id: str) -> tuple[list[str], list[ChargePoint]]:
    """Names of all devices of an entry, and its charge points (devices with the limit).

    A connector device's identifier is "<station identifier>_<n>" (entities.md).
    """
    devices, entities = hass.ws(
        {"type": "config/device_registry/list"}, {"type": "config/entity_registry/list"}
    )
    devices = [d for d in devices if entry_id in d["config_entries"]]
    idents = {d["id"]: next(i[1] for i in d["identifiers"] if i[0] == DOMAIN) for d in devices}
    points: list[ChargePoint] = []
    for device in devices:
        ident = idents[device["id"]]
        # entity unique id: <device identifier>_<key>
        keys = {
            e["unique_id"].removeprefix(f"{ident}_"): e["entity_id"]
            for e in entities
            if e["config_entry_id"] == entry_id and e["device_id"] == device["id"]
        }
        if "charging_current" not in keys:
            continue
        station, _, number = ident.rpartition("_")
        connector = int(number) if number.isdigit() and station in idents.values() else None
        name = device["name_by_user"] or device["name"]
        points.append(ChargePoint(device["id"], name, connector, keys))
    names = [d["name_by_user"] or d["name"] for d in devices]
    return names, sorted(points, key=lambda p: p.connector or 0)


def entity_row(ui: HaUi, name: str) -> Locator:
    """The row of an entity on a device page, by its name (the row's title)."""
    page = ui.page
    return page.locator("ha-device-entities-card hui-generic-entity-row").filter(
        has=page.locator(f'div.info[title="{name}"]')
    )


def drag_slider_to(ui: HaUi, slider: Locator, target: float) -> None:
    """Press on the slider, move until it shows `target`, release: one change event.

    A range input reports its value while the pointer is down, so the pointer looks
    for the right spot (bisection) instead of computing it from the thumb's geometry.
    """
    page = ui.page
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    assert box is not None, "the charging-current slider has no box"
    y = box["y"] + box["height"] / 2
    lo, hi = box["x"], box["x"] + box["width"]
    page.mouse.move(lo + 1, y)
    page.mouse.down()
    seen: list[float] = []
    try:
        for _ in range(30):
            x = (lo + hi) / 2
            page.mouse.move(x, y)
            value = ui.slider_value(slider)
            seen.append(value)
            if abs(value - target) < 1e-6:
                break
            if value < target:
                lo = x
            else:
                hi = x
        else:
            raise AssertionError(f"slider never showed {target} while dragging: {seen}")
    finally:
        page.mouse.up()


def add_through_ui(ui: HaUi, model: str, port: int, *, detailed: bool) -> Locator:
    """Add one wallbox through the add-integration dialog; return the flow dialog.

    Leaves the created-entry step open.  `detailed`: screenshot every step (first model).
    """
    page = ui.page
    label = LABELS[model]

    def shot(name: str) -> None:
        if detailed:
            ui.screenshot(name)

    with step(ui, model, "open-add-integration"):
        ui.goto("/config/integrations/dashboard")
        ui.open_add_integration()
        # Typing before the list has loaded trips a frontend error (virtualizer key of
        # an undefined item in dialog-add-integration); wait for the list first.
        page.locator("dialog-add-integration ha-integration-list-item").first.wait_for()
        ui.wait_idle()
        shot(f"{model}-add-integration")
    with step(ui, model, "search"):
        ui.search_integration("Wallbox Modbus")
        expect(ui.integration_list_item("Wallbox Modbus")).to_have_count(1)
        shot(f"{model}-search")
    with step(ui, model, "choose-model"):
        flow = ui.pick_integration("Wallbox Modbus")
        expect(flow.get_by_text("Choose your wallbox")).to_be_visible()
        combo = ui.flow_select("Model")
        combo.click()
        option = ui.flow_option(label)
        expect(option).to_be_visible()
        ui.wait_idle()
        shot(f"{model}-model-dropdown")
        option.click()
        # the field shows the choice (the menu's own entries are hidden by now)
        expect(flow.get_by_text(label, exact=True).filter(visible=True)).to_have_count(1)
        ui.wait_idle()
        shot(f"{model}-model-chosen")
        ui.submit_flow()
    with step(ui, model, "details"):
        expect(flow.get_by_text(f"Connect to the {label}")).to_be_visible()
        host = ui.flow_field("host")
        port_box = flow.get_by_role("spinbutton", name=re.compile(r"^Port"))
        expect(port_box).to_be_visible()
        shot(f"{model}-details-form")
        host.fill("127.0.0.1")
        port_box.fill(str(port))
        if detailed:
            # The unit id is prefilled with the model's default (255 for the Vestel).
            # (Earlier versions of the flow had it in a collapsed "Advanced settings".)
            if (section := flow.get_by_text("Advanced settings")).count():
                section.click()
            unit_box = flow.get_by_role("spinbutton", name=re.compile(r"^Unit ID"))
            expect(unit_box).to_have_value("255")
        ui.wait_idle()
        ui.screenshot(f"{model}-details-filled")
        ui.submit_flow()
    with step(ui, model, "success"):
        expect(ui.flow_created()).to_be_visible(timeout=30_000)
    return flow


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("model", MODELS)
def test_wallbox_through_the_ui(
    model: str, hass: HassInstance, ui: HaUi, sims: SimulatorThread
) -> None:
    page = ui.page
    before = _entry_ids(hass)
    add_through_ui(ui, model, sims.port(model), detailed=model == MODELS[0])

    with step(ui, model, "entry"):
        new = _entry_ids(hass) - before
        assert len(new) == 1, f"expected one new config entry, got {new}"
        (entry_id,) = new
        (entry,) = [e for e in hass.config_entries(DOMAIN) if e["entry_id"] == entry_id]
        assert entry["state"] == "loaded", entry
        names, points = _charge_points(hass, entry_id)
        expected_connectors = set(EXPECTED_WRITES[model])
        assert {p.connector for p in points} == expected_connectors, (names, points)
        if model == "compleo_duo":
            assert len(names) == 3, f"station + two connectors expected: {names}"
        # The success step lists every device of the new entry.
        ui.expect_flow_lists_devices(names)
        ui.wait_idle()
        ui.screenshot(f"{model}-success")
        ui.finish_flow()

    for point in points:
        where = model if point.connector is None else f"{model}-connector{point.connector}"
        address, raw = EXPECTED_WRITES[model][point.connector]

        with step(ui, where, "device-page"):
            ui.goto(f"/config/devices/device/{point.device_id}")
            expect(page.get_by_text(point.name).first).to_be_visible()
            # Live values: a car charges on every simulator.  (The rows' visible text is
            # their state; the name is in the row's shadow root.  2026.11 puts a no-break
            # space between number and unit: \s, not " ".)
            expect(entity_row(ui, "Power")).to_have_text(
                re.compile(r"^\s*[1-9][\d,.]*\s+W\s*$"), use_inner_text=True
            )
            expect(entity_row(ui, "Status")).to_have_text(
                re.compile(r"^\s*Charging\s*$"), use_inner_text=True
            )
            slider = entity_row(ui, "Charging current").get_by_role("slider")
            expect(slider).to_be_visible()
            start = ui.slider_value(slider)
            ui.wait_idle(500)
            ui.screenshot(f"{where}-device")

        with step(ui, where, "set-current"):
            assert start != TARGET_AMPS, f"the limit is already {TARGET_AMPS} A"
            writes_before = len(sims.writes(model))
            drag_slider_to(ui, slider, TARGET_AMPS)
            seen = sims.wait_for_write(
                model, address, [raw], since=writes_before, timeout=WRITE_TIMEOUT
            )
            to_register = [w for w in seen if w[0] == address]
            assert to_register == [(address, [raw])], (
                f"one write of {raw} to {address} expected, the box got {to_register}"
            )

        with step(ui, where, "after-write"):
            # Home Assistant took the new limit, and the car now draws it.
            number_id = point.entity_ids["charging_current"]
            state = hass.api("GET", f"/api/states/{number_id}")
            assert float(state["state"]) == TARGET_AMPS, state
            ui.expect_slider_value(slider, TARGET_AMPS)
            expect(entity_row(ui, "Current L1")).to_have_text(
                re.compile(rf"^\s*{TARGET_AMPS}(\.0+)?\s+A\s*$"),
                use_inner_text=True,
                timeout=VALUE_TIMEOUT_MS,
            )
            ui.wait_idle(300)
            ui.screenshot(f"{where}-current-{TARGET_AMPS}A")


def _log_records(hass: HassInstance) -> list[str]:
    """home-assistant.log split into records (a record: a timestamped line + what follows)."""
    records: list[str] = []
    text = hass.log_path.read_text(errors="replace") if hass.log_path.exists() else ""
    for line in text.splitlines():
        if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line
    return records


def test_home_assistant_log_is_clean(hass: HassInstance, ui: HaUi) -> None:
    """After all of the above: no event-loop violations, no integration errors."""
    records = _log_records(hass)
    blocking = [r for r in records if "Detected blocking call" in r]
    assert not blocking, "\n".join(blocking)
    ours = [
        r
        for r in records
        if ("wallbox_modbus" in r)
        and (" ERROR (" in r or " CRITICAL (" in r or "Traceback (most recent call last)" in r)
    ]
    assert not ours, "\n\n".join(ours)

    (notifications,) = hass.ws({"type": "persistent_notification/get"})
    invalid = [n for n in notifications if n["notification_id"].startswith("invalid_config")]
    assert not invalid, invalid
    assert not ui.page_errors, f"errors in the page: {ui.page_errors}"
    # Every entry still loaded after the writes.
    states = {e["title"]: e["state"] for e in hass.config_entries(DOMAIN)}
    assert set(states.values()) <= {"loaded"}, states
    print(
        f"\n{len(states)} entries loaded; notifications: "
        f"{[n['notification_id'] for n in notifications]}; log: {hass.log_path}"
    )
