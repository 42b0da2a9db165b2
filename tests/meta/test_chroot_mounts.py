"""scripts/envs.sh: chroot mounts shared by concurrent users.

The Debian sid chroot (Python 3.14) is used at the same time by several runs: the
test command of different worktrees, the demo, the browser test.  /proc and /dev must
stay mounted while anyone uses the chroot, each directory is bind-mounted at its own
host path, and the last user to leave unmounts everything, also what users left
behind that were killed.  Exercised on a throw-away chroot directory (only the mount
points exist) in a temporary $WALLBOX_CACHE; needs root, as the real thing does.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / "scripts" / "envs.sh"


@dataclass
class Chroot:
    cache: Path
    path: Path

    def sh(self, script: str, owner: int | None = None) -> subprocess.CompletedProcess[str]:
        """Run `script` after sourcing envs.sh, as user `owner` (a pid)."""
        env = {**os.environ, "WALLBOX_CACHE": str(self.cache)}
        if owner is not None:
            env["WALLBOX_CHROOT_OWNER"] = str(owner)
        return subprocess.run(
            # ($0 is not the script, or sourcing it would build every environment)
            ["bash", "-c", f'source "$1"; {script}', "bash", str(ENVS)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def mounts(self) -> set[str]:
        """Mount points below the chroot, relative to it ("/proc", "/tmp/x", ...)."""
        prefix = str(self.path)
        found = set()
        for line in Path("/proc/mounts").read_text().splitlines():
            target = line.split()[1]
            if target.startswith(prefix + "/"):
                found.add(target[len(prefix) :])
        return found


@pytest.fixture
def chroot(tmp_path: Path) -> Iterator[Chroot]:
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    cache = tmp_path / "cache"
    path = cache / "sid-chroot"
    for sub in ("proc", "dev"):
        (path / sub).mkdir(parents=True)
    probe = subprocess.run(
        ["mount", "-t", "proc", "proc", str(path / "proc")], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot mount here: {probe.stderr.decode().strip()}")
    subprocess.run(["umount", str(path / "proc")], check=True)
    box = Chroot(cache, path)
    try:
        yield box
    finally:
        for target in sorted(box.mounts(), reverse=True):
            subprocess.run(["umount", "-l", str(path) + target], check=False)


@pytest.fixture
def owners() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Long-lived processes that stand for users of the chroot (their pids own mounts)."""
    procs = [subprocess.Popen(["sleep", "120"]) for _ in range(3)]
    try:
        yield procs
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _dirs(tmp_path: Path, *names: str) -> list[Path]:
    dirs = []
    for name in names:
        d = tmp_path / name
        d.mkdir()
        (d / "marker").write_text(name)
        dirs.append(d)
    return dirs


def test_last_user_unmounts(
    chroot: Chroot, owners: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    a, b, _ = (p.pid for p in owners)
    work, other = _dirs(tmp_path, "work", "other")
    assert chroot.sh(f"chroot_mount {work}", a).returncode == 0
    assert chroot.sh(f"chroot_mount {work}", b).returncode == 0
    assert chroot.sh(f"chroot_mount {other}", b).returncode == 0
    assert chroot.mounts() == {"/proc", "/dev", str(work), str(other)}
    # the directory is visible at its own path inside the chroot
    assert (chroot.path / str(work).lstrip("/") / "marker").read_text() == "work"

    assert chroot.sh(f"chroot_umount {work}", a).returncode == 0
    assert chroot.mounts() == {"/proc", "/dev", str(work), str(other)}, "b still uses both"

    assert chroot.sh(f"chroot_umount {other}", b).returncode == 0
    assert chroot.mounts() == {"/proc", "/dev", str(work)}
    assert chroot.sh(f"chroot_umount {work}", b).returncode == 0
    assert chroot.mounts() == set()
    assert not (chroot.path / str(work).lstrip("/")).exists(), "mount point left behind"


def test_a_killed_user_is_dropped(
    chroot: Chroot, owners: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    a, b, _ = owners
    (work,) = _dirs(tmp_path, "work")
    assert chroot.sh(f"chroot_mount {work}", a.pid).returncode == 0
    a.kill()
    a.wait()
    # the next user's visit cleans up what the killed one left
    assert chroot.sh("chroot_mount", b.pid).returncode == 0
    assert chroot.sh("chroot_umount", b.pid).returncode == 0
    assert chroot.mounts() == set()


def test_concurrent_users_never_pull_the_mounts_away(
    chroot: Chroot, owners: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    holder = owners[0].pid
    (work,) = _dirs(tmp_path, "work")
    assert chroot.sh(f"chroot_mount {work}", holder).returncode == 0

    def visit(_: int) -> list[str]:
        # each visitor is its own short-lived bash (owner: its own $$)
        res = chroot.sh(
            f"for i in 1 2 3; do chroot_mount {work} && "
            f"test -f {chroot.path}{work}/marker && chroot_umount {work} || exit 1; done"
        )
        return [res.stdout + res.stderr] if res.returncode else []

    with ThreadPoolExecutor(6) as pool:
        failures = [f for result in pool.map(visit, range(6)) for f in result]
    assert not failures, failures
    assert chroot.mounts() == {"/proc", "/dev", str(work)}, "the holder still needs them"
    assert chroot.sh(f"chroot_umount {work}", holder).returncode == 0
    assert chroot.mounts() == set()


def test_a_run_of_the_older_script_keeps_proc_and_dev(
    chroot: Chroot, owners: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """An older envs.sh mounted the checkout at /src without registering."""
    (work,) = _dirs(tmp_path, "work")
    (chroot.path / "src").mkdir()
    subprocess.run(["mount", "--bind", str(work), str(chroot.path / "src")], check=True)
    pid = owners[0].pid
    assert chroot.sh("chroot_mount", pid).returncode == 0
    assert chroot.sh("chroot_umount", pid).returncode == 0
    assert chroot.mounts() == {"/proc", "/dev", "/src"}


def test_the_chroot_is_not_deleted_while_mounted(
    chroot: Chroot, owners: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    pid = owners[0].pid
    assert chroot.sh("_chroot_unmounted").returncode == 0
    assert chroot.sh("chroot_mount", pid).returncode == 0
    assert chroot.sh("_chroot_unmounted").returncode != 0
    assert chroot.sh("chroot_mount relative/path", pid).returncode != 0
