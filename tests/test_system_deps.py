"""tools/system_deps.sh, the Makefile's first step on a bare machine: installs what is missing or names it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "tools" / "system_deps.sh"


def _stub(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def _run(tmp_path: Path, installed: bool, uid: int) -> subprocess.CompletedProcess:
    log = tmp_path / "apt.log"
    _stub(tmp_path, "sudo", "exit 1")  # a user without sudo rights
    env = {
        **os.environ,
        "DPKG_QUERY": str(_stub(tmp_path, "dpkg-query", "echo 'install ok installed'" if installed else "exit 1")),
        "APT_GET": str(_stub(tmp_path, "apt-get", f'echo "$*" >> {log}')),
        "SYSTEM_DEPS_UID": str(uid),
        "PATH": f"{tmp_path}:/usr/bin:/bin",
    }
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def test_nothing_to_do_when_everything_is_installed(tmp_path):
    r = _run(tmp_path, installed=True, uid=0)
    assert r.returncode == 0 and not (tmp_path / "apt.log").exists()


def test_root_installs_the_missing_packages(tmp_path):
    r = _run(tmp_path, installed=False, uid=0)
    assert r.returncode == 0, r.stderr
    calls = (tmp_path / "apt.log").read_text().splitlines()
    assert calls[0].startswith("update") and "install" in calls[1]
    assert "xvfb" in calls[1] and "libxcb-icccm4" in calls[1] and "libgl1" in calls[1]


def test_without_root_it_stops_with_one_line_naming_the_packages(tmp_path):
    r = _run(tmp_path, installed=False, uid=1000)
    assert r.returncode == 1 and not (tmp_path / "apt.log").exists()
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "xvfb" in lines[0] and "sudo apt-get install -y" in lines[0]


def test_the_app_without_a_display_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    main = SCRIPT.parents[1] / "main.py"
    r = subprocess.run([sys.executable, str(main)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "no display" in r.stderr and "xvfb-run" in r.stderr
