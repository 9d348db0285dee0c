"""Drive the jitted engine from Python: chunks, sampling, buffer management.

A :class:`Runner` owns one run's state. :meth:`Runner.advance` simulates up
to a time, handling the engine's requests (grow the segment index, flush
the events buffer); :meth:`Runner.sample` copies the counters into plain
NumPy arrays. No pandas here: :mod:`numaexp.results` builds the frames.
"""

from __future__ import annotations

import numba
import numpy as np

from numaexp.model.scenario import Scenario
from numaexp.sim.build import Layout, build_state
from numaexp.sim.constants import (
    CLK_TICK,
    EVENT_FIELDS,
    RUN_DONE,
    RUN_EVENTS_FULL,
    RUN_SEGMENTS_FULL,
)
from numaexp.sim.engine import run, sim_init, task_locality
from numaexp.sim.state import Arrays, State, to_state


def kernel_state(arrays: Arrays):
    """The state object the kernels take.

    Compiled kernels take a :class:`~numaexp.sim.state.State` (a StructRef).
    With ``NUMBA_DISABLE_JIT=1`` the kernels run as plain Python and take the
    arrays themselves, as record arrays so that ``s.tk.pid[t]`` reads a field.
    """
    if numba.config.DISABLE_JIT:
        fields = {name: (value.view(np.recarray) if isinstance(value, np.ndarray)
                         and value.dtype.names else value)
                  for name, value in arrays._asdict().items()}
        fields["p"] = np.rec.array(np.array([arrays.p], dtype=arrays.p.dtype))[0]
        return Arrays(**fields)
    return to_state(arrays)


class Runner:
    """One simulation run.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    """

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        arrays, layout = build_state(scenario)
        self.arrays: Arrays = arrays
        self.state: State = kernel_state(arrays)
        self.layout: Layout = layout
        self.tick_ns = int(arrays.p["tick_ns"])
        self.hz = int(arrays.p["hz"])
        self.done = False
        self._events: list[dict[str, np.ndarray]] = []
        self.events_dropped = 0
        self._locality = np.zeros(len(arrays.tk), dtype=np.float64)
        sim_init(self.state)

    @property
    def now_s(self) -> float:
        """Simulated time reached, seconds."""
        return float(self.arrays.clk[CLK_TICK] * self.tick_ns) / 1e9

    def advance(self, until_s: float) -> bool:
        """Simulate until ``until_s`` seconds (or until all threads finish).

        Returns
        -------
        bool
            True once every thread has finished.
        """
        until_tick = ticks_until(until_s, self.hz)
        while True:
            with np.errstate(over="ignore"):  # counter-based hashes wrap on purpose
                status = run(self.state, until_tick)
            if status == RUN_SEGMENTS_FULL:
                self._grow_segments()
            elif status == RUN_EVENTS_FULL:
                self._flush_events()
            else:
                self.done = status == RUN_DONE
                return self.done

    def refresh_state(self) -> None:
        """Rebuild the kernels' view after Python changed the parameters or arrays."""
        self.state = kernel_state(self.arrays)

    def _grow_segments(self) -> None:
        a = self.arrays
        need_seg, need_ent = (int(x) for x in a.sg_need)
        cap_seg = max(len(a.sg_start), need_seg * 3 // 2 + 8)
        cap_ent = max(len(a.sg_streams), need_ent * 3 // 2 + 8)
        self.arrays = a._replace(
            sg_start=np.zeros(cap_seg, dtype=np.int64),
            sg_list_first=np.zeros(cap_seg + 1, dtype=np.int64),
            sg_streams=np.zeros(cap_ent, dtype=np.int64),
            sg_mrow_first=np.zeros(cap_seg + 1, dtype=np.int64),
            sg_mrows=np.zeros(cap_ent, dtype=np.int64),
            sg_region=np.zeros(cap_seg, dtype=np.int64),
            sg_random=np.zeros(cap_seg, dtype=np.int64),
        )
        self.state = kernel_state(self.arrays)

    def _flush_events(self) -> None:
        count = self.arrays.ev_count
        n = int(count[0])
        if n:
            self._events.append(self.arrays.ev[:n].copy())
        self.events_dropped += int(count[1])
        count[:] = 0

    def events(self) -> dict[str, np.ndarray]:
        """All trace events so far, concatenated."""
        self._flush_events()
        rows = np.concatenate(self._events) if self._events else self.arrays.ev[:0]
        return {name: rows[name].copy() for name in EVENT_FIELDS}

    def sample(self) -> dict[str, np.ndarray]:
        """Copy of the counters and per-task state at the current time."""
        task_locality(self.state, self._locality)
        s = self.arrays
        tk = s.tk
        return {
            "time_s": np.float64(self.now_s),
            "vm": s.cnt_vm.copy(),
            "memcg": s.cnt_memcg.copy(),
            "cg_node_pages": s.cnt_cg_node_pages.copy(),
            "node_free": s.nd["free"].copy(),
            "node_nbp": s.nd_nbp.copy(),
            "node_vm": s.cnt_node_vm.copy(),
            "task_cpu": tk["cpu"].copy(),
            "task_node": s.cpu["node"][tk["cpu"]],
            "task_alive": tk["alive"].copy(),
            "task_preferred": tk["numa_preferred_nid"].copy(),
            "task_scan_period": tk["numa_scan_period"].copy(),
            "task_scan_seq": tk["numa_scan_seq"].copy(),
            "task_locality": self._locality.copy(),
            "task_touches": tk["touches"].copy(),
            "task_utime": tk["utime"].copy(),
            "task_stime": stime_run(tk),
            "task_pages_migrated": tk["numa_pages_migrated"].copy(),
            "task_migrated": tk["numa_task_migrated"].copy(),
            "task_swapped": tk["numa_task_swapped"].copy(),
            "task_group": tk["numa_group"].copy(),
        }


def ticks_until(until_s: float, hz: int) -> int:
    """The tick count (jiffies) at which ``until_s`` simulated seconds are reached.

    Counted in ticks of ``1/hz`` s, as the kernel counts jiffies, not in
    ``tick_ns`` (truncated to whole ns at HZ 300: 300 ticks of 3,333,333 ns
    fall 100 ns short of 1 s, and 1 s must still be 300 ticks). A time within
    a millionth of a tick of a boundary is that boundary: 0.012 s is tick 3
    at HZ 250, though 0.012 * 250 rounds to 3.0000000000000004.
    """
    return int(np.ceil(until_s * hz - 1e-6))


def stime_run(tk: np.ndarray) -> np.ndarray:
    """Kernel time each task has run so far, ns: charged (``stime``) less what it still owes.

    Kernel work (hint faults, migrations, scans) is charged at once and paid
    from the task's next ticks (``debt``); a live task's unpaid debt has not
    run yet, so it is not system time yet (else user + system could exceed
    the elapsed time). An exited task's debt was added to its finish time.
    """
    return tk["stime"] - np.where(tk["alive"] != 0, np.maximum(tk["debt"], 0), 0)
