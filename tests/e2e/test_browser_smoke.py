"""Browser smoke test: real Home Assistant, real frontend, headless Chromium.

Plain synchronous pytest; the Home Assistant pytest plugin must be off, because its
autouse fixtures (event loop, socket guard, thread checks) are meant for in-process
tests.  Run from the repository root with the ha2025 venv:

    ~/.cache/wallbox-modbus/ha2025/bin/python -m pytest -p no:homeassistant tests/e2e -v

Runs on every Home Assistant release of the `runtime` fixture (tests/e2e/conftest.py).
Screenshots go to artifacts/screenshots/smoke-ha<release>-NN-*.png (WALLBOX_ARTIFACTS
overrides the folder).

The path exercised here is the one the integration's own end-to-end test takes (log
in, integrations dashboard, "Add integration", search, pick, fill the config-flow
form, submit, then the device page), against the built-in Worldclock integration (no
requirements, no network), so a failure here points at the harness or the frontend
rather than at wallbox_modbus.  It also checks that wallbox_modbus is listed and
that its load left no errors.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

from playwright.sync_api import expect

from tests.e2e.browser import CHROMIUM, ha_browser
from tests.e2e.hass_runner import (
    BASE_INTEGRATIONS,
    HISTORY_INTEGRATIONS,
    HaRuntime,
    HassInstance,
    start_hass,
)

ROOT = Path(__file__).resolve().parents[2]
CUSTOM_COMPONENTS = ROOT / "custom_components"
ARTIFACTS = Path(os.environ.get("WALLBOX_ARTIFACTS", ROOT / "artifacts" / "screenshots"))

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing (apt chromium)"),
]


def _custom_integration_name() -> str | None:
    manifest = CUSTOM_COMPONENTS / "wallbox_modbus" / "manifest.json"
    if not manifest.exists():
        return None
    name: str = json.loads(manifest.read_text())["name"]
    return name


@pytest.fixture(scope="module")
def hass(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, runtime: HaRuntime
) -> Iterator[HassInstance]:
    if request.config.pluginmanager.has_plugin("homeassistant"):
        pytest.skip("needs the Home Assistant pytest plugin off: pytest -p no:homeassistant")
    started = time.monotonic()
    # With the recorder, as most installations have it: the device page asks for
    # recorder/info, and without it an unhandled rejection ("Object") is a page error
    # on 2026.11 always and on 2025.4 when the request wins a race.
    inst = start_hass(
        tmp_path_factory.mktemp("hass-config"),
        custom_components=CUSTOM_COMPONENTS,
        runtime=runtime,
        integrations=BASE_INTEGRATIONS + HISTORY_INTEGRATIONS,
    )
    print(
        f"\nHome Assistant {inst.version} at {inst.base_url}: "
        f"HTTP after {inst.timings.http_up:.1f} s, "
        f"onboarded after {inst.timings.authenticated:.1f} s, "
        f"RUNNING after {inst.timings.running:.1f} s "
        f"(start_hass returned after {time.monotonic() - started:.1f} s)"
    )
    try:
        yield inst
    finally:
        code = inst.stop()
        print(f"hass exited with {code}; log: {inst.log_path}")


def test_add_integration_through_the_ui(hass: HassInstance, runtime: HaRuntime) -> None:
    assert hass.version == runtime.version, "a different Home Assistant answered"
    t0 = time.monotonic()
    prefix = f"smoke-ha{runtime.name}-"
    with ha_browser(hass.base_url, artifacts_dir=ARTIFACTS, prefix=prefix) as ui:
        page = ui.page

        ui.login(hass.username, hass.password)
        expect(page).to_have_title(re.compile("Home Assistant"))
        expect(page.locator("ha-sidebar").get_by_text("Settings")).to_be_visible()
        ui.screenshot("logged-in")

        ui.goto("/config/integrations/dashboard")
        # 2025.4 titles the page "Settings", 2026.11 "Integrations"
        expect(page).to_have_title(re.compile(r"^(Settings|Integrations) "))
        expect(page.get_by_role("button", name="Add integration")).to_be_visible()
        ui.screenshot("integrations-dashboard")

        dialog = ui.open_add_integration()
        expect(dialog.get_by_text("Select brand")).to_be_visible()
        ui.wait_idle()
        ui.screenshot("add-integration-dialog")

        if (custom_name := _custom_integration_name()) is not None:
            ui.search_integration(custom_name)
            expect(ui.integration_list_item(custom_name).first).to_be_visible()
            ui.screenshot("search-custom-integration")

        ui.search_integration("worldclock")
        expect(ui.integration_list_item("Worldclock")).to_have_count(1)
        ui.screenshot("search-worldclock")

        ui.pick_integration("Worldclock")
        ui.wait_flow_form()
        # 2025.4 asks for a name (a text field); 2026.11 only for time zone and format,
        # prefilled, and names the entry after the time zone.
        named = ui.flow_field("name").count() > 0
        if named:
            expect(ui.flow_field("name")).to_have_value("Worldclock Sensor")
            ui.fill_flow({"name": "E2E clock"})
        ui.screenshot("config-flow-form")
        ui.submit_flow()
        expect(ui.flow_created()).to_be_visible()
        ui.screenshot("config-flow-success")
        ui.finish_flow()

        (entry,) = hass.config_entries("worldclock")
        assert entry["state"] == "loaded", entry
        if named:
            assert entry["title"] == "E2E clock"
        (registry,) = hass.ws({"type": "config/entity_registry/list"})
        (sensor,) = [e for e in registry if e["config_entry_id"] == entry["entry_id"]]
        device_id = sensor["device_id"]
        assert re.fullmatch(r"[0-9a-f]{32}", device_id or ""), sensor

        ui.goto(f"/config/devices/device/{device_id}")
        expect(page.get_by_text(entry["title"]).first).to_be_visible()
        expect(page.get_by_text("Sensors").first).to_be_visible()
        ui.wait_idle(500)
        ui.screenshot("device-page")

        assert not ui.page_errors, ui.page_errors
    print(f"browser part took {time.monotonic() - t0:.1f} s")

    # Integrations that fail to set up from YAML or at start-up are reported as
    # "invalid_config" notifications; config-entry failures show up in the log.
    (notifications,) = hass.ws({"type": "persistent_notification/get"})
    invalid = [n for n in notifications if n["notification_id"].startswith("invalid_config")]
    assert not invalid, invalid

    problems = [line for line in hass.log_errors() if "wallbox_modbus" in line]
    assert not problems, "\n".join(problems)
