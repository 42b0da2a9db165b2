#!/usr/bin/env bash
# One-command demo: simulated wallboxes + Home Assistant with this checkout's
# integration on http://127.0.0.1:8123 (user demo, password demo1234), every simulated
# model already added and a "Wallboxes" dashboard as the first screen.
#
#   scripts/run.sh               Home Assistant 2026.11 (what users run; Python 3.14 in
#                                the Debian sid chroot of scripts/envs.sh)
#   scripts/run.sh --ha 2025.4   the oldest release the integration supports (2025.4.4)
#   scripts/run.sh --empty       no wallboxes and no dashboard: try the config flow
#   scripts/run.sh --reset       start from an empty Home Assistant config
#   scripts/run.sh --help        all options (tests/e2e/run_demo.py)
#
# Ctrl-C stops everything.  Process control lives in tests/e2e/run_demo.py, which this
# script exec's: it stops its children on Ctrl-C and SIGTERM (the children also get
# SIGTERM from the kernel if it dies: PDEATHSIG) and releases the chroot's mounts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/envs.sh
source "$ROOT/scripts/envs.sh"

HA=2026.11
for ((i = 1; i <= $#; i++)); do
  case "${!i}" in
    --ha) j=$((i + 1)); HA=${!j:-} ;;
    --ha=*) HA=${!i#--ha=} ;;
  esac
done

# The simulators and the process control run on the host, from the 2025.4 venv (its
# Python 3.13 has everything they need), whichever release is shown.
VENV=$(ensure_ha2025)
case "$HA" in
  2026.11) ensure_ha_demo2026 >/dev/null ;;
  2025.4)
    # Frontend and the few packages the minimal set-up needs; a no-op when present.
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt UV_NATIVE_TLS=1 \
      "$(uv_bin)" pip install -q --python "$VENV/bin/python" -r "$ROOT/scripts/demo-requirements.txt" >&2
    # Optional: silences "Error loading libturbojpeg" in the log; not needed to run.
    apt_install libturbojpeg0 || log "libturbojpeg0 not installed (harmless log error)"
    ;;
  *) ;;  # run_demo.py names the choices
esac

cd "$ROOT"
exec "$VENV/bin/python" "$ROOT/tests/e2e/run_demo.py" "$@"
