"""The policy seam: user functions in place of the kernel's decisions."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import bitid
import numpy as np
import pytest

import numaexp
from numaexp.errors import ScenarioError
from numaexp.model.policy import DECISIONS, PROMOTE_NO, Policy, register_policy
from numaexp.model.toml_io import scenario_from_toml, scenario_to_toml


def _with_policy(scenario, **policies):
    kernel = dataclasses.replace(scenario.kernel, policy=Policy(**policies))
    return dataclasses.replace(scenario, kernel=kernel)


def never_migrate(ctx, mem):
    return 0


def never_promote(ctx, mem):
    return PROMOTE_NO


@pytest.fixture(scope="module")
def numa02():
    """numa02 first touched on node 0, 2.5 s: NORMAL balancing migrates thousands of pages."""
    return bitid.preset_scenario("numa02")


@pytest.fixture(scope="module")
def tiered():
    """pmbench_gaussian in mode 2: promotions happen."""
    return bitid.preset_scenario("pmbench_gaussian")


def test_a_policy_that_refuses_every_migration_migrates_nothing(numa02):
    kernel = numaexp.simulate(numa02, progress=False)
    assert kernel.vmstat["numa_pages_migrated"][0] > 1000
    refused = numaexp.simulate(_with_policy(numa02, should_migrate=never_migrate),
                               progress=False)
    vm = refused.vmstat.iloc[0]
    assert vm["numa_pages_migrated"] == 0 and vm["pgmigrate_success"] == 0
    assert vm["numa_hint_faults"] > 0  # the faults still happen: only the choice changed
    assert set(refused.sched["policy"]) == {"should_migrate=never_migrate"}
    assert refused.meta["policy"] == "should_migrate=never_migrate"
    assert set(kernel.vmstat["policy"]) == {"kernel"}


def test_a_promote_policy_that_refuses_promotes_nothing(tiered):
    assert tiered.kernel.numa_balancing == 2
    kernel = numaexp.simulate(tiered, progress=False)
    assert kernel.vmstat["pgpromote_success"][0] > 100
    refused = numaexp.simulate(_with_policy(tiered, promote=never_promote), progress=False)
    vm = refused.vmstat.iloc[0]
    assert vm["pgpromote_success"] == 0 and vm["numa_pages_migrated"] == 0
    assert vm["numa_hint_faults"] > 1000  # slow-tier pages still fault: only the choice changed


@pytest.mark.parametrize("preset", ["numa02", "pmbench_gaussian", "per_cgroup",
                                    "gups_moving_hotset"])
def test_policies_identical_to_the_kernels_give_bit_identical_frames(preset):
    scenario = bitid.preset_scenario(preset)
    kernel = bitid.run_case(scenario)
    named = _with_policy(scenario, **{d.name: f"kernel_{d.name}" for d in DECISIONS})
    assert named.kernel.policy.mask == (1 << len(DECISIONS)) - 1
    assert bitid.run_case(named) == kernel


def three_args(ctx, mem, extra):
    return 0


def returns_an_array(ctx, mem):
    return mem


def reads_no_such_field(ctx, mem):
    return ctx[0].no_such_field


def test_a_policy_with_the_wrong_arguments_is_refused_when_declared():
    with pytest.raises(ScenarioError, match=r"takes \(ctx, mem, extra\), not two arguments"):
        Policy(should_migrate=three_args)
    with pytest.raises(ScenarioError, match="must be a function"):
        Policy(promote=42)
    with pytest.raises(ScenarioError, match="no registered policy 'nope'"):
        Policy(promote="nope")
    with pytest.raises(ScenarioError, match="decides should_migrate, not promote"):
        Policy(promote="kernel_should_migrate")


@pytest.mark.parametrize("function", [returns_an_array, reads_no_such_field])
def test_a_policy_that_does_not_compile_is_refused_before_the_run(numa02, function):
    scenario = _with_policy(numa02, should_migrate=function)
    with pytest.raises(ScenarioError) as err:
        numaexp.simulate(scenario, progress=False)
    assert err.value.field == "kernel.policy.should_migrate"
    assert "does not compile as a policy" in err.value.problem
    assert "POLICY_CONTEXT_DTYPE" in err.value.allowed


def prefers_node_99(ctx, mem):
    return 99


def test_a_policy_value_out_of_range_stops_the_run_with_its_value(numa02):
    with pytest.raises(ScenarioError) as err:
        numaexp.simulate(_with_policy(numa02, place_task=prefers_node_99), progress=False)
    assert err.value.field == "kernel.policy.place_task"
    assert "returned 99" in err.value.problem and "a node with CPUs" in err.value.allowed


def test_named_policies_survive_toml_and_functions_are_refused(numa02):
    named = _with_policy(numa02, promote="kernel_promote")
    back = scenario_from_toml(scenario_to_toml(named))
    assert back.kernel.policy == Policy(promote="kernel_promote")
    with pytest.raises(ScenarioError, match="a scenario file can only hold the name"):
        scenario_to_toml(_with_policy(numa02, promote=never_promote))


def prefer_first_touch_node(ctx, mem):
    """Keep every task preferring node 0 (a place_task policy for the test below)."""
    return 0


def test_place_task_policy_sets_the_preferred_node(numa02):
    result = numaexp.simulate(_with_policy(numa02, place_task=prefer_first_touch_node),
                              progress=False)
    placed = result.sched[result.sched["numa_scans"] > 0]
    assert len(placed) and set(placed["numa_preferred_nid"]) == {0}


SLOW_PERIOD = 7777


def fixed_period(ctx, mem):
    return SLOW_PERIOD


def test_scan_period_policy_sets_the_period(numa02):
    result = numaexp.simulate(_with_policy(numa02, scan_period=fixed_period), progress=False)
    scanned = result.sched[result.sched["task_numa_scan_seq"] > 0]
    assert len(scanned) and set(scanned["numa_scan_period_ms"]) == {SLOW_PERIOD}


def test_registered_policy_is_usable_by_name(numa02):
    register_policy("test_never_migrate", "should_migrate", never_migrate)
    result = numaexp.simulate(_with_policy(numa02, should_migrate="test_never_migrate"),
                              progress=False)
    assert result.vmstat["numa_pages_migrated"][0] == 0
    assert result.meta["policy"] == "should_migrate=test_never_migrate"


POLICY_MODULE = '''
def refuse(ctx, mem):
    mem[ctx[0].page] += 1
    return {answer}
'''

RUN_POLICY = '''
import sys
sys.path.insert(0, {tests!r})
sys.path.insert(0, {folder!r})
import bitid, dataclasses, numaexp, user_policy
from numaexp.model.policy import Policy
from numaexp.sim.engine.policy import compile_policy
compiled = compile_policy(user_policy.refuse, "should_migrate")
sc = bitid.preset_scenario("numa02")
sc = dataclasses.replace(sc, kernel=dataclasses.replace(
    sc.kernel, policy=Policy(should_migrate=user_policy.refuse)))
r = numaexp.simulate(sc, progress=False)
print(sum(compiled.stats.cache_hits.values()), sum(compiled.stats.cache_misses.values()),
      int(r.vmstat["numa_pages_migrated"][0]))
'''


def test_user_policies_compile_once_and_recompile_when_their_source_changes(tmp_path):
    """numba's cache, keyed by the policy's own source file, serves a second process; an
    edited policy compiles anew (and behaves anew)."""
    def run(answer):
        (tmp_path / "user_policy.py").write_text(POLICY_MODULE.format(answer=answer))
        script = RUN_POLICY.format(tests=str(bitid.DIGESTS.parents[1]), folder=str(tmp_path))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        hits, misses, migrated = (int(x) for x in out.stdout.split()[-3:])
        return hits, misses, migrated

    first = run(0)
    assert first[0] == 0 and first[2] == 0  # compiled, and it refuses every migration
    second = run(0)
    assert second[0] >= 1 and second[1] == 0 and second[2] == 0  # loaded from the cache
    third = run(1)
    assert third[0] == 0 and third[2] > 0  # the edit compiled anew: every fault migrates


def test_policy_memory_is_per_page_and_costs_nothing_without_a_policy(numa02):
    from numaexp.sim.engine.runner import Runner

    assert len(Runner(numa02).arrays.pol_mem) == 1
    with_policy = Runner(_with_policy(numa02, should_migrate=never_migrate))
    assert len(with_policy.arrays.pol_mem) == numa02.memory_pages
    assert np.all(with_policy.arrays.pol_mem == 0)
