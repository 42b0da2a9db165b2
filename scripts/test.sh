#!/usr/bin/env bash
# The test command.  Builds or reuses every environment (scripts/envs.sh), then:
#   1. ruff (lint and format) and mypy --strict on the integration, device layer included
#   2. device-layer and simulator tests on every pymodbus version Home Assistant pins
#      (3.8.3, 3.9.2, 3.11.2, 3.13.1) and the newest (3.16.1)
#   3. Home Assistant tests on 2025.4.4 / Python 3.13 (with coverage of all of
#      custom_components/, device layer included) and
#      2026.10.4 / Python 3.14 (Debian sid chroot)
#   4. the browser end-to-end tests (headless Chromium, real Home Assistant) on
#      2025.4.4 and on 2026.11.0 (what users run; Python 3.14 chroot)
#   5. the planner benchmark (prints figures; asserts nothing about speed)
#   6. the fuzz and the soak in their short modes (real Home Assistant, six simulated
#      boxes; each fails on any invariant that is not zero)
# Usage: scripts/test.sh [--quick]   (--quick: one pymodbus version, no chroot, no browser,
#                                     no fuzz or soak)
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=scripts/envs.sh
source scripts/envs.sh
set +e

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
RESULTS=$(mktemp -d)
FAILED_STEPS=()
step() { printf '\n=== %s\n' "$*"; }
run() {  # run NAME CMD...: record a failure without stopping
  local name=$1; shift
  "$@"; local rc=$?
  if [ $rc -ne 0 ]; then FAILED_STEPS+=("$name (exit $rc)"); fi
  return 0
}

set -e
ensure_system_tools
HA2025=$(ensure_ha2025)
set +e

step "lint: ruff + mypy"
run ruff "$HA2025/bin/ruff" check custom_components simulators tests scripts
run ruff-format "$HA2025/bin/ruff" format --check custom_components simulators tests scripts
run mypy "$HA2025/bin/mypy" --strict custom_components/wallbox_modbus simulators \
  scripts/fuzz.py scripts/soak.py scripts/bench_scale.py scripts/bench_watchdog.py

versions=("${PYMODBUS_MATRIX[@]}")
[ $QUICK = 1 ] && versions=(3.13.1)
for v in "${versions[@]}"; do
  step "device layer + simulators on pymodbus $v"
  PM=$(ensure_pymodbus "$v") || { FAILED_STEPS+=("env pymodbus $v"); continue; }
  run "pymodbus $v" "$PM/bin/python" -m pytest tests/charger tests/sim -q -p no:cacheprovider \
    --junitxml="$RESULTS/pymodbus-$v.xml"
done

step "Home Assistant 2025.4.4 (Python 3.13, pymodbus $HA2025_PYMODBUS)"
# Coverage counts all of custom_components/, the device layer included: its tests and the
# simulators' run once more here under coverage (-p no:homeassistant: that plugin blocks
# sockets; no junit file, they are counted above), then the HA tests append to the same
# data and the 95 % floor applies to the combined figure.
run "coverage: device layer" "$HA2025/bin/python" -m pytest tests/charger tests/sim -q \
  -p no:cacheprovider -p no:homeassistant --cov=custom_components/wallbox_modbus --cov-report=
run "HA 2025.4.4" "$HA2025/bin/python" -m pytest tests/ha tests/meta -q -p no:cacheprovider \
  --cov=custom_components/wallbox_modbus --cov-append --cov-report=term-missing:skip-covered \
  --cov-fail-under=95 --junitxml="$RESULTS/ha2025.xml"

if [ $QUICK = 0 ]; then
  step "Home Assistant 2026.10.4 (Python 3.14 chroot, pymodbus $HA2026_PYMODBUS)"
  if ensure_ha2026 >/dev/null; then
    mkdir -p "$ROOT/artifacts"
    run "HA 2026.10.4" in_chroot python -m pytest tests/ha -q -p no:cacheprovider \
      --junitxml="$ROOT/artifacts/ha2026.xml"
    cp "$ROOT/artifacts/ha2026.xml" "$RESULTS/ha2026.xml" 2>/dev/null
  else
    FAILED_STEPS+=("env HA 2026.10.4")
  fi

  if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then
    # Both ends: the floor and what users run.  The test process (Playwright, the
    # simulators) runs on the host either way; WALLBOX_E2E_HA picks the Home Assistant.
    ensure_browser
    step "browser end-to-end on Home Assistant 2025.4.4 (headless Chromium)"
    run "browser 2025.4" env WALLBOX_E2E_HA=2025.4 "$HA2025/bin/python" -m pytest tests/e2e -q \
      -p no:cacheprovider -p no:homeassistant --junitxml="$RESULTS/e2e-ha2025.xml"
    step "browser end-to-end on Home Assistant 2026.11.0 (Python 3.14 chroot, headless Chromium)"
    if ensure_ha_demo2026 >/dev/null; then
      run "browser 2026.11" env WALLBOX_E2E_HA=2026.11 "$HA2025/bin/python" -m pytest tests/e2e -q \
        -p no:cacheprovider -p no:homeassistant --junitxml="$RESULTS/e2e-ha2026.xml"
    else
      FAILED_STEPS+=("env HA 2026.11 (browser)")
    fi
  fi
fi

step "planner benchmark"
PM=$(ensure_pymodbus 3.13.1)
run "benchmark" "$PM/bin/python" scripts/bench_planner.py

if [ $QUICK = 0 ]; then
  # Side by side (each its own Home Assistant and simulators): about 3 minutes in all.
  step "fuzz and soak, short modes (scripts/fuzz.py --short, scripts/soak.py --short)"
  SHORTS=$(mktemp -d)
  "$HA2025/bin/python" scripts/fuzz.py --short >"$SHORTS/fuzz.txt" 2>&1 &
  FUZZ_PID=$!
  "$HA2025/bin/python" scripts/soak.py --short >"$SHORTS/soak.txt" 2>&1 &
  SOAK_PID=$!
  run "fuzz" wait $FUZZ_PID
  run "soak" wait $SOAK_PID
  cat "$SHORTS/fuzz.txt" "$SHORTS/soak.txt"
fi

step "summary"
"$HA2025/bin/python" - "$RESULTS" <<'PY'
import sys, pathlib, xml.etree.ElementTree as ET
tot = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.xml")):
    root = ET.parse(f).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    c = {k: sum(int(s.get(k, 0)) for s in suites) for k in tot}
    for k in tot: tot[k] += c[k]
    print(f"  {f.stem:18} {c['tests'] - c['failures'] - c['errors'] - c['skipped']:4} passed, "
          f"{c['failures'] + c['errors']} failed, {c['skipped']} skipped")
passed = tot["tests"] - tot["failures"] - tot["errors"] - tot["skipped"]
print(f"wallbox: {passed} passed, {tot['failures'] + tot['errors']} failed, {tot['skipped']} skipped")
PY
if [ ${#FAILED_STEPS[@]} -ne 0 ]; then
  printf 'FAILED: %s\n' "${FAILED_STEPS[@]}"
  exit 1
fi
echo "all steps passed"
