#!/usr/bin/env bash
# Find or build every environment the tests and the demo need, and reuse them
# when they are already there.  Sourced by scripts/test.sh and scripts/run.sh;
# run directly to build them all:  bash scripts/envs.sh
#
#   ha2025   Python 3.13 (pyenv) + Home Assistant 2025.4.4 test harness
#   ha2026   Python 3.14 in a Debian sid chroot + Home Assistant 2026.10.4 harness
#            (the chroot is shared by concurrent runs: chroot_mount / chroot_umount)
#   pm-X.Y.Z one small venv per pymodbus version of the transport matrix
#   ha-demo  Home Assistant 2026.11 (what users run) in the chroot, for the demo and the
#            browser test (/opt/ha-demo)
#
# Everything lives under $WALLBOX_CACHE (default ~/.cache/wallbox-modbus), outside
# the checkout, so a fresh clone on the same machine reuses what exists.
set -euo pipefail

WALLBOX_CACHE=${WALLBOX_CACHE:-$HOME/.cache/wallbox-modbus}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HA2025_PHCC=0.13.236   # pins homeassistant==2025.4.4
HA2026_PHCC=0.13.375   # pins homeassistant==2026.10.4
PYMODBUS_MATRIX=(3.8.3 3.9.2 3.11.2 3.13.1 3.16.1)
# pymodbus that each Home Assistant release forces on integrations.
HA2025_PYMODBUS=3.8.3
HA2026_PYMODBUS=3.13.1
CHROOT="$WALLBOX_CACHE/sid-chroot"
ENV_VERSION=3   # bump to force a rebuild when the lists below change

log() { printf '[envs] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ ! -f "$WALLBOX_CACHE/.apt-updated" ]; then
    apt-get update -qq >&2 && mkdir -p "$WALLBOX_CACHE" && touch "$WALLBOX_CACHE/.apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

python313() {
  local p
  for p in "$(pyenv root 2>/dev/null)/versions/3.13.0/bin/python3" "$(command -v python3.13 || true)"; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  log "no Python 3.13 found (pyenv 3.13.0 or python3.13 on PATH)"; return 1
}

uv_bin() {
  local uvv="$WALLBOX_CACHE/uv"
  if [ ! -x "$uvv/bin/uv" ]; then
    log "installing uv"
    python3 -m venv "$uvv" >&2 && "$uvv/bin/pip" install -q uv >&2
  fi
  echo "$uvv/bin/uv"
}

# uv_venv DIR PYTHON PACKAGES... : a venv with exactly these requirements.
uv_venv() {
  local dir=$1 py=$2; shift 2
  local stamp="$dir/.wallbox-env" want="$ENV_VERSION $*"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  local uv; uv=$(uv_bin)
  log "building $dir"
  rm -rf "$dir"
  "$uv" venv -q --python "$py" "$dir" >&2
  SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt UV_NATIVE_TLS=1 \
    "$uv" pip install -q --python "$dir/bin/python" "$@" >&2
  echo "$want" > "$stamp"
}

DEV_TOOLS=(ruff==0.14.5 mypy==1.18.2 types-PyYAML pyModbusTCP==0.3.1 pytest-cov hypothesis==6.170.17)

ensure_ha2025() {
  # The demo's Home Assistant runs from this venv too: its frontend and the few
  # packages a minimal set-up needs come from scripts/demo-requirements.txt.
  local demo=()
  mapfile -t demo < <(grep -vE '^\s*(#|$)' "$ROOT/scripts/demo-requirements.txt")
  uv_venv "$WALLBOX_CACHE/ha2025" "$(python313)" \
    "pytest-homeassistant-custom-component==$HA2025_PHCC" "pymodbus==$HA2025_PYMODBUS" \
    "${DEV_TOOLS[@]}" playwright==1.55.0 "${demo[@]}"
  echo "$WALLBOX_CACHE/ha2025"
}

ensure_pymodbus() {
  local v=$1
  uv_venv "$WALLBOX_CACHE/pm-$v" "$(python313)" "pymodbus==$v" pytest pytest-asyncio==0.26.0 \
    pyModbusTCP==0.3.1 hypothesis==6.170.17 PyYAML
  echo "$WALLBOX_CACHE/pm-$v"
}

# ---- chroot mounts, shared by concurrent users ------------------------------------
# Several runs use the chroot at once (test.sh of different worktrees, the demo, the
# browser test).  /proc and /dev are mounted for the first user and unmounted when the
# last one leaves; a directory (a worktree, a config dir) is bind-mounted at its own
# host path inside the chroot ($CHROOT/work/wt/x for /work/wt/x), so every path and
# symlink means the same inside and out and two worktrees never share a mount point.
# Users are files in $CHROOT_USERS named <pid>-<start time>-<n>, holding the
# directory they mounted; the pid is $WALLBOX_CHROOT_OWNER (default: this shell, $$),
# so a Python process can own mounts it asked a short-lived bash for.  A user whose
# process is gone (killed with SIGKILL) is dropped by the next mount or unmount.
# Everything happens under an flock on $CHROOT_LOCK.
CHROOT_LOCK="$WALLBOX_CACHE/sid-chroot.lock"
CHROOT_USERS="$WALLBOX_CACHE/sid-chroot.users"

_proc_start() {  # start time of a process (clock ticks since boot), empty if gone
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"
}

_chroot_owner() {
  local pid=${WALLBOX_CHROOT_OWNER:-$$}
  echo "$pid-$(_proc_start "$pid")"
}

_chroot_prune() {  # drop the users whose process is gone
  local f name pid start
  for f in "$CHROOT_USERS"/*; do
    [ -e "$f" ] || continue
    name=${f##*/}; pid=${name%%-*}; start=${name#*-}; start=${start%%-*}
    [ -n "$start" ] && [ "$(_proc_start "$pid")" = "$start" ] || rm -f "$f"
  done
}

_chroot_mount_locked() {
  local dir=${1:-} owner f n=0
  case "$dir" in ""|/*) ;; *) log "chroot_mount: $dir is not an absolute path"; return 1 ;; esac
  mkdir -p "$CHROOT_USERS"
  _chroot_prune
  mountpoint -q "$CHROOT/proc" || mount -t proc proc "$CHROOT/proc" || return 1
  mountpoint -q "$CHROOT/dev" || mount --bind /dev "$CHROOT/dev" || return 1
  owner=$(_chroot_owner)
  for f in "$CHROOT_USERS/$owner"-*; do
    [ -e "$f" ] || continue
    [ "$(cat "$f")" = "$dir" ] && return 0  # this owner has it already
    n=$((n + 1))
  done
  while [ -e "$CHROOT_USERS/$owner-$n" ]; do n=$((n + 1)); done
  if [ -n "$dir" ]; then
    mkdir -p "$CHROOT$dir"
    mountpoint -q "$CHROOT$dir" || mount --bind "$dir" "$CHROOT$dir" || return 1
  fi
  printf '%s' "$dir" > "$CHROOT_USERS/$owner-$n"
}

_chroot_umount_locked() {
  local dir=${1:-} owner f d used
  owner=$(_chroot_owner)
  for f in "$CHROOT_USERS/$owner"-*; do
    [ -e "$f" ] && [ "$(cat "$f")" = "$dir" ] && rm -f "$f"
  done
  _chroot_prune
  # Every directory bind-mounted below the chroot that no living user holds (also
  # those of users that were killed) goes; the kernel's list is the truth.
  while read -r d; do
    case "$d" in "$CHROOT/proc"|"$CHROOT/dev"|"$CHROOT/src") continue ;; esac
    used=0
    for f in "$CHROOT_USERS"/*; do  # held, or a directory below it is (a lazy
      [ -e "$f" ] || continue      # unmount would take that one along)
      case "$CHROOT$(cat "$f")/" in "$d/"*) used=1 ;; esac
    done
    if [ $used = 0 ]; then
      umount -l "$d" && rmdir "$d" 2>/dev/null || true
    fi
  done < <(awk -v c="$CHROOT/" 'index($2, c) == 1 {print $2}' /proc/mounts | sort -r)
  # (A mounted /src belongs to a run of the older envs.sh, which mounted the checkout
  # there without registering; it unmounts /proc and /dev itself.)
  if ! compgen -G "$CHROOT_USERS/*" >/dev/null && ! mountpoint -q "$CHROOT/src"; then
    for d in "$CHROOT/dev" "$CHROOT/proc"; do
      mountpoint -q "$d" && umount -l "$d" || true
    done
  fi
}

_chroot_unmounted() {  # true if nothing is mounted below $CHROOT (safe to delete)
  if awk -v c="$CHROOT/" 'index($2 "/", c) == 1 {found=1} END {exit !found}' /proc/mounts; then
    log "something is still mounted below $CHROOT (another run?); not deleting it"
    return 1
  fi
}

_chroot_locked() {  # run a function under the chroot lock
  mkdir -p "$WALLBOX_CACHE"
  (
    flock -w 300 9 || { log "waited 5 minutes for $CHROOT_LOCK"; exit 1; }
    "$@"
  ) 9>"$CHROOT_LOCK"
}

# chroot_mount [DIR]: /proc and /dev in the chroot, DIR (absolute) at $CHROOT$DIR.
chroot_mount() { _chroot_locked _chroot_mount_locked "${1:-}"; }
# chroot_umount [DIR]: leave; unmount DIR and then /proc, /dev when nobody needs them.
chroot_umount() { _chroot_locked _chroot_umount_locked "${1:-}"; }

# The sid chroot itself (Python 3.14), shared by the 2026.10.4 test harness and the
# 2026.11 demo.  Built once; reused while python3.14 is in it.
ensure_chroot() {
  if [ ! -x "$CHROOT/usr/bin/python3.14" ]; then
    apt_install debootstrap
    local mirror
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    log "debootstrap Debian sid with python3.14 into $CHROOT (about a minute)"
    _chroot_unmounted || return 1
    rm -rf --one-file-system "$CHROOT"; mkdir -p "$CHROOT"
    debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates sid "$CHROOT" "$mirror" >&2
  fi
  cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
  mkdir -p "$CHROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$CHROOT/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$CHROOT" update-ca-certificates >/dev/null 2>&1 || true
}

ensure_ha2026() {
  local stamp="$CHROOT/.wallbox-env" want="$ENV_VERSION $HA2026_PHCC $HA2026_PYMODBUS ${DEV_TOOLS[*]}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "$CHROOT"; return 0; fi
  ensure_chroot || return 1
  chroot_mount
  trap chroot_umount EXIT
  log "installing Home Assistant 2026.10.4 test harness in the chroot (about three minutes)"
  rm -rf "$CHROOT/opt/venv"
  chroot "$CHROOT" python3.14 -m venv /opt/venv >&2
  chroot "$CHROOT" env PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    /opt/venv/bin/pip install -q "pytest-homeassistant-custom-component==$HA2026_PHCC" \
    "pymodbus==$HA2026_PYMODBUS" "${DEV_TOOLS[@]}" >&2
  chroot_umount
  trap - EXIT
  echo "$want" > "$stamp"
  echo "$CHROOT"
}

# chroot_apt PACKAGES...: Debian packages in the chroot (with the package lists that
# are there; refreshed only if that fails, which may also upgrade python3.14).
chroot_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    chroot "$CHROOT" dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]} in the chroot"
  local apt=(chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin
    DEBIAN_FRONTEND=noninteractive apt-get -qq -o Dpkg::Use-Pty=0)
  "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 && return 0
  "${apt[@]}" update >&2 && "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2
}

# The demo's and the browser test's Home Assistant 2026.11 (what users run): a venv at
# /opt/ha-demo in the chroot with Home Assistant, its frontend and the requirements of
# what a minimal configuration loads (scripts/demo2026-requirements.txt; Home
# Assistant must not pip-install at runtime).  Two of them (pymicro-vad,
# pyspeex-noise) have no wheels for Python 3.14 and are compiled: g++ in the chroot.
HA_DEMO2026_VENV=/opt/ha-demo
HA_DEMO2026_VERSION=1   # bump to force a rebuild of the demo venv alone
ensure_ha_demo2026() {
  local req=() want stamp="$CHROOT$HA_DEMO2026_VENV/.wallbox-env"
  mapfile -t req < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$ROOT/scripts/demo2026-requirements.txt" | grep -v '^$')
  want="$HA_DEMO2026_VERSION ${req[*]}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then echo "$CHROOT"; return 0; fi
  ensure_chroot || return 1
  (
    trap chroot_umount EXIT
    trap 'exit 130' INT TERM
    set -e
    chroot_mount
    chroot_apt g++ python3.14-dev libturbojpeg0
    log "installing Home Assistant 2026.11 for the demo in the chroot ($HA_DEMO2026_VENV)"
    local venv=$HA_DEMO2026_VENV
    local inside=(chroot "$CHROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8
      SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt
      PIP_DISABLE_PIP_VERSION_CHECK=1 UV_NATIVE_TLS=1)
    rm -rf "${CHROOT:?}$venv"
    "${inside[@]}" python3.14 -m venv "$venv" >&2
    # uv (which Home Assistant requires anyway) installs the rest
    local uv_req
    uv_req=$(printf '%s\n' "${req[@]}" | grep -E '^uv==')
    "${inside[@]}" "$venv/bin/pip" install -q "$uv_req" >&2
    "${inside[@]}" "$venv/bin/uv" pip install -q --python "$venv/bin/python" "${req[@]}" >&2
    echo "$want" > "$stamp"
  ) || return 1
  echo "$CHROOT"
}

# in_chroot CMD...: run CMD in the chroot's /opt/venv, in this checkout ($ROOT, mounted
# at the same path inside), with a clean environment.  Unmounts on exit, also on Ctrl-C.
in_chroot() {
  (
    trap 'chroot_umount "$ROOT"' EXIT
    trap 'exit 130' INT TERM
    chroot_mount "$ROOT"
    chroot "$CHROOT" /usr/bin/env -i -C "$ROOT" PATH=/opt/venv/bin:/usr/bin:/bin HOME=/root \
      LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 "$@"
  )
}

ensure_system_tools() {
  apt_install mbpoll
}

# Debian's Chromium for the browser test (Playwright cannot download browsers here).
ensure_browser() {
  apt_install chromium
  apt_install libturbojpeg0 || true  # only silences a log line of Home Assistant
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_system_tools
  ensure_ha2025 >/dev/null
  for v in "${PYMODBUS_MATRIX[@]}"; do ensure_pymodbus "$v" >/dev/null; done
  ensure_ha2026 >/dev/null
  ensure_ha_demo2026 >/dev/null
  log "all environments ready under $WALLBOX_CACHE"
fi
