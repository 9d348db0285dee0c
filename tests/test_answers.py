"""Outputs that answer: the summary (speed-up, finished, per cgroup), a sentence per run, and
notices that explain runs where nothing happens."""

from __future__ import annotations

import dataclasses

import bitid
import pytest
from helpers import small_machine

import numaexp
from numaexp.model import Action, Cgroup, KernelConfig, Scenario, Stop
from numaexp.model.cost_profiles import preset_costs
from numaexp.model.machine import four_node, tiered
from numaexp.model.presets import default_scenario, numa02, random_access
from numaexp.model.rfc_presets import interleave_pair
from numaexp.notices import NUMA_COUNTERS, needed_seconds, scenario_notices
from numaexp.sentences import SAME_SPEED_PCT, run_sentence


@pytest.fixture(scope="module")
def default():
    """The default scenario made small (two cgroups on 2 DRAM + 1 CXL node), modes 0/1/2/4."""
    return numaexp.compare(bitid.preset_scenario("default"), modes=[0, 1, 2, 4], progress=False)


def _codes(notices) -> list[str]:
    return [n.code for n in notices]


def test_summary_has_throughput_speedup_and_finished(default):
    frame = default.summary()
    assert list(frame["label"]) == ["mode 0", "mode 1", "mode 2", "mode 4"]
    assert (frame["baseline"] == "mode 0").all() and frame["finished"].all()
    base = frame.loc[0, "throughput_per_s"]
    assert frame["speedup"].tolist() == pytest.approx(list(frame["throughput_per_s"] / base))
    assert frame.loc[0, "speedup"] == 1.0
    other = default.summary(baseline="mode 1")
    assert other.loc[1, "speedup"] == 1.0 and (other["baseline"] == "mode 1").all()
    with pytest.raises(numaexp.ScenarioError, match="baseline: no run labelled 'mode 7'"):
        default.summary(baseline="mode 7")


def test_summary_by_cgroup_shows_mode_4_balances_only_the_enabled_cgroup(default):
    frame = default.summary(by="cgroup").set_index(["label", "cgroup"])
    assert frame.loc[("mode 4", "/app"), "numa_hint_faults"] > 0
    assert frame.loc[("mode 4", "/batch"), "numa_hint_faults"] == 0
    assert frame.loc[("mode 1", "/batch"), "numa_hint_faults"] > 0
    assert frame.loc[("mode 2", "/batch"), "pgpromote_success"] > 0
    assert frame.loc[("mode 2", "/app"), "numa_hint_faults"] == 0
    # each cgroup against the same cgroup of the baseline
    times = default.results["mode 4"].times
    app = times[(times["level"] == "cgroup") & (times["cgroup"] == "/app")]
    base = default.results["mode 0"].times
    base_app = base[(base["level"] == "cgroup") & (base["cgroup"] == "/app")]
    assert frame.loc[("mode 4", "/app"), "speedup"] == pytest.approx(
        app["throughput_per_s"].item() / base_app["throughput_per_s"].item())


def test_one_sentence_per_run_from_the_numbers(default):
    sentences = default.sentences()
    frame = default.summary().set_index("label")
    assert sentences["mode 0"] .startswith("mode 0: the baseline; NUMA balancing off")
    pct = (frame.loc["mode 4", "speedup"] - 1) * 100
    migrated = frame.loc["mode 4", "numa_pages_migrated"]
    # below SAME_SPEED_PCT a user reads "as fast as", never "0% slower"
    speed = ("as fast as mode 0" if abs(pct) < SAME_SPEED_PCT
             else f"{abs(pct):.0f}% {'faster' if pct > 0 else 'slower'} than mode 0")
    assert sentences["mode 4"].startswith(
        f"mode 4: {speed}; {migrated:,} pages migrated; 0 task moves, 0 swaps; local accesses ")
    assert sentences["mode 4"].endswith("; /batch untouched")
    assert sentences["mode 2"].endswith("; /app untouched")
    assert " promoted" in sentences["mode 2"]
    assert "untouched" not in sentences["mode 1"]


def test_speed_within_half_a_percent_reads_as_fast_as():
    def speed(ratio):
        row = {"mode": 1, "speedup": ratio, "numa_pages_migrated": 0,
               "numa_task_migrated": 0, "numa_task_swapped": 0}
        return run_sentence("b", row, baseline="a").split("; ")[0]
    assert speed(1.0) == "b: as fast as a"
    assert speed(1 + SAME_SPEED_PCT / 100 * 0.99) == "b: as fast as a"
    assert speed(1 - SAME_SPEED_PCT / 100 * 0.99) == "b: as fast as a"
    assert speed(1.04) == "b: 4% faster than a"
    assert speed(0.96) == "b: 4% slower than a"
    assert speed(float("nan")) == "b: no speed to compare with a"


def test_default_modes_each_do_something_else_and_need_no_notice(default):
    frame = default.summary().set_index("label")
    assert frame.loc["mode 0", "numa_hint_faults"] == 0
    assert frame.loc["mode 1", "numa_pages_migrated"] > frame.loc["mode 4", "numa_pages_migrated"]
    assert frame.loc["mode 2", "pgpromote_success"] > 0 == frame.loc["mode 1", "pgpromote_success"]
    assert default.identical() == {}
    assert all(not found for found in default.notices().values())
    full = default_scenario()
    assert full.stop.duration_s >= 10 * needed_seconds(full) / 2  # tens of seconds


def test_interrupted_run_is_not_finished_and_its_sentence_says_so():
    scenario = bitid.preset_scenario("numa02")
    result = numaexp.simulate(scenario, progress=False)
    result.meta["interrupted"] = True
    assert result.summary["finished"] is False
    assert "cut off at 2.5 simulated s" in result.sentence()


def test_a_duration_run_whose_work_ends_first_is_finished_and_said_to_be_short():
    scenario = bitid.preset_scenario("numa02")  # its work ends by 13.2 simulated s
    kernel = dataclasses.replace(scenario.kernel, scan_delay_ms=12000, scan_period_min_ms=1000)
    long = dataclasses.replace(scenario, kernel=kernel,
                               stop=Stop(kind="duration", duration_s=100))
    assert scenario_notices(long) == []  # 100 s would be long enough
    cmp = numaexp.compare(long, modes=[0, 1], progress=False)
    frame = cmp.summary()
    assert frame["sim_s"].max() < needed_seconds(long) == 15
    assert frame["finished"].tolist() == [True, True]
    assert not any("cut off" in text for text in cmp.sentences().values())
    assert _codes(cmp.notices()["mode 1"]) == ["short-run"]
    seconds = f"{frame.loc[1, 'sim_s']:.3g} simulated s"  # 12.6
    assert f"the run lasts {seconds}" in str(cmp.notices()["mode 1"][0])
    cut = cmp.results["mode 1"]
    cut.meta["interrupted"] = True
    assert "short-run" not in _codes(cut.notices)  # it did not end on its own
    text = cmp.sentences()["mode 1"]
    assert text.startswith(f"mode 1: cut off at {seconds}; ") and " while it ran;" in text
    cmp.results["mode 0"].meta["interrupted"] = True
    assert "(mode 0 was cut off)" in cmp.sentences()["mode 1"]


def _two_cgroups(mode: int, enabled: bool = False, parent: bool = False, machine=None):
    machine = machine or small_machine(nodes=2, cpus=2)
    path = "/parent/job" if parent else "/job"
    work = numa02(machine, memory_scale=1 / 64, passes=100, cgroup=path)
    cgroups = ((Cgroup("/parent"),) if parent else ()) + (
        Cgroup(path, numa_load_balance=int(enabled)),)
    return Scenario(name="two", machine=machine,
                    workload=dataclasses.replace(work, cgroups=cgroups),
                    kernel=KernelConfig(numa_balancing=mode,
                                        variant="hierarchical" if parent else "rfc-v2"),
                    stop=Stop(kind="duration", duration_s=10))


def test_notice_mode_4_with_no_cgroup_enabled():
    assert _codes(scenario_notices(_two_cgroups(4))) == ["mode4-nothing-enabled"]
    assert "no task is balanced and the run is mode 0's" in str(
        scenario_notices(_two_cgroups(4))[0])
    assert scenario_notices(_two_cgroups(4, enabled=True)) == []
    late = dataclasses.replace(_two_cgroups(4), actions=(
        Action(at_s=3, kind="numa_load_balance", cgroup="/job", value=1),))
    assert scenario_notices(late) == []
    blocked = scenario_notices(_two_cgroups(4, enabled=True, parent=True))
    assert _codes(blocked) == ["mode4-nothing-enabled"]
    assert "/parent/job at 1 but switched off by a parent at 0" in str(blocked[0])


def test_notice_mode_4_on_mainline_on_one_tier():
    scenario = _two_cgroups(4, enabled=True)
    mainline = dataclasses.replace(scenario, kernel=dataclasses.replace(
        scenario.kernel, variant="mainline"))
    (notice,) = scenario_notices(mainline)
    assert notice.code == "mode4-mainline" and "nothing is scanned" not in str(notice)
    assert "the NUMA counters stay at 0 as in mode 0" in str(notice)
    assert "the scanner still walks the address space" in str(notice)
    scenario = bitid.preset_scenario("numa02")
    runs = numaexp.compare(dataclasses.replace(scenario, kernel=dataclasses.replace(
        scenario.kernel, variant="mainline")), modes=[0, 4], progress=False)
    frame = runs.summary().set_index("label")
    assert (frame[list(NUMA_COUNTERS)] == 0).all().all()
    assert frame.loc["mode 4", "system_s"] > frame.loc["mode 0", "system_s"]  # the walk


def test_notice_memory_tiering_on_one_tier():
    two = scenario_notices(_two_cgroups(2))
    assert _codes(two) == ["one-tier"] and "does no tiering work" in str(two[0])
    assert "stay at 0 as in mode 0" in str(two[0]) and "equals" not in str(two[0])
    three = scenario_notices(_two_cgroups(3))
    assert _codes(three) == ["one-tier"] and "balances as mode 1 does" in str(three[0])
    assert "equals" not in str(three[0])
    machine = tiered(dram_nodes=1, slow_nodes=1, cpus_per_node=2, dram_per_node="1 GiB",
                     slow_per_node="2 GiB")
    assert scenario_notices(_two_cgroups(2, machine=machine)) == []


def test_one_tier_mode_2_notice_says_what_is_the_same_and_identity_only_where_checked():
    """Mode 2 on one tier marks no page (its NUMA counters are mode 0's zeros) but its scanner
    still walks the memory, so its times differ slightly: the notice says so, and only the
    checked ``identical`` notice claims identity (mode 3 = mode 1 here)."""
    runs = numaexp.compare(bitid.preset_scenario("numa02"), modes=[0, 1, 2, 3], progress=False)
    notices = runs.notices()
    (two,) = [n for n in notices["mode 2"] if n.code == "one-tier"]
    assert "slightly different from mode 0's" in str(two)
    frame = runs.summary().set_index("label")
    named = [c for c in NUMA_COUNTERS if c in str(two)]
    assert named == list(NUMA_COUNTERS)
    assert (frame.loc[["mode 0", "mode 2"], named] == 0).all().all()
    assert frame.loc["mode 1", "numa_pages_migrated"] > 0  # balancing acts on this scenario
    assert frame.loc["mode 2", "system_s"] > frame.loc["mode 0", "system_s"]  # the walk
    assert frame.loc["mode 2", "throughput_per_s"] != frame.loc["mode 0", "throughput_per_s"]
    assert runs.identical() == {"mode 3": "mode 1"}
    assert "identical" not in _codes(notices["mode 2"])
    assert "identical" in _codes(notices["mode 3"])


def test_notice_short_run_before_and_after_the_run():
    short = dataclasses.replace(_two_cgroups(1), stop=Stop(kind="duration", duration_s=2))
    (notice,) = scenario_notices(short)
    assert notice.code == "short-run" and "kernel.scan_delay_ms = 1000 ms" in notice.message
    assert "at least 4 s" in notice.message
    off = dataclasses.replace(short, kernel=dataclasses.replace(short.kernel, numa_balancing=0))
    assert scenario_notices(off) == []  # nothing to wait for with balancing off
    work = dataclasses.replace(_two_cgroups(1), stop=Stop(kind="work"))
    result = numaexp.simulate(work, progress=False)
    assert result.meta["sim_seconds"] < 4
    assert "short-run" in _codes(result.notices)


def test_notice_as_posted_variants_that_cannot_differ():
    plain = dataclasses.replace(_two_cgroups(1), kernel=KernelConfig(
        numa_balancing=1, variant="rfc-v2+stats-as-posted"))
    result = numaexp.simulate(dataclasses.replace(plain, stop=Stop(kind="duration",
                                                                   duration_s=5)),
                              progress=False)
    assert result.memory_stat["numa_task_swapped"].sum() == 0
    assert "stats-as-posted" in _codes(result.notices)
    pair = interleave_pair(variant="rfc-v2+interleave-as-posted", private="4 MiB")
    assert scenario_notices(pair) == []  # t1's heap migrates to node 1: it can differ
    only = dataclasses.replace(pair, workload=dataclasses.replace(pair.workload, processes=tuple(
        dataclasses.replace(p, vmas=p.vmas[:1], threads=tuple(
            dataclasses.replace(t, phases=(t.phases[0],)) for t in p.threads))
        for p in pair.workload.processes)))
    (notice,) = scenario_notices(only)
    assert notice.code == "interleave-as-posted"
    assert "no VMA has pages NUMA balancing migrates" in notice.message


def test_notices_show_in_the_notebook_reprs():
    scenario = _two_cgroups(4)
    comparison = numaexp.compare(dataclasses.replace(scenario, stop=Stop(
        kind="duration", duration_s=4)), modes=[0, 4], progress=False)
    html = comparison._repr_html_()
    assert "numaexp-notice" in html and "no cgroup with threads has" in html
    assert "mode 4 is identical to mode 0" in html
    assert "numaexp-table-wrap" in html and "speedup" in html
    result_html = comparison.results["mode 4"]._repr_html_()
    assert "numaexp-notice" in result_html and "mode 4: " in result_html


def test_a_run_whose_accesses_are_local_already_says_balancing_had_nothing_to_do():
    """The dashboard's default run (numa01_THREAD_ALLOC, each thread's slice first touched on
    its own node): mode 1 moves nothing, and a notice says why; first touched on node 0, it
    migrates and gets no such notice."""
    from numaexp.widgets.scenarios import DashboardSettings, build_scenarios

    local = {mode: sc for _, mode, _, sc in build_scenarios(DashboardSettings(modes=(1,)))}[1]
    result = numaexp.simulate(local, progress=False)
    assert result.meta["local_access_pct"] >= 95
    assert result.vmstat["numa_pages_migrated"].iloc[0] == 0
    notice = next(n for n in result.notices if n.code == "already-local")
    assert notice.message.startswith(f"mode 1: {result.meta['local_access_pct']:.0f}% of "
                                     "accesses were local already")
    remote = {mode: sc for _, mode, _, sc in
              build_scenarios(DashboardSettings(modes=(1,), first_touch_node=0))}[1]
    moved = numaexp.simulate(remote, progress=False)
    assert moved.vmstat["numa_pages_migrated"].iloc[0] > 0
    assert "already-local" not in _codes(moved.notices)


def test_notice_costs_of_the_other_architecture():
    """A hand-built arm64 scenario keeps the x86 defaults (IPI shootdowns): it says so, and
    the machine's own profile (broadcast TLBI) silences it."""
    machine = four_node(cpus_per_node=2, memory_per_node="1 GiB", arch="arm64")
    scenario = Scenario(name="arm", machine=machine, workload=random_access(
        machine, memory="64 MiB"), stop=Stop(kind="duration", duration_s=30.0))
    (notice,) = scenario_notices(scenario)
    assert notice.code == "arch-costs" and "is arm64" in str(notice)
    assert "costs.tlb_broadcast = false" in str(notice) and "preset_costs" in str(notice)
    assert scenario_notices(dataclasses.replace(scenario, costs=preset_costs(machine))) == []
    off = dataclasses.replace(scenario, kernel=dataclasses.replace(scenario.kernel,
                                                                   numa_balancing=0))
    assert scenario_notices(off) == []  # no shootdown without NUMA balancing
