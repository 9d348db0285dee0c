"""Scale: the parallel page-array passes give the serial results; memory per page stays in budget.

The passes of :mod:`numaexp.sim.engine.parallel` must leave the same lists, masses
and frames with one numba thread as with two, and a 4 M-page run must stay
within 32 bytes of resident memory per page.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
from helpers import scenario, small_machine, sweep_workload

from numaexp.model import Pattern, Phase, Process, Thread, Vma, Workload
from numaexp.results import FRAME_NAMES
from numaexp.sim.engine.codes import CLK_POOL_SEGS, PG_PRESENT, PG_PROTNONE, PG_QUEUED
from numaexp.sim.engine.parallel import MASS_CHUNK, row_mass
from numaexp.sim.engine.runner import Runner

BUDGET_BYTES_PER_PAGE = 32


def wide_scenario(seed: int = 3):
    """A random region of 2.5 mass chunks whose pattern changes, plus sweeps, mode 1.

    The phase change at 0.6 s re-draws pages already queued (PROT_NONE and
    not yet touched), so both paths of ``requeue_range`` run.
    """
    machine = small_machine(nodes=2, cpus=2)
    rnd = Process(name="r", vmas=(Vma(name="heap", size="640 MiB"),), threads=(Thread(
        name="t", count=2, phases=(
            Phase(patterns=(Pattern(vma="heap", kind="uniform"),), duration_s=0.6),
            Phase(patterns=(Pattern(vma="heap", kind="hotset"),
                            Pattern(vma="heap", kind="zipf", share=0.5)), duration_s=1.0),
        )),))
    sweeps = sweep_workload(machine, size="64 MiB", threads=2, passes=1e9).processes[0]
    return scenario(Workload(name="wide", processes=(rnd, sweeps)), machine, mode=1, seed=seed,
                    duration=1.2, scan_delay_ms=100, scan_period_min_ms=100)


def _segment_column(arrays, lst: int) -> int:
    p = arrays.p
    if lst < p["sweep_list_base"]:
        return lst
    if lst >= p["row_list_base"]:
        return lst - int(p["row_list_base"]) + int(p["sweep_list_base"])
    return -1


def _walk_lists(arrays) -> dict[int, list[int]]:
    """Every pending-fault list in walk order: its linked pages from the head, then its
    segment read downward; checks the back links and the segments' encoding."""
    pg = arrays.pg
    lists = {}
    for lst in range(len(arrays.ls_heads)):
        pages = []
        page = int(arrays.ls_heads[lst])
        prev = -(lst + 1)
        while page >= 0:
            assert pg["prev"][page] == prev and pg["pflags"][page] & PG_QUEUED
            pages.append(page)
            prev, page = page, int(pg["next"][page])
        j = _segment_column(arrays, lst)
        if j >= 0 and arrays.ls_seg[1, j] > arrays.ls_seg[0, j]:
            lo, hi, live = (int(x) for x in arrays.ls_seg[:, j])
            held = [int(q) for q in arrays.ls_pool[lo:hi][::-1] if q >= 0]
            assert len(held) == live > 0
            for slot in range(hi - 1, lo - 1, -1):
                q = int(arrays.ls_pool[slot])
                if q >= 0:
                    assert pg["next"][q] == -(slot + 2) and pg["prev"][q] == -(lst + 1)
                    assert pg["pflags"][q] & PG_QUEUED
            pages += held
        if pages:
            lists[lst] = pages
    return lists


def test_initial_lists_hold_every_pending_page_once_in_page_order():
    runner = Runner(wide_scenario())
    runner.advance(1e-4)  # the threads have started (a clone apart): every page drawn
    lists = _walk_lists(runner.arrays)
    queued = np.concatenate([np.array(pages) for pages in lists.values()])
    flags = runner.arrays.pg["pflags"]
    assert len(queued) == len(np.unique(queued)) == np.count_nonzero(flags & PG_QUEUED)
    for pages in lists.values():  # pushed in page order, so the head is the last page
        assert np.all(np.diff(pages) < 0)
    # the random region's pages, drawn into empty lists, sit in segments
    segments = runner.arrays.ls_seg
    assert int(runner.arrays.clk[CLK_POOL_SEGS]) == np.count_nonzero(segments[1] > segments[0]) > 0
    assert segments[2].sum() == np.count_nonzero(runner.arrays.ls_pool >= 0) > 640 * 256 // 2
    pending = (flags & PG_PRESENT == 0) | (flags & PG_PROTNONE != 0)
    assert np.count_nonzero(pending & (flags & PG_QUEUED == 0)) == 0  # every page is covered


def test_row_mass_adds_chunks_in_order():
    runner = Runner(wide_scenario())
    runner.advance(0.3)
    a = runner.arrays
    k = 0  # the uniform stream of the first random thread
    assert a.st["n"][k] > 2 * MASS_CHUNK
    incremental = a.st_mass[a.st["mrow"][k]].copy()
    row_mass(runner.state, k)
    base = a.ob["first"][a.st["obj"][k]] + a.st["first"][k]
    nodes = a.pg["node"][base:base + a.st["n"][k] * a.st["stride"][k]:a.st["stride"][k]]
    weight = 1.0 / a.st["n"][k]
    expected = np.zeros(a.st_mass.shape[1])
    for nid in range(len(expected)):
        for lo in range(0, len(nodes), MASS_CHUNK):
            chunk = 0.0
            for _ in range(np.count_nonzero(nodes[lo:lo + MASS_CHUNK] == nid)):
                chunk += weight
            expected[nid] += chunk
    np.testing.assert_array_equal(a.st_mass[a.st["mrow"][k]], expected)
    np.testing.assert_allclose(incremental, expected, rtol=1e-9)


def test_identical_state_and_frames_with_one_and_two_numba_threads(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_scale import wide_scenario
        from numaexp import simulate
        from numaexp.sim.engine.runner import Runner
        sc = wide_scenario()
        simulate(sc, progress=False).save(sys.argv[1], formats=("parquet",))
        runner = Runner(sc)
        runner.advance(sc.stop.limit_s)
        a = runner.arrays
        np.savez(sys.argv[1] + "/state.npz", pg=a.pg.view(np.uint8), heads=a.ls_heads,
                 pool=a.ls_pool, seg=a.ls_seg, mass=a.st_mass, vm=a.cnt_vm)
    """)
    outs = []
    for threads in (1, 2):
        out = tmp_path / f"t{threads}"
        env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
        subprocess.run([sys.executable, "-c", script, str(out)], env=env, check=True)
        outs.append(out)
    one, two = (np.load(out / "state.npz") for out in outs)
    for name in ("pg", "heads", "pool", "seg", "mass", "vm"):
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)
    for name in FRAME_NAMES:
        pd.testing.assert_frame_equal(pd.read_parquet(outs[0] / f"{name}.parquet"),
                                      pd.read_parquet(outs[1] / f"{name}.parquet"),
                                      check_exact=True)


MEMORY_SCRIPT = textwrap.dedent("""
    import gc, json
    from numaexp.model import Machine, Node, Scenario, Stop
    from numaexp.model.presets import random_access
    from numaexp.sim.engine.runner import Runner

    def status(key):
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024

    def scenario(pages):
        machine = Machine(name="2x", nodes=(Node(cpus=4, memory=pages * 4096),) * 2,
                          distance=((10, 21), (21, 10)))
        workload = random_access(machine, memory=pages * 4096, duration_s=100)
        return Scenario(name="memory", machine=machine, workload=workload,
                        stop=Stop(kind="duration", duration_s=0.3))

    Runner(scenario(1 << 14)).advance(0.3)  # loads every kernel
    gc.collect()
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak (VmHWM) restarts from here
    pages = 1 << 22
    runner = Runner(scenario(pages))
    runner.advance(0.3)
    assert runner.arrays.cnt_vm.any()
    print(json.dumps({"bytes_per_page": (status("VmHWM") - base) / pages}))
""")


def test_peak_memory_per_page_at_4m_pages():
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT], check=True, capture_output=True,
                         text=True)
    per_page = json.loads(out.stdout.strip().splitlines()[-1])["bytes_per_page"]
    assert per_page <= BUDGET_BYTES_PER_PAGE, per_page
