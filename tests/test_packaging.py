"""What a non-editable install ships: the package data the package loads at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import numaexp
from numaexp.model.cost_profiles import available_profiles, load_profile

ROOT = Path(numaexp.__file__).resolve().parents[1]
"""The source tree under test."""

PROFILES = ("arm64-4node", "dram-cxl", "qemu-tcg", "x86-2socket", "x86-4node")
"""The shipped cost profiles."""

PACKAGE_DATA = (*(f"numaexp/data/costs/{name}.toml" for name in PROFILES),
                "numaexp/io/numaexp-collect",
                "numaexp/kernel/executor/executor.c", "numaexp/kernel/executor/init.sh",
                "numaexp/kernel/executor/functions.sh")
"""Files the package reads at run time besides its modules."""


def test_profiles_are_package_resources():
    for name in PROFILES:
        assert (resources.files("numaexp") / "data" / "costs" / f"{name}.toml").is_file()
        assert load_profile(name).name == name
    assert available_profiles() == list(PROFILES)
    assert not (ROOT / "data" / "costs").exists()  # nothing left outside the package


def _build_wheel(tmp: Path) -> Path:
    """``pip wheel`` of a copy of the source tree (no build/ or egg-info left in it)."""
    src = tmp / "src"
    shutil.copytree(ROOT / "numaexp", src / "numaexp",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
           str(src)]
    try:  # the environment's own setuptools when it is recent enough (pyproject's license)
        from importlib.metadata import version

        if int(version("setuptools").split(".")[0]) >= 77:
            cmd.insert(4, "--no-build-isolation")
    except Exception:  # no setuptools here: pip's isolated build fetches it
        pass
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = (tmp / "dist").glob("numaexp-*.whl")
    return wheel


def test_the_wheel_ships_the_profiles_and_its_loader_finds_them(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in PACKAGE_DATA if f not in names]
    assert not missing, missing
    # installed from the wheel alone (no source tree on the path), the loader finds it
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                           "--target", str(target), str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    code = ("import numaexp, pathlib; from numaexp.model.cost_profiles import "
            "available_profiles, load_profile, profile_for; "
            "from numaexp.model.machine import four_node; "
            f"assert pathlib.Path(numaexp.__file__).is_relative_to(pathlib.Path({str(target)!r})); "
            "print(available_profiles(), load_profile('qemu-tcg').stream_gbps, "
            "profile_for(four_node(arch='arm64')).name)")
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith(str(list(PROFILES))) and "arm64-4node\n" in done.stdout
