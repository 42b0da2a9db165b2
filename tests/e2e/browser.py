"""Drive Home Assistant's real frontend in headless Chromium with Playwright (sync API).

Chromium is Debian's (`apt-get install chromium`, /usr/bin/chromium); Playwright's own
browser download does not work here.  Playwright's CSS and role/text locators pierce
open shadow roots, which is what Home Assistant's web components are built of, so
`input[name=username]` finds the login field inside <ha-authorize>'s shadow DOM.

    with ha_browser(ha.base_url, prefix="smoke-") as ui:
        ui.login(ha.username, ha.password)
        ui.goto("/config/integrations/dashboard")
        ui.screenshot("integrations")

Requests to anything but Home Assistant (brand icons from brands.home-assistant.io)
are answered locally with an empty body: the machine has no internet and each failed
request would otherwise add a console error and a delay.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

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
        return self.page.locator("dialog-add-integration search-input input").first

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
        """Wait until the flow dialog shows a form (at least one input)."""
        self.flow_dialog().locator("input").first.wait_for()

    def flow_field(self, name: str) -> Locator:
        """The input of a flow form field, by its schema key (e.g. "host")."""
        return self.flow_dialog().locator(f"input[name='{name}']")

    def fill_flow(self, values: Mapping[str, str]) -> None:
        for key, value in values.items():
            self.flow_field(key).fill(value)

    def flow_button(self, name: str) -> Locator:
        return self.flow_dialog().get_by_role("button", name=name)

    def submit_flow(self) -> None:
        self.flow_button("Submit").click()

    def flow_text(self) -> str:
        """Visible text of the flow dialog (title, description, errors)."""
        return self.flow_dialog().locator(".mdc-dialog__surface").inner_text()


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
            page.on("pageerror", lambda err: ui.page_errors.append(str(err)))
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
