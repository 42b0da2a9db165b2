#!/usr/bin/env bash
# One-command demo: simulated wallboxes + Home Assistant 2025.4.4 with this checkout's
# integration on http://127.0.0.1:8123 (user demo, password demo1234).
#
#   scripts/run.sh            start (reuses .demo/config, so UI changes survive)
#   scripts/run.sh --reset    start from an empty Home Assistant config
#   scripts/run.sh --help     all options (tests/e2e/run_demo.py)
#
# Ctrl-C stops Home Assistant and the simulators.  Process control lives in
# tests/e2e/run_demo.py, which this script exec's: it stops its children on Ctrl-C and
# SIGTERM, and the children also get SIGTERM from the kernel if it dies (PDEATHSIG).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/envs.sh
source "$ROOT/scripts/envs.sh"

VENV=$(ensure_ha2025)
# Frontend and the few packages the minimal Home Assistant set-up needs; HA is not
# allowed to pip-install at runtime (see tests/e2e/hass_runner.py).  A no-op when present.
SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt UV_NATIVE_TLS=1 \
  "$(uv_bin)" pip install -q --python "$VENV/bin/python" -r "$ROOT/scripts/demo-requirements.txt" >&2
# Optional: silences "Error loading libturbojpeg" in the log; not needed to run.
apt_install libturbojpeg0 || log "libturbojpeg0 not installed (harmless log error)"

cd "$ROOT"
exec "$VENV/bin/python" "$ROOT/tests/e2e/run_demo.py" "$@"
