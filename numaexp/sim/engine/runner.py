"""Drive the jitted engine from Python: chunks, sampling, buffer management.

A :class:`Runner` owns one run's state. :meth:`Runner.advance` simulates up
to a time, handling the engine's requests (grow the segment index, flush
the events buffer); :meth:`Runner.sample` and :meth:`Runner.final` read the
declared output columns (:mod:`numaexp.sim.engine.readout`) into plain
NumPy arrays. No pandas here: :mod:`numaexp.results` builds the frames.
"""

from __future__ import annotations

import numba
import numpy as np

from numaexp.model.scenario import Scenario
from numaexp.sim.engine.build import Layout, build_state
from numaexp.sim.engine.build.lists import grown_capacity, segment_index
from numaexp.sim.engine.codes import (
    CLK_TICK,
    EVENT_FIELDS,
    RUN_DONE,
    RUN_EVENTS_FULL,
    RUN_POLICY_ERROR,
    RUN_SEGMENTS_FULL,
)
from numaexp.sim.engine.policy import policy_failure
from numaexp.sim.engine.readout import View, read
from numaexp.sim.engine.state import Arrays, State, to_state
from numaexp.sim.engine.tick import run, sim_init, task_locality

SAMPLED_FRAMES = ("timeseries", "task_timeseries", "cgroup_timeseries")
"""Frames read at every sample; the others are read once, at the end (:meth:`Runner.final`)."""

FINAL_FRAMES = ("vmstat", "memory_stat", "sched", "numa_stat", "events", "times")


def kernel_state(arrays: Arrays):
    """The state object the kernels take.

    Compiled kernels take a :class:`~numaexp.sim.engine.state.State` (a StructRef).
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
            elif status == RUN_POLICY_ERROR:
                raise policy_failure(self.arrays.clk, self.hz)
            else:
                self.done = status == RUN_DONE
                return self.done

    def refresh_state(self) -> None:
        """Rebuild the kernels' view after Python changed the parameters or arrays."""
        self.state = kernel_state(self.arrays)

    def _grow_segments(self) -> None:
        a = self.arrays
        need_seg, need_ent = (int(x) for x in a.sg_need)
        self.arrays = a._replace(**segment_index(grown_capacity(len(a.sg_start), need_seg),
                                                 grown_capacity(len(a.sg_streams), need_ent)))
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

    def view(self, sim_seconds: float | None = None) -> View:
        """What the readout reads now: the arrays, labels, locality (and events, at the end)."""
        task_locality(self.state, self._locality)
        return View(arrays=self.arrays, layout=self.layout,
                    sim_seconds=self.now_s if sim_seconds is None else sim_seconds,
                    locality=self._locality)

    def sample(self) -> dict:
        """The time-series frames' columns at the current time (``time_s`` and one dict per
        frame of :data:`SAMPLED_FRAMES`)."""
        view = self.view()
        return {"time_s": np.float64(self.now_s),
                **{frame: read(frame, view) for frame in SAMPLED_FRAMES}}

    def final(self, sim_seconds: float) -> dict:
        """The other frames' columns at the end of a run that lasted ``sim_seconds``."""
        view = self.view(sim_seconds)
        view.events = self.events()
        return {frame: read(frame, view) for frame in FINAL_FRAMES}


def ticks_until(until_s: float, hz: int) -> int:
    """The tick count (jiffies) at which ``until_s`` simulated seconds are reached.

    Counted in ticks of ``1/hz`` s, as the kernel counts jiffies, not in
    ``tick_ns`` (truncated to whole ns at HZ 300: 300 ticks of 3,333,333 ns
    fall 100 ns short of 1 s, and 1 s must still be 300 ticks). A time within
    a millionth of a tick of a boundary is that boundary: 0.012 s is tick 3
    at HZ 250, though 0.012 * 250 rounds to 3.0000000000000004.
    """
    return int(np.ceil(until_s * hz - 1e-6))
