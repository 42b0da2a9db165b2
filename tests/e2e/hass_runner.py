"""Run Home Assistant as a real program: config dir, subprocess, onboarding, REST helpers.

Used by the browser end-to-end tests and by the one-command demo (``run_demo.py``).
Standard library only (aiohttp is imported when the websocket helper is used).  Which
Home Assistant runs is a `HaRuntime` (`runtimes()`: "2025.4" from the ha2025 venv,
"2026.11" from /opt/ha-demo in the sid chroot); without one, ``hass`` is taken from the
venv of the running interpreter ($WALLBOX_HASS overrides).

Typical use::

    with start_hass(Path("/tmp/ha"), custom_components=ROOT / "custom_components") as ha:
        step = ha.start_config_flow("wallbox_modbus")
        step = ha.config_flow_step(step["flow_id"], {"model": "vestel_evc04"})
        step = ha.config_flow_step(step["flow_id"], {"host": "127.0.0.1", "port": 15020})
        ha.ws({"type": "config/device_registry/list"})
        ha.log_lines("Detected blocking call")

Home Assistant is not allowed to pip-install at runtime (uv runs offline, no cache):
everything it needs beyond the test venv is in scripts/demo-requirements.txt, and a
custom integration whose requirements are not met fails as it would for a user.

Onboarding: the user step goes through ``POST /api/onboarding/users`` exactly as the
frontend does it.  The other three steps (core_config, analytics, integration) are
marked done in ``.storage/onboarding`` before the first start instead of being posted:
posting ``core_config`` makes Home Assistant start the met, radio_browser,
google_translate and shopping_list config flows, which need packages we do not install
and the internet we do not have.  The location and units that the core_config step
would set come from ``configuration.yaml``.  Pass ``onboard_via_http=True`` to post all
four steps anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

_LOGGER = logging.getLogger(__name__)

DEFAULT_USERNAME = "demo"
DEFAULT_PASSWORD = "demo1234"
DEFAULT_NAME = "Demo"
CREDENTIALS_FILE = "wallbox-e2e-credentials.json"
LOG_FILE = "home-assistant.log"
TIME_ZONE = "Europe/Berlin"  # Home Assistant's; the demo's simulated boxes keep their clocks in it
STDOUT_FILE = "hass-stdout.log"

# Integrations set up from configuration.yaml.  Home Assistant adds its own default set
# (automation, script, scene, person, backup, ...; homeassistant.bootstrap
# DEFAULT_INTEGRATIONS) whatever the file says.  `default_config` is deliberately absent:
# it pulls in dhcp, ssdp, zeroconf, bluetooth, cloud, ... and their requirements.
BASE_INTEGRATIONS: tuple[str, ...] = (
    "frontend",  # also loads lovelace, repairs, diagnostics, file_upload, ...
    "config",  # config-entry / device / entity registry APIs and config panels
    "onboarding",
    "auth",
    "person",
    "api",  # REST API (config-flow API lives in `config`)
    "websocket_api",
    "device_automation",  # device page: automations / triggers
    "search",  # device page: "related" section
    "system_log",
)
# Optional extras for the demo: history graphs in the more-info dialog and a logbook card
# on the device page.  Both need the recorder (SQLite in the config dir, ~1 s slower).
HISTORY_INTEGRATIONS: tuple[str, ...] = ("recorder", "history", "logbook")

# Environment that keeps Home Assistant from pip-installing (uv offline, no cache).
NO_RUNTIME_INSTALLS = {"UV_OFFLINE": "1", "UV_NO_CACHE": "1", "PIP_NO_INDEX": "1"}

_ONBOARDING_STEPS_SEEDED = ("core_config", "analytics", "integration")


class HassError(RuntimeError):
    """Home Assistant did not start, or a request to it failed."""


class HttpError(HassError):
    """An HTTP request answered with an error status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


# --------------------------------------------------------------------------- HTTP


def _request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30.0,
    raw: bool = False,
) -> Any:
    """Send one request; return decoded JSON (text if `raw` or not JSON; None if empty)."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read().decode()
    except urllib.error.HTTPError as err:
        raise HttpError(method, url, err.code, err.read().decode(errors="replace")) from None
    if raw:
        return text
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Return True if nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0


# --------------------------------------------------------------------------- config dir


def write_config(
    config_dir: Path,
    port: int,
    *,
    custom_components: Path | None = None,
    integrations: Sequence[str] = BASE_INTEGRATIONS,
    debug_loggers: Sequence[str] = ("custom_components.wallbox_modbus",),
    extra_yaml: str = "",
    seed_onboarding: bool = True,
    http_in_storage: bool = False,
) -> None:
    """Create or refresh a config dir: configuration.yaml, custom_components link, storage.

    configuration.yaml is rewritten at every call (the port may change); `.storage` and
    the database are kept, so an onboarded config dir stays onboarded.

    `http_in_storage` (Home Assistant 2026.11): the HTTP settings live in
    `.storage/http` instead of YAML.  A YAML `http:` would be migrated once as a
    *trial* that the owner must confirm in a dialog within five minutes (else Home
    Assistant restarts on port 8123, listening everywhere), and ignored on later
    starts.  So the port and the loopback address are written there as the confirmed
    ("stable") settings, at every call.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by tests/e2e/hass_runner.py at every start; edits are lost.",
        "homeassistant:",
        "  name: Wallbox Modbus demo",
        "  latitude: 52.52",
        "  longitude: 13.405",
        "  elevation: 34",
        "  unit_system: metric",
        f"  time_zone: {TIME_ZONE}",
        "  country: DE",
        "  currency: EUR",
        "  language: en",
        *(
            ()
            if http_in_storage
            else ("http:", "  server_host: 127.0.0.1", f"  server_port: {port}")
        ),
        "logger:",
        "  default: warning",
        "  logs:",
        "    homeassistant.setup: info",
        "    homeassistant.bootstrap: info",
        *(f"    {name}: debug" for name in debug_loggers),
    ]
    lines += [f"{domain}:" for domain in integrations if domain not in ("logger", "http")]
    # (logger and http are configured above; listing them again would duplicate keys)
    text = "\n".join(lines) + "\n"
    if extra_yaml:
        text += extra_yaml.rstrip() + "\n"
    (config_dir / "configuration.yaml").write_text(text)

    link = config_dir / "custom_components"
    if link.is_symlink():
        link.unlink()
    elif link.exists():
        raise HassError(f"{link} exists and is not a symlink; refusing to replace it")
    if custom_components is not None:
        link.symlink_to(custom_components.resolve(), target_is_directory=True)

    storage = config_dir / ".storage"
    if http_in_storage:
        _write_http_storage(storage / "http", port)
    onboarding = storage / "onboarding"
    if seed_onboarding and not onboarding.exists():
        storage.mkdir(exist_ok=True)
        onboarding.write_text(
            json.dumps(
                {
                    "version": 4,
                    "minor_version": 1,
                    "key": "onboarding",
                    "data": {"done": list(_ONBOARDING_STEPS_SEEDED)},
                },
                indent=2,
            )
        )


def _write_http_storage(path: Path, port: int) -> None:
    """`.storage/http` of Home Assistant 2026.11 with port and address as confirmed.

    Keeps what Home Assistant wrote there before (its defaults); a first start gets
    the defaults Home Assistant would write itself.
    """
    data: dict[str, Any] = {}
    if path.exists():
        data = json.loads(path.read_text())["data"]
    stable = data.get("stable") or {
        "cors_allowed_origins": ["https://cast.home-assistant.io"],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "intermediate_v6",
        "use_x_frame_options": True,
        "created_at": "2026-11-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    stable.update(server_port=port, server_host=["127.0.0.1"], error=None, error_message=None)
    store = {
        "version": 3,
        "minor_version": 1,
        "key": "http",
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2))


# --------------------------------------------------------------------------- process


def default_hass_bin() -> Path:
    """`hass` next to the running interpreter, or $WALLBOX_HASS."""
    if env := os.environ.get("WALLBOX_HASS"):
        return Path(env)
    return Path(sys.executable).with_name("hass")


# --------------------------------------------------------------------------- runtimes

ROOT = Path(__file__).resolve().parents[2]
ENVS_SH = ROOT / "scripts" / "envs.sh"


def wallbox_cache() -> Path:
    """Where scripts/envs.sh keeps the environments ($WALLBOX_CACHE)."""
    return Path(os.environ.get("WALLBOX_CACHE") or Path.home() / ".cache" / "wallbox-modbus")


# Home Assistant 2026.x sets up every base platform, tts among them, and tts needs
# ffmpeg, whose start-up check logs an error when the program is missing.  The demo
# has no camera and no speech, so the check runs `true` instead of installing ffmpeg.
FFMPEG_STUB_YAML = "ffmpeg:\n  ffmpeg_bin: /bin/true  # no ffmpeg in the demo (no camera, no tts)\n"


@dataclass(frozen=True)
class HaRuntime:
    """A Home Assistant release to run: from a venv here, or from one in the sid chroot.

    A chroot runtime runs ``chroot CHROOT /usr/bin/env -i ... hass`` (chroot and env
    exec, so the child's pid is hass's own and signals reach it).  Its config dir
    and the custom_components folder are bind-mounted into the chroot at their own
    paths (scripts/envs.sh chroot_mount), so every path and symlink is the same
    inside and outside.
    """

    name: str  # what scripts/run.sh --ha takes: "2025.4", "2026.11"
    hass_bin: Path  # the hass executable, as the process sees it
    chroot: Path | None = None
    extra_yaml: str = ""  # configuration.yaml lines this release needs
    http_in_storage: bool = False  # HTTP settings in .storage/http (see write_config)
    build_hint: str = ""  # how to get it when it is missing

    @property
    def host_hass_bin(self) -> Path:
        if self.chroot is None:
            return self.hass_bin
        return self.chroot / self.hass_bin.relative_to("/")

    def missing(self) -> str | None:
        """Why this runtime cannot run here, or None."""
        if not self.host_hass_bin.exists():
            return f"Home Assistant {self.name}: {self.host_hass_bin} missing ({self.build_hint})"
        return None

    @property
    def version(self) -> str:
        """The installed homeassistant version (from the venv's metadata)."""
        venv = self.host_hass_bin.parent.parent
        for dist in sorted(venv.glob("lib/python3*/site-packages/homeassistant-*.dist-info")):
            return dist.name.removeprefix("homeassistant-").removesuffix(".dist-info")
        return self.name

    def command(self, args: Sequence[str], env: dict[str, str]) -> list[str]:
        """The command line that starts hass with `args` and (inside a chroot) `env`."""
        if self.chroot is None:
            return [str(self.hass_bin), *args]
        inside = {
            "PATH": f"{self.hass_bin.parent}:/usr/bin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            **env,
        }
        return [
            "chroot",
            str(self.chroot),
            "/usr/bin/env",
            "-i",
            *(f"{key}={value}" for key, value in inside.items()),
            str(self.hass_bin),
            *args,
        ]


def runtimes() -> dict[str, HaRuntime]:
    """The two ends the project runs on: the floor and what users run."""
    cache = wallbox_cache()
    floor = Path(os.environ.get("WALLBOX_HASS") or cache / "ha2025" / "bin" / "hass")
    return {
        "2025.4": HaRuntime(
            "2025.4", floor, build_hint="bash -c 'source scripts/envs.sh; ensure_ha2025'"
        ),
        "2026.11": HaRuntime(
            "2026.11",
            Path("/opt/ha-demo/bin/hass"),
            chroot=cache / "sid-chroot",
            extra_yaml=FFMPEG_STUB_YAML,
            http_in_storage=True,
            build_hint="bash -c 'source scripts/envs.sh; ensure_ha_demo2026'",
        ),
    }


DEFAULT_RUNTIME = "2026.11"


def descendants(pid: int) -> dict[int, str]:
    """Living descendants of a process: pid -> command line (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # zombies are gone already, only not reaped yet
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: dict[int, str] = {}
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        with contextlib.suppress(OSError):
            found[child] = (
                (Path(f"/proc/{child}/cmdline").read_bytes() or b"?")
                .replace(b"\0", b" ")
                .decode(errors="replace")[:200]
            )
        todo += children.get(child, [])
    return found


def chroot_registrations(pid: int) -> list[str]:
    """The chroot mounts process `pid` holds (scripts/envs.sh registers each)."""
    users = wallbox_cache() / "sid-chroot.users"
    return sorted(p.name for p in users.glob(f"{pid}-*")) if users.exists() else []


def mount_unit(path: Path) -> Path:
    """What to bind-mount into the chroot so that `path` is there: the checkout if it
    is inside it (every user of a checkout mounts the same directory), else itself."""
    path = path.resolve()
    return ROOT if path.is_relative_to(ROOT) else path


class ChrootMounts:
    """Bind mounts into the chroot for this process, through scripts/envs.sh.

    The shell keeps one registration per (process, directory); this class counts
    the users inside this process, so two Home Assistants of one test session can
    share a directory.  Released by `close()` (idempotent); a process that dies
    without it is dropped by the next user of the chroot.
    """

    _counts: ClassVar[dict[Path, int]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, dirs: Sequence[Path]) -> None:
        self.dirs = sorted({mount_unit(d) for d in dirs})
        self._held: list[Path] = []
        try:
            for d in self.dirs:
                self._acquire(d)
                self._held.append(d)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _envs(function: str, directory: Path) -> None:
        env = {**os.environ, "WALLBOX_CHROOT_OWNER": str(os.getpid())}
        res = subprocess.run(
            ["bash", "-c", 'source "$1"; "$2" "$3"', "bash", str(ENVS_SH), function, directory],
            env=env,
            capture_output=True,
            text=True,
            timeout=330,  # the shell waits up to 300 s for the lock
            check=False,
        )
        if res.returncode != 0:
            raise HassError(f"{function} {directory} failed: {res.stderr.strip()}")

    @classmethod
    def _acquire(cls, directory: Path) -> None:
        with cls._lock:
            if cls._counts.get(directory, 0) == 0:
                cls._envs("chroot_mount", directory)
            cls._counts[directory] = cls._counts.get(directory, 0) + 1

    @classmethod
    def _release(cls, directory: Path) -> None:
        with cls._lock:
            cls._counts[directory] -= 1
            if cls._counts[directory] == 0:
                del cls._counts[directory]
                cls._envs("chroot_umount", directory)

    def close(self) -> None:
        while self._held:
            self._release(self._held.pop())


def die_with_parent() -> None:
    """preexec_fn: SIGTERM the child when the process that started it dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class Timings:
    """Seconds since the hass process was spawned."""

    http_up: float = 0.0  # first HTTP answer
    authenticated: float = 0.0  # onboarded or logged in, token in hand
    running: float = 0.0  # /api/config says state RUNNING


@dataclass
class HassInstance:
    """A running Home Assistant with a logged-in owner account."""

    base_url: str
    username: str
    password: str
    access_token: str
    refresh_token: str
    config_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    onboarded_now: bool = False
    timings: Timings = field(default_factory=Timings)
    version: str = ""  # what the running Home Assistant reports (/api/config)
    runtime: HaRuntime | None = None
    _mounts: ChrootMounts | None = None
    _token_time: float = field(default_factory=time.monotonic)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.base_url + "/"

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.base_url).port or 80)

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait up to `timeout`, then SIGKILL; unmount.  Return the exit code."""
        _terminate(self.process, timeout)
        if self._mounts is not None:
            self._mounts.close()
        return self.process.returncode

    def __enter__(self) -> HassInstance:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_path, lines)

    def log_lines(self, *needles: str) -> list[str]:
        """Lines of this run's home-assistant.log that contain any of `needles`.

        E.g. log_lines("Detected blocking call") for event-loop violations, which Home
        Assistant logs as WARNING with the offending custom integration named.
        """
        if not self.log_path.exists():
            return []
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if any(n in line for n in needles)]

    def log_errors(self) -> list[str]:
        """ERROR/CRITICAL lines of home-assistant.log so far."""
        return self.log_lines(" ERROR (", " CRITICAL (")

    # -- REST ------------------------------------------------------------------------

    def token(self) -> str:
        """A valid access token (refreshed when older than 20 minutes; they last 30)."""
        if time.monotonic() - self._token_time > 20 * 60:
            tokens = _request(
                "POST",
                f"{self.base_url}/auth/token",
                form={
                    "grant_type": "refresh_token",
                    "refresh_token": self.refresh_token,
                    "client_id": self.client_id,
                },
            )
            self.access_token = tokens["access_token"]
            self._token_time = time.monotonic()
        return self.access_token

    def api(
        self,
        method: str,
        path: str,
        json_body: Any = None,
        *,
        timeout: float = 30.0,
        raw: bool = False,
    ) -> Any:
        """Authenticated request to `path` (e.g. "/api/states"); returns decoded JSON."""
        return _request(
            method,
            self.base_url + path,
            json_body=json_body,
            token=self.token(),
            timeout=timeout,
            raw=raw,
        )

    def start_config_flow(
        self, domain: str, *, show_advanced_options: bool = False
    ) -> dict[str, Any]:
        """Start a user config flow for `domain`; return the first step (form, abort, ...)."""
        result: dict[str, Any] = self.api(
            "POST",
            "/api/config/config_entries/flow",
            {"handler": domain, "show_advanced_options": show_advanced_options},
        )
        return result

    def config_flow_step(self, flow_id: str, user_input: dict[str, Any]) -> dict[str, Any]:
        """Post `user_input` to a config flow step; return the next step or the entry."""
        result: dict[str, Any] = self.api(
            "POST", f"/api/config/config_entries/flow/{flow_id}", user_input
        )
        return result

    def abort_config_flow(self, flow_id: str) -> None:
        self.api("DELETE", f"/api/config/config_entries/flow/{flow_id}")

    def config_entries(self, domain: str | None = None) -> list[dict[str, Any]]:
        query = f"?domain={urllib.parse.quote(domain)}" if domain else ""
        result: list[dict[str, Any]] = self.api("GET", f"/api/config/config_entries/entry{query}")
        return result

    def delete_config_entry(self, entry_id: str) -> None:
        self.api("DELETE", f"/api/config/config_entries/entry/{entry_id}")

    def render_template(self, template: str) -> str:
        """Render a Jinja template server-side, e.g. "{{ device_id('sensor.x') }}"."""
        return str(self.api("POST", "/api/template", {"template": template}, raw=True))

    def ws(self, *commands: dict[str, Any], timeout: float = 30.0) -> list[Any]:
        """Send websocket commands (e.g. {"type": "config/device_registry/list"}).

        Returns each command's `result`; raises HassError on an error reply.  Opens
        one connection per call (aiohttp from the Home Assistant venv).  Works while
        Playwright's sync API is active too: its event loop runs in the calling thread,
        so the request then runs on a worker thread of its own.
        """

        async def run() -> list[Any]:
            async with asyncio.timeout(timeout):
                return await self._ws(list(commands))

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(run())
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()

    async def _ws(self, commands: list[dict[str, Any]]) -> list[Any]:
        import aiohttp

        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        results: list[Any] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token()})
            if (msg := await ws.receive_json())["type"] != "auth_ok":
                raise HassError(f"websocket auth failed: {msg}")
            for msg_id, command in enumerate(commands, start=1):
                await ws.send_json({**command, "id": msg_id})
                while (reply := await ws.receive_json()).get("id") != msg_id:
                    pass
                if not reply.get("success", False):
                    raise HassError(f"websocket {command['type']} failed: {reply.get('error')}")
                results.append(reply.get("result"))
        return results

    def states(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("GET", "/api/states")
        return result


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_http(base_url: str, proc: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    """Wait for the first HTTP answer.

    Home Assistant opens its HTTP port only once `frontend` and its dependencies (auth,
    onboarding, api, config, ...) are set up, so any answer means those views exist.
    `/auth/providers` answers 400 before onboarding and 200 after it.
    """
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HassError(
                f"hass exited with {proc.returncode} during start-up:\n{_tail(log, 40)}"
            )
        try:
            _request("GET", f"{base_url}/auth/providers", timeout=2)
            return
        except HttpError:
            return
        except OSError:
            time.sleep(0.2)
    raise HassError(f"no HTTP answer from {base_url} in time:\n{_tail(log, 40)}")


def _onboarding_status(base_url: str) -> dict[str, bool] | None:
    """Step -> done, or None once onboarding is over (its views are then not registered)."""
    try:
        steps = _request("GET", f"{base_url}/api/onboarding", timeout=5)
    except HttpError as err:
        if err.status == 404:
            return None
        raise
    return {s["step"]: bool(s["done"]) for s in steps}


def _exchange_code(base_url: str, code: str) -> dict[str, Any]:
    tokens: dict[str, Any] = _request(
        "POST",
        f"{base_url}/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": base_url + "/"},
    )
    return tokens


def _onboard(base_url: str, name: str, username: str, password: str, *, full: bool) -> Any:
    """Create the owner through the onboarding API; return the token response."""
    client_id = base_url + "/"
    res = _request(
        "POST",
        f"{base_url}/api/onboarding/users",
        json_body={
            "client_id": client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        },
    )
    tokens = _exchange_code(base_url, res["auth_code"])
    if full:
        token = tokens["access_token"]
        _request("POST", f"{base_url}/api/onboarding/core_config", json_body={}, token=token)
        _request("POST", f"{base_url}/api/onboarding/analytics", json_body={}, token=token)
        _request(
            "POST",
            f"{base_url}/api/onboarding/integration",
            json_body={"client_id": client_id, "redirect_uri": f"{base_url}/?auth_callback=1"},
            token=token,
        )
    return tokens


def login(base_url: str, username: str, password: str) -> dict[str, Any]:
    """Log in with the local auth provider's login flow; return the token response."""
    client_id = base_url + "/"
    flow = _request(
        "POST",
        f"{base_url}/auth/login_flow",
        json_body={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{base_url}/?auth_callback=1",
        },
    )
    res = _request(
        "POST",
        f"{base_url}/auth/login_flow/{flow['flow_id']}",
        json_body={"client_id": client_id, "username": username, "password": password},
    )
    if res.get("type") != "create_entry":
        raise HassError(f"login as {username!r} failed: {res}")
    return _exchange_code(base_url, res["result"])


def _wait_running(
    base_url: str, token: str, proc: subprocess.Popen[bytes], deadline: float
) -> dict[str, Any]:
    """Wait for state RUNNING; return /api/config."""
    state = "?"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HassError(f"hass exited with {proc.returncode}")
        config: dict[str, Any] = _request("GET", f"{base_url}/api/config", token=token, timeout=5)
        state = config["state"]
        if state == "RUNNING":
            return config
        time.sleep(0.25)
    raise HassError(f"Home Assistant still {state} at the deadline")


def start_hass(
    config_dir: Path,
    *,
    port: int | None = None,
    custom_components: Path | None = None,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    name: str = DEFAULT_NAME,
    integrations: Sequence[str] = BASE_INTEGRATIONS,
    extra_yaml: str = "",
    hass_bin: Path | None = None,
    runtime: HaRuntime | None = None,
    timeout: float = 180.0,
    allow_runtime_installs: bool = False,
    onboard_via_http: bool = False,
    env: dict[str, str] | None = None,
) -> HassInstance:
    """Start `hass -c config_dir`, onboard (first time) or log in, wait until RUNNING.

    Credentials of the first run are stored in `config_dir/wallbox-e2e-credentials.json`
    and reused afterwards (the `username`/`password` arguments then only apply to a
    fresh config dir).  With `allow_runtime_installs=False` (the default) Home Assistant
    cannot pip-install anything (uv runs offline without cache), so a missing or
    conflicting requirement fails like "Requirements for X not found" instead of
    silently changing the venv.  `runtime` picks the release (`runtimes()`; default:
    `hass_bin`, or hass next to this interpreter).  The caller must `stop()` the
    instance (or use `with`).
    """
    config_dir = config_dir.resolve()
    port = port or find_free_port()
    if not port_is_free(port):
        raise HassError(f"port {port} is already in use")
    if runtime is None:
        runtime = HaRuntime("venv", hass_bin or default_hass_bin())
    elif hass_bin is not None:
        raise HassError("pass either hass_bin or runtime")
    if (why := runtime.missing()) is not None:
        raise HassError(f"{why}; or set WALLBOX_HASS / run inside the HA venv")
    cred_file = config_dir / CREDENTIALS_FILE
    fresh = not (config_dir / ".storage" / "auth").exists()
    if fresh and cred_file.exists():
        cred_file.unlink()  # left over from a wiped .storage
    write_config(
        config_dir,
        port,
        custom_components=custom_components,
        integrations=integrations,
        extra_yaml=runtime.extra_yaml + extra_yaml,
        seed_onboarding=not onboard_via_http,
        http_in_storage=runtime.http_in_storage,
    )

    log_path = config_dir / LOG_FILE
    offline = {} if allow_runtime_installs else dict(NO_RUNTIME_INSTALLS)
    args = ["-c", str(config_dir), "--log-no-color", "--log-file", str(log_path)]
    mounts: ChrootMounts | None = None
    if runtime.chroot is None:
        child_env = {**(os.environ if env is None else env), **offline}
        cmd = runtime.command(args, {})
    else:
        # inside: a clean environment (the chroot's Python must not see this one's)
        child_env = dict(os.environ)
        cmd = runtime.command(args, {**(env or {}), **offline})
        shared = [config_dir] + ([custom_components] if custom_components is not None else [])
        mounts = ChrootMounts(shared)
    started = time.monotonic()
    deadline = started + timeout
    try:
        with open(config_dir / STDOUT_FILE, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=child_env,
                start_new_session=True,  # Ctrl-C in a terminal reaches only us; we stop hass
                preexec_fn=die_with_parent,  # noqa: PLW1509
            )
    except BaseException:
        if mounts is not None:
            mounts.close()
        raise
    base_url = f"http://127.0.0.1:{port}"
    timings = Timings()
    try:
        _wait_http(base_url, proc, log_path, deadline)
        timings.http_up = time.monotonic() - started
        status = _onboarding_status(base_url)
        onboarded_now = False
        if status is not None and not status.get("user", False):
            tokens = _onboard(base_url, name, username, password, full=onboard_via_http)
            cred_file.write_text(json.dumps({"username": username, "password": password}))
            cred_file.chmod(0o600)
            onboarded_now = True
        else:
            if not cred_file.exists():
                raise HassError(
                    f"{config_dir} was onboarded without this harness ({CREDENTIALS_FILE} "
                    "missing); delete the config dir or write that file"
                )
            creds = json.loads(cred_file.read_text())
            if (creds["username"], creds["password"]) != (username, password):
                _LOGGER.warning("using the stored credentials of %s", config_dir)
            username, password = creds["username"], creds["password"]
            tokens = login(base_url, username, password)
        timings.authenticated = time.monotonic() - started
        config = _wait_running(base_url, tokens["access_token"], proc, deadline)
        timings.running = time.monotonic() - started
    except BaseException:
        _terminate(proc)
        if mounts is not None:
            mounts.close()
        raise
    return HassInstance(
        base_url=base_url,
        username=username,
        password=password,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        config_dir=config_dir,
        process=proc,
        log_path=log_path,
        onboarded_now=onboarded_now,
        timings=timings,
        version=str(config.get("version", "")),
        runtime=runtime,
        _mounts=mounts,
    )


def _terminate(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL the process group."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _LOGGER.warning("hass did not stop in %.0f s; killing it", timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@contextlib.contextmanager
def running_hass(config_dir: Path, **kwargs: Any) -> Iterator[HassInstance]:
    """Context manager around `start_hass` that always stops Home Assistant."""
    inst = start_hass(config_dir, **kwargs)
    try:
        yield inst
    finally:
        inst.stop()


def wipe_config_dir(config_dir: Path) -> None:
    """Remove a config dir made by this module (only if it looks like one)."""
    if not config_dir.exists():
        return
    if not (config_dir / "configuration.yaml").exists():
        raise HassError(f"{config_dir} does not look like a Home Assistant config dir")
    shutil.rmtree(config_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Start Home Assistant in CONFIG_DIR, print URL and timings, stop (or keep running).

    python tests/e2e/hass_runner.py CONFIG_DIR [--ha 2026.11] [--port N]
        [--custom-components DIR]
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("config_dir", type=Path)
    parser.add_argument("--ha", choices=sorted(runtimes()), default=None, help="release")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--custom-components", type=Path, default=None)
    parser.add_argument("--keep-running", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    runtime = runtimes()[args.ha] if args.ha else None
    inst = start_hass(
        args.config_dir,
        port=args.port,
        custom_components=args.custom_components,
        runtime=runtime,
    )
    try:
        print(
            f"{inst.base_url} Home Assistant {inst.version} user={inst.username} "
            f"onboarded_now={inst.onboarded_now} "
            f"http_up={inst.timings.http_up:.1f}s auth={inst.timings.authenticated:.1f}s "
            f"running={inst.timings.running:.1f}s"
        )
        if args.keep_running:
            inst.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        inst.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
