"""The kernel backend end to end: three small guests on Debian's 6.12 under QEMU TCG.

1. numa02 (512 MiB first touched on node 0, 2 nodes x 2 vCPUs), mode 1, through
   ``numaexp.compare(..., backends=["kernel"])``;
2. the same in mode 0, through ``numaexp run ... --backends sim,kernel --profile qemu-tcg``
   (the simulator beside it, at the guest's measured access rate: ``tables/ratios.csv`` and
   the side-by-side figure);
3. a tiered machine (2 DRAM nodes + a kmem node) asking for mode 4, which a
   stock kernel cannot run: its sysctl takes 4 (range 0..4) but it has no
   ``cpu.numa_load_balance``, whose write fails with the kernel's error (after
   the topology was read back).

Each takes under a minute of host time. They run under CI=true (.ci/run
installs qemu-system-x86, busybox-static, gcc, cpio); elsewhere they skip
with the apt-get line when a package is missing.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from kernel_host import require_host

import numaexp
from numaexp.cli import main
from numaexp.kernel.commands import write_extras
from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.rates import at_guest_rate, guest_rates
from numaexp.kernel.records import parse_topology
from numaexp.kernel.scenarios import guest_machine, numa02_guest
from numaexp.kernel.side import ratio_table
from numaexp.kernel.topology import topology_mismatches
from numaexp.model.cost_profiles import apply_profile, load_profile
from numaexp.model.toml_io import save_scenario

GUEST_BUDGET_S = 60.0
"""Host seconds one test guest may take."""


@pytest.fixture(scope="module")
def mode1():
    """Through ``numaexp.compare(..., backends=["kernel"])``."""
    require_host()
    t0 = time.monotonic()
    comparison = numaexp.compare(numa02_guest(1), modes=[1], backends=["kernel"], progress=False)
    result = comparison.results["mode 1"]
    result.meta["test_wall_s"] = time.monotonic() - t0
    assert comparison.settings["backend"].tolist() == ["kernel"]
    return result


@pytest.fixture(scope="module")
def mode0(tmp_path_factory):
    """Through the command line, both backends side by side:
    ``numaexp run SCENARIO --modes 0 --backends sim,kernel --profile qemu-tcg`` (one guest)."""
    require_host()
    tmp = tmp_path_factory.mktemp("mode0")
    save_scenario(numa02_guest(0), tmp / "numa02.toml")
    # the simulator's part compiled and warm, so that the budget times the guest
    numaexp.simulate(apply_profile(numa02_guest(0, duration_s=1), "qemu-tcg"), progress=False)
    t0 = time.monotonic()
    status = main(["run", str(tmp / "numa02.toml"), "--modes", "0", "--backends", "sim,kernel",
                   "--profile", "qemu-tcg", "--out", str(tmp / "out"), "--quiet"])
    assert status == 0
    tables = tmp / "out" / "tables"
    return {"test_wall_s": time.monotonic() - t0, "out": tmp / "out",
            "numa_stat": pd.read_parquet(tables / "numa_stat.parquet"),
            "vmstat": pd.read_parquet(tables / "vmstat.parquet")}


@pytest.fixture(scope="module")
def tiered_mode4(tmp_path_factory):
    """The refused mode-4 run on a tiered machine: (scenario, error, console lines, seconds)."""
    require_host()
    machine = guest_machine(nodes=2, cpus_per_node=1, memory_per_node="768 MiB", kmem=1,
                            kmem_memory="512 MiB")
    scenario = numa02_guest(4, machine=machine, buffer_mib=64, duration_s=2)
    t0 = time.monotonic()
    with pytest.raises(KernelBackendError) as err:
        numaexp.run_kernel(scenario, kernel="6.12", log_dir=tmp_path_factory.mktemp("mode4"),
                           progress=False)
    lines = Path(err.value.log_path).read_text().splitlines()
    return scenario, err.value, lines, time.monotonic() - t0


def _topo(lines):
    return parse_topology([line[len("@@topo "):] for line in lines if line.startswith("@@topo")])


def _pages(result):
    final = result.numa_maps[result.numa_maps["time_s"] == result.numa_maps["time_s"].max()]
    return final.set_index("node")["pages"].astype(int)


def test_each_guest_under_a_minute(mode1, mode0, tiered_mode4):
    assert mode1.meta["test_wall_s"] < GUEST_BUDGET_S, mode1.meta
    assert mode1.meta["boot_seconds"] < GUEST_BUDGET_S / 2
    assert mode0["test_wall_s"] < GUEST_BUDGET_S
    assert tiered_mode4[3] < GUEST_BUDGET_S
    print(f"\nhost seconds: mode 1 {mode1.meta['test_wall_s']:.1f} (boot "
          f"{mode1.meta['boot_seconds']:.1f}), mode 0 {mode0['test_wall_s']:.1f}, "
          f"mode 4 refused {tiered_mode4[3]:.1f}")


def test_guest_topology_is_the_scenarios(mode1, tiered_mode4):
    scenario = numa02_guest(1)
    assert topology_mismatches(scenario.machine, mode1.meta["topology"]) == []
    assert mode1.meta["topology"]["tiers"] == {4: [0, 1]}
    tiered, _err, lines, _ = tiered_mode4
    topo = _topo(lines)
    assert topology_mismatches(tiered.machine, topo) == []
    assert topo["tiers"] == {4: [0, 1], 22: [2]}  # the kmem node in a lower tier
    assert topo["has_cpu"] == [0, 1] and topo["has_memory"] == [0, 1, 2]


def test_numa02_mode1_ends_half_on_each_node(mode1):
    pages = _pages(mode1)
    total = 512 * 256
    assert pages.sum() == total
    assert 0.4 * total <= pages["N0"] <= 0.6 * total, pages
    assert 0.4 * total <= pages["N1"] <= 0.6 * total, pages
    assert mode1.vmstat["numa_pages_migrated"].iloc[0] > 0.3 * total
    assert mode1.meta["finished"]


def test_numa02_mode0_leaves_everything_on_node0(mode0):
    stat = mode0["numa_stat"]
    assert sorted(stat["label"].unique()) == ["mode 0 kernel", "mode 0 sim"]
    stat = stat[stat["backend"] == "kernel"]
    assert (stat["label"] == "mode 0 kernel").all()
    pages = stat.groupby("node")["pages"].sum()
    assert pages["N0"] == 512 * 256 and pages["N1"] == 0
    vm = mode0["vmstat"].set_index("backend").loc["kernel"]
    assert vm["numa_pages_migrated"] == 0 and vm["numa_hint_faults"] == 0


def test_cli_with_both_backends_writes_ratios_and_the_side_by_side_figure(mode0):
    ratios = pd.read_csv(mode0["out"] / "tables" / "ratios.csv")
    assert (ratios["mode"] == 0).all()
    table = ratios.set_index("quantity")
    assert table.loc["pages_N0", "sim"] == table.loc["pages_N0", "kernel"] == 512 * 256
    assert table.loc["pages_N0", "ratio"] == 1.0
    assert table.loc["numa_pages_migrated", "kernel"] == 0  # read from the guest, not written in
    # the simulator ran at the guest's own rate (touches per user second): with no balancing
    # to charge kernel time, both sides made about as many touches
    assert 0.8 <= table.loc["touches", "ratio"] <= 1.25, table.loc["touches"].to_dict()
    assert {"ratio_placed", "kernel_placed"} <= set(ratios.columns)
    figure = mode0["out"] / "figures" / "sim_vs_kernel_mode0.png"
    assert figure.stat().st_size > 10_000
    assert (mode0["out"] / "figures" / "placement.png").is_file()  # the usual figures too
    vmstat = mode0["vmstat"]
    assert sorted(vmstat["backend"]) == ["kernel", "sim"]


def test_calibrate_from_saved_results(mode1, tmp_path):
    mode1.save(tmp_path / "mode1")
    status = main(["calibrate", "--from", str(tmp_path / "mode1"), "--name", "here", "--out",
                   str(tmp_path / "here.toml"), "--quiet"])
    assert status == 0
    profile = load_profile(tmp_path / "here.toml")
    assert profile.name == "here" and profile.flat_latency
    assert 0 < profile.stream_gbps < 10
    # one noisy run under TCG: how the fit splits system time between hint faults and PTE
    # updates varies (either may come out 0 on a loaded host), their sum does not
    assert profile.costs.hint_fault_ns + profile.costs.pte_update_ns > 0
    assert isinstance(profile.fit["confounded"], list)  # events the fit cannot tell apart
    assert profile.fit["runs"] == ["numa02-guest-512M mode 1"]


def test_frames_have_the_simulators_names(mode1):
    sim = numaexp.simulate(numa02_guest(1, duration_s=1), progress=False)
    for name, frame in sim.frames.items():
        kernel = mode1.frames[name]
        assert (kernel["backend"] == "kernel").all()
        assert [c for c in frame.columns if c != "backend"] == \
            [c for c in kernel.columns if c != "backend"], name
    assert mode1.sched["numa_preferred_nid"].notna().all()
    tts = mode1.task_timeseries  # a thread has a CPU from its creation on
    assert tts.loc[tts["alive"].astype(bool), "cpu"].notna().all()


def test_simulator_with_qemu_tcg_profile_within_2x(mode1):
    # the simulator with the profile's per-event costs, at this guest's own access rate
    # (its threads' touches per user second: a TCG guest's speed follows the host's load);
    # counters over each side's window until its placement converged (numa_pages_migrated
    # at 99 % of its final value, side.placement_time); after it the guest goes on scanning
    # the placed buffer 1 to 4 more times by 25 s, at random (docs/kernel-backend.md)
    base = apply_profile(numa02_guest(1), "qemu-tcg")
    rates = guest_rates(base, mode1)
    sim = numaexp.simulate(at_guest_rate(base, mode1, rates), progress=False)
    table = ratio_table(sim, mode1).set_index("quantity")
    print("\n" + rates.to_string() + "\n" + table.to_string())
    assert rates["matched"].all()
    assert 0.5 <= table.loc["touches", "ratio"] <= 2.0, table.loc["touches"].to_dict()
    for quantity in ("numa_pages_migrated", "numa_pte_updates", "numa_hint_faults"):
        ratio = table.loc[quantity, "ratio_placed"]
        assert 0.5 <= ratio <= 2.0, (quantity, table.loc[quantity].to_dict())
    for quantity in ("pages_N0", "pages_N1"):  # the final placement
        ratio = table.loc[quantity, "ratio"]
        assert 0.5 <= ratio <= 2.0, (quantity, table.loc[quantity].to_dict())
    placed = table.loc["placement_s"]
    assert 0 < placed["sim"] < sim.meta["sim_seconds"] and 0 < placed["kernel"]


def test_mode4_on_a_stock_kernel_fails_with_the_kernels_error(tiered_mode4):
    _scenario, err, lines, _ = tiered_mode4
    text = str(err)
    assert "kernel.numa_balancing: 4 (CGROUP) needs the per-cgroup RFC" in text
    # the kernel's own answer to the write (cgroupfs has no such file to open)
    assert "writing 1 to /sys/fs/cgroup/numaexp-probe/cpu.numa_load_balance: " in text
    assert text.split("cpu.numa_load_balance: ")[-1].split("\n")[0].strip()
    assert "last lines of the guest console" in text and err.log_tail
    assert "@@set kernel.numa_balancing /proc/sys/kernel/numa_balancing 4" in lines


def test_own_kernel_path_is_passed_through(tmp_path):
    require_host()
    fake = tmp_path / "bzImage-rfc"
    fake.write_bytes(b"\x00not a kernel\x00" * 1000)
    with pytest.raises(KernelBackendError) as err:
        numaexp.run_kernel(numa02_guest(4, duration_s=2), kernel=fake, log_dir=tmp_path,
                           progress=False, timeout_s=60)
    text = str(err.value)
    assert f"the guest ({fake}) did not boot" in text
    assert "last lines of the guest console" in text and err.value.log_tail.strip()
    command = next(tmp_path.rglob("qemu-command.txt")).read_text()
    assert f"-kernel {fake.resolve()}" in command


def test_comparison_with_both_backends_is_tidy(mode1, tmp_path):
    sim = numaexp.simulate(at_guest_rate(apply_profile(numa02_guest(1), "qemu-tcg"), mode1),
                           progress=False)
    comparison = numaexp.Comparison(
        results={"mode 1 sim": sim, "mode 1 kernel": mode1},
        settings=pd.DataFrame([{"label": "mode 1 sim", "mode": 1, "variant": "rfc-v2",
                                "backend": "sim"},
                               {"label": "mode 1 kernel", "mode": 1, "variant": "rfc-v2",
                                "backend": "kernel"}]))
    frame = comparison.frame
    assert list(frame["backend"]) == ["sim", "kernel"]
    assert comparison.table("numa_stat")["backend"].tolist().count("kernel") == 2
    from numaexp.viz.backends import plot_sim_vs_kernel

    fig = plot_sim_vs_kernel(comparison)
    assert len(fig.axes) == 4
    assert any(line.get_label().endswith("(kernel)") for line in fig.axes[0].get_lines())
    # what `numaexp run --backends sim,kernel` adds to its output
    write_extras(comparison, tmp_path, plots=True)
    ratios = pd.read_csv(tmp_path / "tables" / "ratios.csv").set_index("quantity")
    assert ratios.loc["numa_pages_migrated", "kernel"] == mode1.vmstat[
        "numa_pages_migrated"].iloc[0]
    assert (tmp_path / "figures" / "sim_vs_kernel_mode1.png").stat().st_size > 10_000
