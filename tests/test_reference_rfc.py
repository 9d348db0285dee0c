"""Jitted tiering and RFC decisions against the readable references of naive_rfc.py."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from naive_rfc import adjust_threshold, gate, rate_limited, should_promote

from numaexp.model import Cgroup, KernelVariant
from numaexp.sim.kernel.cgroup_gate import effective_numa_load_balance, numa_balance_gate
from numaexp.sim.kernel.constants import GATE_FAULT, GATE_NONE, GATE_TICK, GATE_WORK
from numaexp.sim.kernel.tiering import (
    NBP_CANDIDATES,
    NBP_FIELDS,
    NBP_RL_NR_CAND,
    NBP_RL_START,
    NBP_TH_NR_CAND,
    NBP_TH_START,
    NBP_THRESHOLD,
    numa_promotion_adjust_threshold,
    numa_promotion_rate_limit,
    numa_tiering_should_promote,
)

KEYS = {"threshold": NBP_THRESHOLD, "th_start": NBP_TH_START, "th_nr_cand": NBP_TH_NR_CAND,
        "rl_start": NBP_RL_START, "rl_nr_cand": NBP_RL_NR_CAND, "candidates": NBP_CANDIDATES}

node_states = st.fixed_dictionaries({
    "threshold": st.one_of(st.sampled_from([0, 1, 124, 125, 250, 1000, 1875, 2000]),
                           st.integers(0, (1 << 32) - 1)),
    "th_start": st.integers(0, 10**6),
    "th_nr_cand": st.integers(0, 10**7),
    "rl_start": st.integers(0, 10**6),
    "rl_nr_cand": st.integers(0, 10**7),
    "candidates": st.integers(0, 10**7),
})


def _array(state: dict) -> np.ndarray:
    out = np.zeros(NBP_FIELDS, dtype=np.int64)
    for key, i in KEYS.items():
        out[i] = state[key]
    return out


def _dict(array: np.ndarray) -> dict:
    return {key: int(array[i]) for key, i in KEYS.items()}


@settings(max_examples=300, deadline=None)
@given(node_states, st.integers(0, 2 * 10**6), st.integers(0, (1 << 32) - 1),
       st.one_of(st.integers(0, 5000), st.integers(0, (1 << 32) - 1)),
       st.integers(0, (1 << 32) - 1))
def test_adjust_threshold_matches_reference(state, now, rate_limit, ref_th, period):
    array = _array(state)
    numa_promotion_adjust_threshold(array, now, rate_limit, ref_th, period)
    ref = dict(state)
    adjust_threshold(ref, now, rate_limit, ref_th, period)
    assert _dict(array) == ref


def test_a_threshold_below_one_step_wraps_as_in_the_kernel():
    """After hot_threshold_ms rose from 1000 to 4000 ms (a step of 500 ms), a node whose
    threshold had come down to 125 ms and sees too many candidates gets 125 - 500 in
    unsigned int: 4294966921 ms, a threshold no latency reaches."""
    state = {"threshold": 125, "th_start": 0, "th_nr_cand": 0, "rl_start": 0, "rl_nr_cand": 0,
             "candidates": 2 * 10**9}
    array = _array(state)
    numa_promotion_adjust_threshold(array, 70000, 65536 << 8, 4000, 60000)
    adjust_threshold(state, 70000, 65536 << 8, 4000, 60000)
    assert _dict(array) == state and state["threshold"] == (1 << 32) + 125 - 500


@settings(max_examples=300, deadline=None)
@given(node_states, st.integers(0, 2 * 10**6), st.integers(1, 1 << 24),
       st.sampled_from([1, 512]))
def test_rate_limit_matches_reference(state, now, rate_limit, nr):
    array = _array(state)
    got = numa_promotion_rate_limit(array, now, rate_limit, nr)
    ref = dict(state)
    assert bool(got) == rate_limited(ref, now, rate_limit, nr)
    assert _dict(array) == ref


@settings(max_examples=400, deadline=None)
@given(node_states, st.booleans(), st.integers(0, 2 * 10**6), st.integers(0, (1 << 21) - 1),
       st.sampled_from([125, 1000, 2000]), st.integers(1, 1 << 24), st.integers(1000, 120000),
       st.sampled_from([1, 512]))
def test_tiering_branch_matches_reference(state, enough, now, stamp, def_th, rate_limit, period,
                                          nr):
    array = _array(state)
    got = numa_tiering_should_promote(array, enough, now, stamp, def_th, rate_limit, period, nr)
    ref = dict(state)
    assert tuple(bool(x) for x in got) == should_promote(ref, enough, now, stamp, def_th,
                                                        rate_limit, period, nr)
    assert _dict(array) == ref


SITES = {"tick": GATE_TICK, "work": GATE_WORK, "fault": GATE_FAULT}
VARIANT_SITE = {"mainline": GATE_NONE, "rfc-v1": GATE_TICK, "rfc-v2": GATE_WORK,
                "hierarchical": GATE_WORK}


@given(st.integers(0, 4), st.integers(0, 1), st.sampled_from(sorted(VARIANT_SITE)),
       st.sampled_from(sorted(SITES)))
def test_mode_4_gate_matches_reference(mode, nlb, variant, site):
    got = numa_balance_gate(mode, nlb, VARIANT_SITE[variant], SITES[site])
    assert bool(got) == gate(mode, nlb, variant, site)


def test_hierarchical_values_fold_in_the_ancestors_but_not_the_root():
    cgroups = (Cgroup("/"), Cgroup("/a"), Cgroup("/a/b", numa_load_balance=1),
               Cgroup("/c", numa_load_balance=1), Cgroup("/c/d", numa_load_balance=1),
               Cgroup("/c/e"))
    flat = effective_numa_load_balance(cgroups, KernelVariant(cgroup="rfc-v2"))
    tree = effective_numa_load_balance(cgroups, KernelVariant(cgroup="hierarchical"))
    assert flat.tolist() == [0, 0, 1, 1, 1, 0]
    assert tree.tolist() == [0, 0, 0, 1, 1, 0]
