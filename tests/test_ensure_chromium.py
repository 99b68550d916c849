"""`make test` on a fresh machine: scripts/ensure_chromium installs Debian's chromium when it may,
otherwise the browser tests skip with one line; only a missing chromium skips, never a broken one.

The script runs against stubs of `id`, `sudo` and `apt-get` that record their calls, with
CMSYNC_CHROMIUM in a temporary directory: no test touches apt or needs root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "ensure_chromium"
BASH = shutil.which("bash")


# The stubs record every call in $STUB_CALLS. Installing creates $CMSYNC_CHROMIUM, as Debian's
# package creates /usr/bin/chromium.
ID = 'echo "id $*" >> "$STUB_CALLS"; echo "$STUB_UID"'
SUDO_PASSWORDLESS = 'echo "sudo $*" >> "$STUB_CALLS"; [ "$1" = -n ] && shift; exec "$@"'
SUDO_ASKS = 'echo "sudo $*" >> "$STUB_CALLS"; echo "sudo: a password is required" >&2; exit 1'
APT_GET = """echo "DEBIAN_FRONTEND=$DEBIAN_FRONTEND apt-get $*" >> "$STUB_CALLS"
if [ "$1" = install ]; then
  [ "$STUB_APT_EXIT" = 0 ] || { echo "E: Unable to locate package"; exit "$STUB_APT_EXIT"; }
  printf '#!/bin/sh\n' > "$CMSYNC_CHROMIUM" && chmod +x "$CMSYNC_CHROMIUM"
fi
"""


def _stub(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


@dataclass
class Machine:
    """A pretend Debian box: who we are, whether sudo works, what apt-get does."""

    chromium: Path
    calls: Path
    env: dict[str, str]

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [BASH, str(SCRIPT), *command], env=self.env, capture_output=True, text=True, timeout=60
        )

    def recorded(self) -> list[str]:
        return self.calls.read_text().splitlines() if self.calls.exists() else []


@pytest.fixture
def machine(tmp_path):
    def make(
        uid: int = 0,
        sudo: bool = False,
        apt_exit: int = 0,
        apt: bool = True,
        installed: bool = False,
    ) -> Machine:
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        chromium = tmp_path / "chromium"
        if installed:
            _stub(chromium, "exit 0")
        _stub(bin_dir / "id", ID)
        _stub(bin_dir / "sudo", SUDO_PASSWORDLESS if sudo else SUDO_ASKS)
        path = str(bin_dir)  # without apt-get anywhere
        if apt:
            _stub(bin_dir / "apt-get", APT_GET)
            path += ":/usr/bin:/bin"
        env = {
            "PATH": path,
            "HOME": str(tmp_path),
            "CMSYNC_CHROMIUM": str(chromium),
            "STUB_CALLS": str(tmp_path / "calls"),
            "STUB_UID": str(uid),
            "STUB_APT_EXIT": str(apt_exit),
        }
        return Machine(chromium=chromium, calls=tmp_path / "calls", env=env)

    return make


def test_chromium_already_there_is_left_alone(machine):
    box = machine(installed=True)
    result = box.run()
    assert (result.returncode, result.stdout) == (0, "")
    assert box.recorded() == []


@pytest.mark.parametrize(("uid", "sudo"), [(0, False), (1000, True)], ids=["root", "sudo"])
def test_missing_chromium_is_installed_with_apt(machine, uid, sudo):
    box = machine(uid=uid, sudo=sudo)
    result = box.run()
    assert (result.returncode, result.stdout) == (0, "")
    apt = [
        "DEBIAN_FRONTEND=noninteractive apt-get update -qq",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
    ]
    calls = box.recorded()
    assert [call for call in calls if call.startswith("DEBIAN_FRONTEND=")] == apt
    through_sudo = ["sudo -n true"] + [f"sudo -n env {call}" for call in apt]
    assert [call for call in calls if call.startswith("sudo")] == (through_sudo if sudo else [])
    assert box.chromium.exists()


@pytest.mark.parametrize(
    ("box_kwargs", "because", "fix", "apt_called"),
    [
        (
            {"uid": 1000},
            "apt not usable (not root, no passwordless sudo)",
            "fix: sudo apt-get install chromium",
            False,
        ),
        (
            {"uid": 0, "apt_exit": 100},
            "apt-get install chromium failed (exit 100, output above)",
            "fix: apt-get install chromium",
            True,
        ),
        (
            {"apt": False},
            "apt-get not found",
            "fix: install chromium and set CMSYNC_CHROMIUM to it",
            False,
        ),
    ],
    ids=["not-root", "apt-fails", "no-apt"],
)
def test_one_skip_line_where_chromium_cannot_be_installed(
    machine, box_kwargs, because, fix, apt_called
):
    box = machine(**box_kwargs)
    result = box.run()
    assert result.returncode == 0
    assert result.stdout == (
        f"browser tests skipped: chromium missing at {box.chromium} and {because}; {fix}\n"
    )
    assert any("apt-get" in call for call in box.recorded()) is apt_called


def test_ci_turns_the_skip_into_an_error(machine):
    box = machine(uid=1000)
    box.env["CMSYNC_REQUIRE_CHROMIUM"] = "1"
    result = box.run()
    assert result.returncode == 1
    assert result.stdout == ""
    assert "browser tests cannot run (CMSYNC_REQUIRE_CHROMIUM=1): chromium missing" in result.stderr


@pytest.mark.parametrize("installed", [False, True])
def test_the_command_gets_the_skip_line_and_keeps_its_exit_status(machine, tmp_path, installed):
    box = machine(uid=1000, installed=installed)
    box.env["CMSYNC_BROWSER_SKIP"] = "stale line from the caller"
    seen = tmp_path / "seen"
    result = box.run(
        "/bin/sh", "-c", f'printf %s "${{CMSYNC_BROWSER_SKIP-unset}}" > {seen}; exit 7'
    )
    assert result.returncode == 7
    if installed:
        assert seen.read_text() == "unset"
    else:
        assert seen.read_text() == result.stdout.strip()
        assert seen.read_text().startswith("browser tests skipped: chromium missing at ")


def _browser_tests(tmp_path: Path, chromium: str) -> subprocess.CompletedProcess[str]:
    """One browser test file in its own pytest, on SQLite and the filesystem broker."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CMSYNC_BROWSER_SKIP", "PYTEST_ADDOPTS"}
    }
    env.update(CMSYNC_CHROMIUM=chromium, CMSYNC_VAR_DIR=str(tmp_path / "var"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs"]
        + ["tests/browser/test_login_flow.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_missing_chromium_skips_with_the_line_in_the_summary(tmp_path):
    missing = str(tmp_path / "no-chromium")
    result = _browser_tests(tmp_path, missing)
    assert result.returncode == 0, result.stdout + result.stderr
    line = f"browser tests skipped: chromium missing at {missing}; fix: scripts/ensure_chromium"
    summary = result.stdout.split("short test summary info")[0]
    assert line in summary.splitlines()
    assert "1 skipped" in result.stdout


def test_a_chromium_that_does_not_start_is_an_error_not_a_skip(tmp_path):
    broken = tmp_path / "chromium"
    _stub(broken, "exit 1\n")
    result = _browser_tests(tmp_path, str(broken))
    assert result.returncode != 0
    assert result.stdout.splitlines()[-1].startswith("1 error in ")
    assert "BrowserType.launch" in result.stdout
