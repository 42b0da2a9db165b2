"""The Home Assistant release each browser test runs against: both ends.

`runtime` is a module-scoped fixture parametrized over the releases in
$WALLBOX_E2E_HA (comma-separated, e.g. "2026.11"), by default every release of
`hass_runner.runtimes()`: 2025.4 (the floor, from the ha2025 venv) and 2026.11 (what
users run, Python 3.14 in the sid chroot).  A release named in $WALLBOX_E2E_HA that is
not installed fails; one that is only there by default is skipped with the command
that builds it.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.hass_runner import HaRuntime, runtimes


def _requested() -> tuple[list[str], bool]:
    if names := os.environ.get("WALLBOX_E2E_HA", "").strip():
        return [n.strip() for n in names.split(",") if n.strip()], True
    return list(runtimes()), False


RUNTIME_NAMES, EXPLICIT = _requested()


@pytest.fixture(scope="module", params=RUNTIME_NAMES, ids=[f"ha{n}" for n in RUNTIME_NAMES])
def runtime(request: pytest.FixtureRequest) -> HaRuntime:
    known = runtimes()
    if request.param not in known:
        pytest.fail(f"unknown Home Assistant release {request.param!r}; known: {sorted(known)}")
    chosen = known[request.param]
    if (why := chosen.missing()) is not None:
        if EXPLICIT:
            pytest.fail(why)
        pytest.skip(why)
    return chosen
