"""The compiled-kernel cache: content-keyed, independent of where the sources live, shown
and cleared by ``numaexp cache``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba

from numaexp import caches
from numaexp.cli import main
from numaexp.sim.engine import jit
from numaexp.sim.engine.tick import run as tick_run

REPO = jit.PACKAGE.parent

TINY_RUN = (  # prints the functions numba compiled, then where the package was
    "from numba.core import event\n"
    "compiled = []\n"
    "class Compiled(event.Listener):\n"
    "    def on_start(self, ev):\n"
    "        compiled.append(ev.data['dispatcher'].py_func.__qualname__)\n"
    "    def on_end(self, ev):\n"
    "        pass\n"
    "event.register('numba:compile', Compiled())\n"
    "import numaexp\n"
    "from numaexp.warmup import _tiny_scenario\n"
    "numaexp.simulate(_tiny_scenario(), progress=False)\n"
    "import numaexp.sim.engine.jit as j\n"
    "print(sorted(set(compiled)))\n"
    "print(j.PACKAGE)\n")


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``root``: (size, mtime in ns)."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file()}


def test_kernels_are_filed_under_their_folder_inside_the_package():
    locator = jit.PackageRelativeLocator(tick_run.py_func, tick_run.py_func.__code__.co_filename)
    expected = Path(numba.config.CACHE_DIR) / "numaexp" / "sim" / "engine"
    assert Path(locator.get_cache_path()) == expected
    assert jit.module_cache_dir(jit.SIM / "engine" / "tick.py") == expected


def test_user_code_keeps_numbas_own_locator(tmp_path):
    script = tmp_path / "mine.py"
    script.write_text("def f(x):\n    return x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import mine  # importable only once its folder is on the path
        assert jit.PackageRelativeLocator.from_function(mine.f, str(script)) is None
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("mine", None)


def test_a_copy_of_the_sources_at_another_path_loads_the_compiled_kernels(tmp_path):
    """A run from a copy of the package elsewhere compiles nothing: numba reports no
    compile (the cached entry points hold every kernel they call, those called between
    ticks included), and no file of the cache is written or rewritten (numba would rewrite
    an index whose source stamp differs)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    env["NUMAEXP_CACHE_DIR"] = str(caches.cache_root())
    here = subprocess.run([sys.executable, "-c", TINY_RUN], env={**env, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, check=True)  # compiles if cold
    assert here.stdout.strip().splitlines()[-1] == str(jit.PACKAGE)
    copy = tmp_path / "elsewhere"
    shutil.copytree(jit.PACKAGE, copy / "numaexp", copy_function=shutil.copy,  # new mtimes
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = _files(jit.cache_dir())
    there = subprocess.run([sys.executable, "-c", TINY_RUN], cwd=tmp_path,
                           env={**env, "PYTHONPATH": str(copy)},
                           capture_output=True, text=True, check=True)
    assert there.stdout.strip().splitlines()[-2:] == ["[]", str(copy / "numaexp")]
    assert _files(jit.cache_dir()) == before


def test_only_what_python_calls_is_kept_on_disk():
    """A kernel is cached when Python calls it; the kernels compiled code calls are built
    into their caller's cached code and not kept again on their own (issue 19: the cache
    held each call tree once per level, 690 MB)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NUMBA_CACHE_DIR")}
    env["NUMAEXP_CACHE_DIR"] = str(caches.cache_root())
    subprocess.run([sys.executable, "-c", TINY_RUN], env={**env, "PYTHONPATH": str(REPO)},
                   capture_output=True, text=True, check=True)  # compiles if cold
    kept = {p.name.split("-")[0] for p in jit.cache_dir().rglob("*.nbi")}
    assert {"tick.run", "lifecycle.sim_init", "tick.task_locality", "sched.set_task_cpu"} <= kept
    assert not kept & {"tick.tick_once", "touch.handle_touch_at", "cputime.run_cpus"}


def test_cache_show_and_clear(tmp_path, capsys):
    root = tmp_path / "cache"
    current = root / "numba-aaaa"
    old = root / "numba-bbbb"
    for path, size in ((current, 3 * 2**20), (old, 2**20)):
        (path / "numaexp" / "sim").mkdir(parents=True)
        (path / "numaexp" / "sim" / "x.nbc").write_bytes(b"\0" * size)
    (root / "kernel").mkdir()
    report = caches.show(current, root)
    assert f"cache root: {root}" in report
    assert "numba-aaaa  3.0 MiB  <- this source version" in report
    assert "numba-bbbb  1.0 MiB" in report and "kernel backend files" in report
    assert caches.clear(current, everything=False, root=root) == [old]
    assert current.exists() and not old.exists() and (root / "kernel").exists()
    assert caches.clear(current, everything=True, root=root) == [current]
    assert caches.kernel_dirs(root) == []
    assert "none yet" in caches.show(current, root)
    assert "is not compiled yet" in caches.show(current, root)


def test_cache_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NUMAEXP_CACHE_DIR", str(tmp_path))
    stale = tmp_path / "numba-0000000000000000"
    stale.mkdir()
    assert main(["cache"]) == 0
    out = capsys.readouterr().out
    assert f"cache root: {tmp_path}" in out and "numba-0000000000000000" in out
    assert main(["cache", "clear"]) == 0
    assert "removed 1 compiled-kernel directory" in capsys.readouterr().out
    assert not stale.exists()
