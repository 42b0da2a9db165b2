"""Drive Home Assistant's real frontend in headless Chromium with Playwright (sync API).

Chromium is Debian's (`apt-get install chromium`, /usr/bin/chromium); Playwright's own
browser download does not work here.  Playwright's CSS and role/text locators pierce
open shadow roots, which is what Home Assistant's web components are built of, so
`input[name=username]` finds the login field inside <ha-authorize>'s shadow DOM.

    with ha_browser(ha.base_url, prefix="smoke-") as ui:
        ui.login(ha.username, ha.password)
        ui.goto("/config/integrations/dashboard")
        ui.screenshot("integrations")

The helpers below work on both frontends the tests run against: 2025.4 (Material
web components: mwc-dialog, search-input, a combobox with options, range inputs) and
2026.11 (Web Awesome: wa-dialog, ha-input-search, a picker button with menu items,
role="slider" divs with aria-valuenow).  Where the two differ, the helper says how.

Requests to anything but Home Assistant (brand icons from brands.home-assistant.io)
are answered locally with an empty body: the machine has no internet and each failed
request would otherwise add a console error and a delay.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    Route,
    ViewportSize,
    WebSocket,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("WALLBOX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
DEFAULT_TIMEOUT_MS = 20_000
# Errors thrown by Home Assistant's own frontend, whatever integration is shown: they
# are kept in the console log but do not fail a test.  The 2025.4 device page reads
# its config entry before the entries have loaded, now and then (seen with core's
# worldclock as well as with ours).
UPSTREAM_PAGE_ERRORS = ("Cannot read properties of null (reading 'recovery_mode')",)


def launch_chromium(pw: Playwright, *, headless: bool = True) -> Browser:
    """Start Debian's Chromium through Playwright."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"{CHROMIUM} missing: apt-get install -y chromium")
    args = [a for a in CHROMIUM_ARGS if headless or a != "--headless"]
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=headless, args=args)


@dataclass
class HaUi:
    """One browser page on a Home Assistant instance, plus screenshot bookkeeping."""

    page: Page
    base_url: str
    artifacts_dir: Path
    prefix: str = ""
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    _shots: int = 0

    # -- basics ----------------------------------------------------------------------

    def screenshot(self, name: str, *, full_page: bool = False) -> Path:
        """Save `NN-name.png` (numbered in call order) into the artifacts dir."""
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        self._shots += 1
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        path = self.artifacts_dir / f"{self.prefix}{self._shots:02d}-{safe}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def goto(self, path: str) -> None:
        """Load base_url + path and wait until the app shell is there.

        A full page load is fine: with "Keep me logged in" (the default) the frontend
        keeps its tokens in localStorage and reconnects without the login page.
        """
        self.page.goto(self.base_url + path)
        self.page.locator("home-assistant-main").wait_for(state="attached")
        self.page.locator("ha-sidebar").first.wait_for()

    def login(self, username: str, password: str) -> None:
        """Log in through the real login page (shadow DOM of <ha-authorize>)."""
        self.page.goto(self.base_url + "/")
        self.page.wait_for_url(re.compile(r"/auth/authorize"))
        self.page.locator("input[name=username]").fill(username)
        self.page.locator("input[name=password]").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(lambda url: "/auth/authorize" not in url)
        self.page.locator("ha-sidebar").first.wait_for()

    def wait_idle(self, ms: int = 300) -> None:
        """Let animations (dialogs fade in) settle before a screenshot."""
        self.page.wait_for_timeout(ms)

    # -- integrations dashboard / add-integration dialog -------------------------------

    def open_add_integration(self) -> Locator:
        """On /config/integrations/dashboard: click "Add integration"; return the dialog.

        The dialog's host elements have no box of their own (Playwright calls them
        hidden), so this waits for its search field instead.
        """
        self.page.get_by_role("button", name="Add integration").click()
        dialog = self.page.locator("dialog-add-integration")
        self.add_integration_search().wait_for()
        return dialog

    def add_integration_search(self) -> Locator:
        # 2025.4: <search-input>, 2026.11: <ha-input-search>
        dialog = "dialog-add-integration"
        return self.page.locator(
            f"{dialog} search-input input, {dialog} ha-input-search input"
        ).first

    def search_integration(self, term: str) -> None:
        box = self.add_integration_search()
        box.fill(term)
        expect(box).to_have_value(term)

    def integration_list_item(self, name: str) -> Locator:
        """A row of the add-integration list whose visible name contains `name`."""
        return self.page.locator("dialog-add-integration ha-integration-list-item").filter(
            has_text=name
        )

    def pick_integration(self, name: str) -> Locator:
        """Click a row of the add-integration list; return the config-flow dialog."""
        self.integration_list_item(name).first.click()
        return self.flow_dialog()

    # -- config-flow dialog (<dialog-data-entry-flow>) ---------------------------------

    def flow_dialog(self) -> Locator:
        return self.page.locator("dialog-data-entry-flow")

    def wait_flow_form(self) -> None:
        """Wait until the flow dialog shows a form with its fields.

        (Not "an input": a 2026.11 form may hold only pickers, which are buttons.)
        """
        self.flow_dialog().locator("step-flow-form ha-form").first.wait_for()
        self.flow_button("Submit").wait_for()

    def flow_field(self, name: str) -> Locator:
        """The input of a flow form field, by its schema key (e.g. "host")."""
        return self.flow_dialog().locator(f"input[name='{name}']")

    def fill_flow(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self.flow_field(key).fill(value)

    def flow_button(self, name: str | re.Pattern[str]) -> Locator:
        return self.flow_dialog().get_by_role("button", name=name)

    def submit_flow(self) -> None:
        self.flow_button("Submit").click()

    def flow_text(self) -> str:
        """Visible text of the flow dialog (title, description, errors)."""
        return self.flow_dialog().locator("ha-dialog").inner_text()

    def flow_select(self, label: str) -> Locator:
        """The dropdown of a select field of a flow form, by its label.

        2025.4: a combobox; 2026.11: an <ha-picker-field> (a button opening a menu).
        """
        dialog = self.flow_dialog()
        return dialog.get_by_role("combobox", name=label).or_(
            dialog.locator(f'ha-picker-field[aria-label="{label}"]')
        )

    def flow_option(self, name: str) -> Locator:
        """An entry of an open flow dropdown: an option (2025.4) or a menu item (2026.11)."""
        dialog = self.flow_dialog()
        return dialog.get_by_role("option", name=name, exact=True).or_(
            dialog.get_by_role("menuitem", name=name, exact=True)
        )

    def flow_created(self) -> Locator:
        """The title of the step after an entry was created.

        2025.4: "Success!"; 2026.11: "Success", or "Name and assign" when the entry
        created devices.
        """
        return self.flow_dialog().get_by_text(re.compile(r"^\s*(Success!?|Name and assign)\s*$"))

    def expect_flow_lists_devices(self, names: list[str]) -> None:
        """The created-entry step lists exactly these devices (call once it shows).

        2025.4 lists them as text; 2026.11 as "Device name" fields to rename them.
        """
        fields = self.flow_dialog().get_by_role("textbox", name="Device name")
        if fields.count():
            values: list[str] = fields.evaluate_all("els => els.map(e => e.value)")
            assert sorted(values) == sorted(names), (values, names)
            return
        for name in names:
            expect(self.flow_dialog().get_by_text(name, exact=True)).to_be_visible()

    def finish_flow(self) -> None:
        """Close the created-entry step ("Finish"; 2026.11: "Skip and finish"), wait until
        the dialog is gone."""
        self.flow_button(re.compile(r"^(Skip and )?finish$", re.IGNORECASE)).click()
        expect(self.flow_dialog().locator("ha-dialog")).to_have_count(0)

    # -- sliders (number entities) -----------------------------------------------------

    @staticmethod
    def slider_value(slider: Locator) -> float:
        """The value a slider shows: a range input's value (2025.4) or aria-valuenow of a
        role="slider" element (2026.11).  Locate it with get_by_role("slider")."""
        value = slider.evaluate("e => e.value ?? e.getAttribute('aria-valuenow')")
        return float(value)

    def expect_slider_value(self, slider: Locator, value: float, timeout_ms: int = 10_000) -> None:
        """Wait until the slider shows `value`."""
        deadline = time.monotonic() + timeout_ms / 1000
        while (seen := self.slider_value(slider)) != value:
            if time.monotonic() > deadline:
                raise AssertionError(f"the slider shows {seen}, not {value}")
            self.page.wait_for_timeout(200)


# A rejected promise whose reason is no Error reaches Playwright as "Object"; log the
# reason itself to the console (<prefix>console.log) to know what it was.
_REJECTION_LOGGER = """
window.addEventListener("unhandledrejection", (event) => {
  let reason;
  try { reason = JSON.stringify(event.reason); } catch (e) { reason = String(event.reason); }
  console.error("unhandledrejection at " + location.pathname + ": " + reason);
});
"""


def _ws_messages(payload: str | bytes) -> list[dict[str, Any]]:
    """Messages of one websocket frame of Home Assistant (an object or a list of them)."""
    data = json.loads(payload)
    return data if isinstance(data, list) else [data]


def _record_diagnostics(ui: HaUi) -> None:
    """Write what explains a page error into the console log: the reason of rejected
    promises, HTTP errors with their URL, websocket commands that failed."""
    page = ui.page
    page.add_init_script(_REJECTION_LOGGER)

    def on_page_error(err: PlaywrightError) -> None:
        ui.console.append(f"pageerror at {page.url}: {err.stack or err}")

    def on_response(resp: Response) -> None:
        if resp.status >= 400:
            ui.console.append(f"HTTP {resp.status} {resp.request.method} {resp.url}")

    def on_websocket(ws: WebSocket) -> None:
        sent: dict[int, str] = {}

        def on_sent(payload: str | bytes) -> None:
            # (an exception in a listener would break Playwright's event dispatch)
            with contextlib.suppress(Exception):
                for msg in _ws_messages(payload):
                    if "id" in msg:
                        sent[msg["id"]] = msg.get("type", "?")

        def on_received(payload: str | bytes) -> None:
            with contextlib.suppress(Exception):
                for msg in _ws_messages(payload):
                    if msg.get("type") == "result" and not msg.get("success", True):
                        command = sent.get(msg.get("id", -1), "?")
                        ui.console.append(f"websocket {command} at {page.url}: {msg.get('error')}")

        ws.on("framesent", on_sent)
        ws.on("framereceived", on_received)

    page.on("pageerror", on_page_error)
    page.on("response", on_response)
    page.on("websocket", on_websocket)


def _answer_offline(route: Route) -> None:
    """Answer a request for the internet locally (empty 200) instead of failing it."""
    route.fulfill(status=200, body=b"")


@contextlib.contextmanager
def ha_browser(
    base_url: str,
    *,
    artifacts_dir: Path | None = None,
    prefix: str = "",
    headless: bool = True,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
) -> Iterator[HaUi]:
    """Chromium with one page on `base_url`; closes everything on exit.

    On an exception a `failure` screenshot is saved; the browser console is written to
    `<prefix>console.log` in the artifacts dir either way.
    """
    artifacts = artifacts_dir or DEFAULT_ARTIFACTS
    with sync_playwright() as pw:
        browser = launch_chromium(pw, headless=headless)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            context.set_default_timeout(timeout_ms)
            context.route(lambda url: not url.startswith(base_url), _answer_offline)
            page = context.new_page()
            ui = HaUi(page=page, base_url=base_url, artifacts_dir=artifacts, prefix=prefix)
            started = time.monotonic()

            def on_console(msg: ConsoleMessage) -> None:
                ui.console.append(f"{time.monotonic() - started:7.2f} {msg.type}: {msg.text}")

            page.on("console", on_console)

            def on_page_error(err: PlaywrightError) -> None:
                if str(err) in UPSTREAM_PAGE_ERRORS:
                    ui.console.append(f"{time.monotonic() - started:7.2f} upstream: {err}")
                else:
                    ui.page_errors.append(str(err))

            page.on("pageerror", on_page_error)
            _record_diagnostics(ui)
            try:
                yield ui
            except BaseException:
                with contextlib.suppress(Exception):
                    ui.screenshot("failure")
                raise
            finally:
                with contextlib.suppress(Exception):
                    artifacts.mkdir(parents=True, exist_ok=True)
                    lines = ui.console + [f"pageerror: {e}" for e in ui.page_errors]
                    (artifacts / f"{prefix}console.log").write_text("\n".join(lines) + "\n")
        finally:
            browser.close()
