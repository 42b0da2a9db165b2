"""Checking a box against its register map, from Home Assistant.

The device layer does the checking (``charger.Verification``); this module
runs it for one entry: in the background, through the coordinator's refreshes
(so the entities see the same readings), on Home Assistant's clock.  The
coordinator's own timer keeps the box alive meanwhile.  Progress goes into the
snapshot (the verification sensors show it), the report is stored (it is in
the device's diagnostics download, also after a restart), and every
contradiction becomes a translated repair issue, up to ``MAX_ISSUES``.

The write test runs only when the user asks for it (its own button, disabled
by default, or the action's ``write_test``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from homeassistant.const import __version__ as HA_VERSION
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util

from .charger import (
    DEFAULT_DURATION,
    ChargerError,
    Finding,
    Report,
    Verification,
    VerificationStatus,
)
from .const import DOMAIN, LOGGER
from .coordinator import WallboxConfigEntry, WallboxCoordinator

STORAGE_VERSION = 1
MAX_ISSUES = 5  # repair issues per entry; the report holds every finding
MIN_DURATION = 30.0
MAX_DURATION = 3600.0
ISSUE_PREFIX = "verification"
# Every placeholder the issue texts may use: the ones a finding does not give read "?".
ISSUE_PLACEHOLDERS = (
    "title", "point", "register", "firmware", "map", "revision", "message", "seen",
    "expected", "factor", "hours", "seconds", "phase", "current", "other", "voltage",
    "count", "reason", "timeout", "raw", "bits", "written", "restored", "table",
    "address", "step", "more",
)  # fmt: skip


def verification_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry keeps the last report (downloadable after a restart too)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.verification")


def status_of(report: Mapping[str, Any]) -> VerificationStatus:
    summary = report.get("summary") or {}
    return VerificationStatus(
        state=str(summary.get("verdict", "incomplete")),
        progress=100.0,
        confirmed=int(summary.get("confirmed", 0)),
        contradicted=int(summary.get("contradicted", 0)),
        not_observed=int(summary.get("not observed", 0)),
    )


class VerificationRunner:
    """The check of one entry's box: at most one run at a time."""

    def __init__(
        self, hass: HomeAssistant, entry: WallboxConfigEntry, coordinator: WallboxCoordinator
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.report: dict[str, Any] | None = None
        self._task: asyncio.Task[None] | None = None
        self._store = verification_store(hass, entry.entry_id)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def async_load(self) -> None:
        """Take back the last report (and its verdict) from before a restart."""
        stored = await self._store.async_load()
        report = (stored or {}).get("report")
        if isinstance(report, dict):
            self.report = report
            self.coordinator.charger.verification = status_of(report)

    @callback
    def async_start(self, *, write_test: bool = False, duration: float = DEFAULT_DURATION) -> None:
        """Start a run in the background; refused while one runs or the box does not answer."""
        if self.running:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="verification_running",
                translation_placeholders={"title": self.entry.title},
            )
        if not self.coordinator.last_update_success:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="verification_unavailable",
                translation_placeholders={"title": self.entry.title},
            )
        duration = min(max(float(duration), MIN_DURATION), MAX_DURATION)
        self._task = self.entry.async_create_background_task(
            self.hass,
            self._async_run(write_test=write_test, duration=duration),
            f"{self.entry.title} verification",
        )

    async def async_stop(self) -> None:
        """Stop a run (the entry unloads): a limit under test is put back first."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])

    async def _async_about(self) -> dict[str, str]:
        integration = await async_get_integration(self.hass, DOMAIN)
        return {"integration": str(integration.version), "home_assistant": HA_VERSION}

    async def _async_run(self, *, write_test: bool, duration: float) -> None:
        coordinator = self.coordinator
        charger = coordinator.charger
        verification = Verification(
            charger,
            wall_clock=dt_util.now,
            sleep=asyncio.sleep,
            refresh=coordinator.async_verification_refresh,
            drive_timers=False,  # the coordinator's timer keeps the box alive
            duration=duration,
            write_test=write_test,
            about=await self._async_about(),
            on_progress=coordinator.async_publish_verification,
        )
        LOGGER.info(
            "%s: checking the box against its register map for %.0f s%s",
            self.entry.title,
            duration,
            " (with the write test)" if write_test else "",
        )
        try:
            report = await verification.run()
        except ChargerError as err:
            LOGGER.warning("%s: the check against the map broke off: %s", self.entry.title, err)
            charger.verification = VerificationStatus(state="failed")
            coordinator.async_publish_verification()
            return
        self.report = dict(report.data)
        await self._store.async_save({"report": self.report})
        self._async_update_issues(report)
        coordinator.async_publish_verification()
        summary = report.data["summary"]
        LOGGER.info(
            "%s: register map check %s: %s confirmed, %s contradicted, %s not observed",
            self.entry.title,
            report.verdict,
            summary["confirmed"],
            summary["contradicted"],
            summary["not observed"],
        )

    # ------------------------------------------------------------------ repairs

    def issue_ids(self) -> list[str]:
        """This entry's repair issues of a check."""
        prefix = f"{ISSUE_PREFIX}_{self.entry.entry_id}_"
        return [
            issue_id
            for domain, issue_id in ir.async_get(self.hass).issues
            if domain == DOMAIN and issue_id.startswith(prefix)
        ]

    @callback
    def async_clear_issues(self) -> None:
        for issue_id in self.issue_ids():
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)

    def _placeholders(self, report: Report, finding: Finding) -> dict[str, str]:
        data = report.data
        points = data["points"]
        placeholders = dict.fromkeys(ISSUE_PLACEHOLDERS, "?")
        placeholders.update({k: v for k, v in finding.params.items() if k in ISSUE_PLACEHOLDERS})
        placeholders.update(
            title=self.entry.title,
            point=", ".join(finding.points),
            register=", ".join(str(points[p]["address"]) for p in finding.points),
            firmware=str(data["box"].get("firmware") or "?"),
            map=str(data["map"]["name"]),
            revision=str(data["map"].get("revision") or "?"),
            message=finding.message,
        )
        return placeholders

    @callback
    def _async_update_issues(self, report: Report) -> None:
        """One repair issue per contradiction (the first few), none when nothing is."""
        self.async_clear_issues()
        findings = report.contradictions
        prefix = f"{ISSUE_PREFIX}_{self.entry.entry_id}_"
        for finding in findings[:MAX_ISSUES]:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{prefix}{'_'.join(finding.points)}_{finding.code}",
                is_fixable=False,
                is_persistent=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key=f"verification_{finding.code}",
                translation_placeholders=self._placeholders(report, finding),
            )
        if len(findings) > MAX_ISSUES:
            placeholders = self._placeholders(report, findings[MAX_ISSUES])
            placeholders["more"] = str(len(findings) - MAX_ISSUES)
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                f"{prefix}more",
                is_fixable=False,
                is_persistent=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key="verification_more",
                translation_placeholders=placeholders,
            )
