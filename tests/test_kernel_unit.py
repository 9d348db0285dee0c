"""The kernel backend without a guest: translation, QEMU plan, errors, parsing, calibration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import numaexp
from numaexp.errors import ScenarioError
from numaexp.kernel import host
from numaexp.kernel.calibrate import EVENTS, confounded_events, nnls
from numaexp.kernel.errors import KernelBackendError
from numaexp.kernel.guest import plan_guest
from numaexp.kernel.images import kernel_image
from numaexp.kernel.records import parse_records, parse_topology
from numaexp.kernel.result import KernelResult, load_result
from numaexp.kernel.scenarios import guest_machine, numa02_guest
from numaexp.kernel.setup import setup_script, spec_text, untranslatable
from numaexp.kernel.side import check_backends, placement_time, ratio_table
from numaexp.model import Action, MemPolicy, Vma
from numaexp.model.cost_profiles import apply_profile, available_profiles, load_profile
from numaexp.model.kernel import KernelConfig


def test_qemu_plan_of_a_tiered_machine():
    machine = guest_machine(nodes=2, cpus_per_node=2, memory_per_node="512 MiB", cpuless=1,
                            kmem=1, kmem_memory="512 MiB")
    plan = plan_guest(machine)
    args = " ".join(plan.qemu_args)
    assert "-smp 4,sockets=2,cores=2,threads=1" in args  # one socket per CPU node
    assert "q35,max-ram-below-4g=1536M" in args  # DRAM below 4 GiB, the kmem range above
    assert "node,nodeid=0,memdev=m0,cpus=0-1" in args
    assert "node,nodeid=2,memdev=m2 " in args + " "  # CPU-less: no cpus=
    assert "dist,src=0,dst=3,val=14" in args and "dist,src=1,dst=0,val=21" in args
    assert plan.cmdline == ("memmap=512M!4096M", "memhp_default_state=offline")
    assert plan.kmem_nodes == (3,)


def test_untranslatable_fields_listed_together():
    scenario = numa02_guest(1)
    proc = scenario.workload.processes[0]
    proc = dataclasses.replace(proc, vmas=(dataclasses.replace(proc.vmas[0], kind="file"),))
    bad = dataclasses.replace(
        scenario, kernel=dataclasses.replace(scenario.kernel, hz=1000),
        workload=dataclasses.replace(scenario.workload, processes=(proc,)),
        actions=(Action(at_s=1.0, kind="numa_balancing", value=0),),
        machine=dataclasses.replace(scenario.machine, arch="arm64"))
    problems = untranslatable(bad)
    assert len(problems) == 4
    with pytest.raises(ScenarioError) as err:
        numaexp.run_kernel(bad)
    text = str(err.value)
    for field in ("machine.arch", "kernel.hz", "actions", "workload.processes[0].vmas[0].kind"):
        assert field in text


def test_unequal_cpu_nodes_cannot_be_sockets():
    machine = numaexp.Machine(name="odd", nodes=(numaexp.Node(cpus=2, memory="1 GiB"),
                                                 numaexp.Node(cpus=1, memory="1 GiB")),
                              distance=((10, 21), (21, 10)))
    with pytest.raises(ScenarioError, match=r"machine.nodes\[\*\].cpus: .* \[2, 1\]"):
        plan_guest(machine)


def test_spec_and_setup_script():
    scenario = numa02_guest(1)
    proc = scenario.workload.processes[0]
    vma = Vma(name="buf", size=proc.vmas[0].size, policy=MemPolicy("bind", (0, 1), True))
    scenario = dataclasses.replace(scenario, workload=dataclasses.replace(
        scenario.workload, processes=(dataclasses.replace(proc, vmas=(vma,)),)))
    spec = spec_text(scenario).splitlines()
    assert spec[0].startswith("run duration 25.000000")
    assert "vma buf 536870912 0 0 0 -1 2 8192 3" in spec  # MPOL_BIND | MPOL_F_NUMA_BALANCING
    threads = [line for line in spec if line.startswith("thread")]
    assert len(threads) == 4
    pats = [line.split() for line in spec if line.startswith("pat")]
    assert [int(p[3]) for p in pats] == [k * 128 << 20 for k in range(4)]  # own quarter each
    script = setup_script(scenario, ())
    assert "setw kernel.numa_balancing /proc/sys/kernel/numa_balancing 1 -" in script
    assert "/sys/kernel/debug/sched/numa_balancing/scan_size_mb 512 256" in script
    assert "transparent_hugepage/enabled madvise" in script
    assert "kmem " not in script.split("topology()")[1]  # no kmem node, no conversion


def test_missing_package_names_it_and_the_apt_line(monkeypatch):
    monkeypatch.setattr(host.shutil, "which",
                        lambda prog: None if prog == "qemu-system-x86_64" else "/usr/bin/x")
    with pytest.raises(KernelBackendError) as err:
        host.require_programs()
    assert "qemu-system-x86_64 (package qemu-system-x86)" in str(err.value)
    assert "sudo apt-get install -y qemu-system-x86" in str(err.value)


def test_kernel_names():
    with pytest.raises(KernelBackendError, match=r"no file '/nonexistent/bzImage'.*6\.12, 6\.1"):
        kernel_image("/nonexistent/bzImage")


def test_records_and_topology_parsing():
    text = ("@vma p buf 7f00 4096\n@task p t 10 11\n@sample 0 0.0\n@file /proc/vmstat\n"
            "@line numa_hint_faults 3\n@eof\n@stat 10 11 5 0 -1\n@err p:buf 22 mbind: Invalid "
            "argument\n@end 1.5 0\n")
    r = parse_records(text)
    assert r.samples[0].vmstat == {"numa_hint_faults": 3}
    assert r.samples[0].work[11] == (5, False, -1.0)
    assert r.mappings[0].tgid == 10 and r.mappings[0].start == 0x7F00
    assert r.errors == ["p:buf: mbind: Invalid argument (errno 22)"]
    assert r.end_s == 1.5 and not r.timed_out
    with pytest.raises(numaexp.io.SnapshotError,
                       match="guest records, line 3: unterminated dump of /proc/vmstat"):
        parse_records("@sample 0 0\n@file /proc/vmstat\n@sample 1 1\n")
    topo = parse_topology(["node 0 cpus=0-1 memtotal_kb=10 distance=10,21", "tier 4 0-1",
                           "has_cpu 0", "cpus 2"])
    assert topo["nodes"][0] == {"cpus": [0, 1], "memtotal_bytes": 10240, "distance": [10, 21]}
    assert topo["tiers"] == {4: [0, 1]} and topo["cpus"] == 2


def test_a_saved_kernel_result_reads_back_with_integer_node_and_tier_ids(tmp_path):
    """JSON makes the node and tier ids of the topology strings; a cached guest run must
    read back as the guest produced it (a notebook's assertion failed on an empty cache)."""
    topo = parse_topology(["node 0 cpus=0-1 memtotal_kb=10 distance=10,21",
                           "node 2 memtotal_kb=10 distance=21,10", "tier 4 0", "tier 22 2"])
    frame = pd.DataFrame({"time_s": [0.0], "numa_hint_faults": [1]})
    KernelResult(scenario=None, frames={"timeseries": frame},
                 meta={"topology": topo, "mode": 1}).save(tmp_path, formats=("parquet",))
    back = load_result(tmp_path)
    assert back.meta["topology"] == topo
    assert back.meta["topology"]["tiers"] == {4: [0], 22: [2]}


def test_backends_checked():
    assert check_backends("sim,kernel") == ["sim", "kernel"]
    with pytest.raises(ScenarioError, match=r"backends\[1\]: unknown backend 'qemu'"):
        check_backends(["sim", "qemu"])
    with pytest.raises(ScenarioError, match="given twice"):
        check_backends(["sim", "sim"])


def test_nnls_recovers_nonnegative_costs():
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1000, size=(60, 4))
    truth = np.array([20e3, 0.0, 3e3, 100e3])
    b = a @ truth + rng.normal(0, 1e3, 60)
    x = nnls(a, b)
    assert (x >= 0).all()
    assert x[0] == pytest.approx(truth[0], rel=0.05) and x[3] == pytest.approx(truth[3], rel=0.05)


def test_events_that_rise_together_are_named_as_confounded():
    """Migrations in the same intervals as first touches: their costs cannot be told apart."""
    rng = np.random.default_rng(2)
    rows = pd.DataFrame({name: rng.uniform(0, 1000, 30) for name in EVENTS})
    assert confounded_events(rows) == []
    rows["numa_pages_migrated"] = 3 * rows["first_touch"] + rng.normal(0, 1, 30)
    pairs = confounded_events(rows)
    assert [(a, b) for a, b, _ in pairs] == [("numa_pages_migrated", "first_touch")]
    assert pairs[0][2] > 0.99


def test_qemu_tcg_profile_ships_and_applies():
    assert "qemu-tcg" in available_profiles()
    profile = load_profile("qemu-tcg")
    assert profile.flat_latency and 0 < profile.stream_gbps < 5
    s = apply_profile(numa02_guest(1), profile)
    assert s.costs == profile.costs
    assert {p.stream_gbps for t in s.workload.processes[0].threads for p in t.phases} == \
        {profile.stream_gbps}
    lat = s.machine.latency_matrix
    assert len({x for row in lat for x in row}) == 1  # remote costs what local does
    with pytest.raises(ScenarioError, match="no cost profile 'nope'"):
        load_profile("nope")


def test_mode4_on_mainline_is_what_the_stock_kernel_takes():
    # 6.12's sysctl accepts 0..4 (the mode-4 bit only matters with the RFC's cgroup file)
    config = KernelConfig(numa_balancing=4, variant="mainline")
    assert "cgroup_mode" in setup_script(numa02_guest(4, variant="mainline"), ())
    assert config.numa_balancing == 4


def test_compare_with_the_sim_backend_and_a_profile():
    comparison = numaexp.compare(numa02_guest(1, duration_s=1), modes=[1, 0], backends="sim",
                                 profile="qemu-tcg", progress=False)
    assert list(comparison.results) == ["mode 1", "mode 0"]  # the order asked for
    assert comparison.settings["backend"].tolist() == ["sim", "sim"]
    assert (comparison.table("vmstat")["backend"] == "sim").all()
    run = comparison.results["mode 1"].scenario
    assert run.costs == load_profile("qemu-tcg").costs  # the profile reached the simulator


def test_pinned_numa02_gives_each_thread_its_cpu_and_quarter():
    s = numa02_guest(1, pinned=True)
    threads = s.workload.processes[0].threads
    assert [t.cpus for t in threads] == [(0,), (1,), (2,), (3,)]
    quarter = 128 << 20
    assert [(t.phases[0].patterns[0].start, t.phases[0].patterns[0].length) for t in threads] \
        == [(k * quarter, quarter) for k in range(4)]
    assert "thread worker.2 2 -1 0 0" in spec_text(s)


def test_dashboard_sim_backend_with_a_profile():
    from numaexp.widgets.comparison import DashboardModel
    from numaexp.widgets.scenarios import DashboardSettings

    model = DashboardModel(DashboardSettings(passes=5, backends=("sim",), profile="qemu-tcg"))
    model.run(blocking=True)
    assert model.status == "done", model.message
    assert model.comparison.settings["backend"].tolist() == ["sim", "sim"]
    run = model.comparison.results["mode 1"]
    assert run.scenario.costs == load_profile("qemu-tcg").costs
    assert (run.vmstat["backend"] == "sim").all()
    bad = DashboardModel(DashboardSettings(passes=5, backends=("qemu",)))
    bad.run(blocking=True)
    assert bad.status == "error" and "unknown backend 'qemu'" in bad.message


def test_lazy_calibrate_names_in_a_fresh_interpreter():
    # a fresh interpreter: any earlier import of numaexp.kernel.calibrate hides the bug
    # (the package's __getattr__ re-entered itself and raised RecursionError)
    import os
    import subprocess
    import sys
    from pathlib import Path

    # the numaexp under test, whichever tree it is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(numaexp.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    code = ("from numaexp.kernel import calibrate; import numaexp.kernel as k; "
            "assert callable(calibrate.calibrate) and k.calibrate is calibrate; "
            "import numaexp.kernel.calibrate as m; "
            "assert k.fit_profile is m.fit_profile and k.calibrate is m; print('ok')")
    for snippet in (code, "import numaexp.kernel as k; k.fit_profile; k.calibrate.calibrate;"
                          " print('ok')"):
        done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True,
                              timeout=120, env=env)
        assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        numaexp.kernel.nope  # noqa: B018


def _rescanned(result, scans: int, pages: int):
    """A copy of ``result`` that goes on scanning its placed buffer ``scans`` more times
    after its placement (``pages`` PTE updates and hinting faults each, all local), as a
    guest does at random after convergence."""
    frames = {name: frame.copy() for name, frame in result.frames.items()}
    ts = frames["timeseries"]
    after = ts["time_s"] > placement_time(result)
    extra = after.cumsum().clip(upper=scans) * pages
    for name in ("numa_pte_updates", "numa_hint_faults", "numa_hint_faults_local"):
        ts[name] = ts[name] + extra
        frames["vmstat"][name] = ts[name].iloc[-1]
    return KernelResult(scenario=result.scenario, frames=frames, meta=dict(result.meta))


def test_ratio_table_compares_until_placement_converges():
    sim = numaexp.simulate(apply_profile(numa02_guest(1, duration_s=12), "qemu-tcg"),
                           progress=False)
    migrated = sim.timeseries["numa_pages_migrated"]
    t = placement_time(sim)
    assert migrated.iloc[-1] > 0 and 0 < t < 12
    assert migrated[sim.timeseries["time_s"] == t].item() >= 0.99 * migrated.iloc[-1]
    assert (migrated[sim.timeseries["time_s"] < t] < 0.99 * migrated.iloc[-1]).all()
    # the "kernel": the same run, then five more scans of the placed buffer
    kernel = _rescanned(sim, 5, 131072)
    table = ratio_table(sim, kernel).set_index("quantity")
    assert table.loc["numa_pte_updates", "ratio"] < 0.5  # the whole run: outside 2x
    for name in ("numa_pte_updates", "numa_hint_faults", "numa_pages_migrated",
                 "pages_N0", "pages_N1"):
        assert table.loc[name, "ratio_placed"] == 1.0, name  # until placement: the same
    assert table.loc["placement_s", "sim"] == table.loc["placement_s", "kernel"] == t
    assert table.loc["numa_pte_updates", "kernel_placed"] == \
        sim.timeseries.loc[sim.timeseries["time_s"] == t, "numa_pte_updates"].item()
    # nothing migrated (mode 0): the window is the whole run
    still = numaexp.simulate(numa02_guest(0, duration_s=2), progress=False)
    assert placement_time(still) == still.timeseries["time_s"].iloc[-1]


def test_a_kept_console_log_parses_again(tmp_path):
    """``result_from_log``: a past guest run's frames from its console log alone (how the
    spread of the kept runs in docs/kernel-backend.md was measured)."""
    import base64
    import gzip

    from numaexp.kernel.console import GuestRun
    from numaexp.kernel.run import result_from_log

    def sample(k, migrated):
        return (f"@sample {k} {float(k)}\n@file /proc/vmstat\n@line numa_pages_migrated "
                f"{migrated}\n@line numa_pte_updates {131072 * k}\n@eof\n")

    records = ("@task numa02 worker.0 10 11\n" + sample(0, 0) + sample(1, 900) + sample(2, 1000)
               + "@end 2.0 0\n")
    block = base64.b64encode(gzip.compress(records.encode())).decode()
    log = tmp_path / "console.log"
    log.write_text("SeaBIOS\n@@numaexp-guest-up 3.1 6.12.118+deb12-amd64\n@@topo cpus 4\n"
                   f"@@numaexp-data-begin {len(block)}\n{block[:60]}\n{block[60:]}\n"
                   "@@numaexp-data-end\n")
    run = GuestRun.from_log(log)
    assert "@end 2.0 0" in run.records and run.status("topo") == ["cpus 4"]
    result = result_from_log(numa02_guest(1, duration_s=2), log)
    assert result.meta["kernel_release"] == "6.12.118+deb12-amd64"
    assert result.meta["console_log"] == str(log)
    assert result.timeseries["numa_pages_migrated"].tolist() == [0, 900, 1000]
    assert result.vmstat["numa_pte_updates"].item() == 2 * 131072
    assert placement_time(result) == 2.0 and placement_time(result, 0.9) == 1.0


def test_run_expects_the_labels_each_backend_gives():
    """``numaexp run --backends sim,kernel`` took its runs, labelled "mode M sim" and
    "mode M kernel", for runs that did not happen and stopped as interrupted (exit 130)."""
    from argparse import Namespace

    from numaexp.kernel.commands import planned_labels

    sim = ["mode 0", "mode 1"]
    assert planned_labels(sim, [0, 1], Namespace(backends=None)) == sim
    assert planned_labels(sim, [0, 1], Namespace(backends="sim")) == sim
    assert planned_labels(sim, [0, 1], Namespace(backends="kernel")) == sim
    assert planned_labels(sim, [0, 1], Namespace(backends="sim,kernel")) == [
        "mode 0 sim", "mode 1 sim", "mode 0 kernel", "mode 1 kernel"]


def test_cli_with_both_backends_without_a_guest(tmp_path, monkeypatch):
    """``numaexp run --backends sim,kernel``, end to end, with a stand-in for the guest (the
    simulator's own result, tagged "kernel"): exit 0, ratios.csv and every figure."""
    from numaexp.cli import main
    from numaexp.kernel import run as kernel_run
    from numaexp.model.toml_io import save_scenario

    def stand_in(scenario, **_):
        result = numaexp.simulate(apply_profile(scenario, "qemu-tcg"), progress=False)
        tts = result.frames["task_timeseries"]  # the guest's first sample: no thread yet
        first = tts["time_s"] == tts["time_s"].min()
        tts["current_node"] = tts["current_node"].astype("Int64")
        tts.loc[first, "current_node"] = pd.NA
        tts.loc[first, "alive"] = False
        for frame in result.frames.values():
            frame["backend"] = "kernel"
        result.meta["backend"] = "kernel"
        return result

    monkeypatch.setattr(kernel_run, "run_kernel", stand_in)
    save_scenario(numa02_guest(1, duration_s=2), tmp_path / "s.toml")
    status = main(["run", str(tmp_path / "s.toml"), "--modes", "1", "--backends", "sim,kernel",
                   "--profile", "qemu-tcg", "--out", str(tmp_path / "out"), "--quiet"])
    assert status == 0
    ratios = pd.read_csv(tmp_path / "out" / "tables" / "ratios.csv").set_index("quantity")
    assert ratios.loc["numa_pages_migrated", "ratio"] == 1.0
    assert (tmp_path / "out" / "figures" / "sim_vs_kernel_mode1.png").stat().st_size > 10_000
    assert (tmp_path / "out" / "figures" / "placement.png").is_file()


def test_a_guest_that_overruns_its_timeout_is_killed_with_the_console_tail(tmp_path):
    import time

    from numaexp.kernel.console import boot

    log = tmp_path / "run" / "console.log"
    t0 = time.monotonic()
    with pytest.raises(KernelBackendError) as err:
        boot(["sh", "-c", "echo booting; echo '@@numaexp-guest-up 0.1 6.12'; sleep 30"], log,
             timeout_s=1, limit_s=5, progress=False)
    assert time.monotonic() - t0 < 10  # killed at the timeout, not after the sleep
    text = str(err.value)
    assert "the guest did not finish within 1 s (timeout_s)" in text
    assert "last lines of the guest console" in text and "booting" in err.value.log_tail
    assert err.value.log_path == str(log)
    assert log.read_text().splitlines()[:2] == ["booting", "@@numaexp-guest-up 0.1 6.12"]


def test_ci_installs_any_kernel_package_missing_libc6_dev_included(tmp_path):
    """``.ci/run``'s "already installed?" check covers each of the kernel backend's packages
    (it skipped libc6-dev, without which gcc -static cannot build the executor)."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    script = Path(numaexp.__file__).resolve().parents[1] / ".ci" / "run"
    fake = tmp_path / "bin"
    fake.mkdir()
    status = {"libc6-dev": "unknown ok not-installed", "cpio": "deinstall ok config-files"}
    cases = "\n".join(f'    {pkg}) printf "{text}"; exit 1 ;;' for pkg, text in status.items())
    (fake / "dpkg-query").write_text(
        f'#!/bin/sh\neval "pkg=\\${{$#}}"\ncase $pkg in\n{cases}\n'
        '    *) printf "install ok installed" ;;\nesac\n')
    (fake / "chromium").write_text("#!/bin/sh\n")
    for name in ("make", "apt-get", "sudo"):  # never reached with --missing
        (fake / name).write_text("#!/bin/sh\necho \"$0 ran\" >&2; exit 3\n")
    for f in fake.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([shutil.which("bash"), str(script), "--missing"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["libc6-dev", "cpio"]  # cpio: removed, its config kept


GUEST_LOG = Path(__file__).parent / "data" / "guest-numa02-mode1" / "console.log"
"""A kept console log: ``numa02_guest(1)`` on Debian's 6.12.118 under QEMU TCG
(2026-12-07 16:30:57, one of the runs in docs/kernel-backend.md)."""


def _kept_guest():
    from numaexp.kernel.run import result_from_log

    return result_from_log(numa02_guest(1), GUEST_LOG)


def test_the_guests_own_rate_is_measured_and_set_on_the_simulated_scenario():
    from numaexp.kernel.rates import at_guest_rate, guest_rates

    kernel = _kept_guest()
    tasks = kernel.times[kernel.times["level"] == "task"]
    touches = pd.to_numeric(tasks["touches"]).astype(float).sum()
    assert len(tasks) == 4 and touches > 1e6  # the executor's work counters
    measured = touches * 4096 / tasks["user_s"].sum() / 1e9  # GB/s per thread of user time
    profile = load_profile("qemu-tcg")
    assert abs(measured / profile.stream_gbps - 1) > 0.2  # this guest ran at its own rate
    base = apply_profile(numa02_guest(1), profile)
    rates = guest_rates(base, kernel)
    assert rates[["process", "thread", "kind", "replicas"]].values.tolist() == [
        ["numa02", "worker", "sweep", 4]]
    assert rates["stream_gbps"].item() == pytest.approx(measured, rel=1e-12)
    assert rates["matched"].item()
    run = at_guest_rate(base, kernel)
    phases = [p for t in run.workload.processes[0].threads for p in t.phases]
    assert phases and {p.stream_gbps for p in phases} == {rates["stream_gbps"].item()}
    # nothing else changes: the profile's per-event costs and flat latency stay
    assert run.costs == profile.costs and run.machine == base.machine
    assert run.kernel == base.kernel and run.stop == base.stop
    # and the simulator runs at it: touches x 4 KiB per user second of the simulation
    sim = numaexp.simulate(dataclasses.replace(run, stop=dataclasses.replace(
        run.stop, duration_s=3)), progress=False)
    total = sim.times[sim.times["level"] == "total"].iloc[0]
    assert total["touches"] * 4096 / total["user_s"] / 1e9 == pytest.approx(measured, rel=1e-3)


def test_compare_with_both_backends_runs_the_simulator_at_the_guests_rate(monkeypatch):
    """``compare(..., backends=["sim", "kernel"])``: the guest first, then the simulator at
    the rate that guest measured (a kept run stands in for the guest)."""
    from numaexp.kernel import run as kernel_run
    from numaexp.kernel.rates import guest_rates

    kernel = _kept_guest()
    calls = []

    def stand_in(scenario, **_):
        calls.append(scenario.kernel.numa_balancing)
        return kernel

    monkeypatch.setattr(kernel_run, "run_kernel", stand_in)
    scenario = numa02_guest(1, duration_s=3)
    comparison = numaexp.compare(scenario, modes=[1], backends=["sim", "kernel"],
                                 profile="qemu-tcg", progress=False)
    assert calls == [1]
    assert list(comparison.results) == ["mode 1 sim", "mode 1 kernel"]
    sim = comparison.results["mode 1 sim"]
    measured = guest_rates(scenario, kernel)["stream_gbps"].item()
    assert {p.stream_gbps for t in sim.scenario.workload.processes[0].threads
            for p in t.phases} == {measured}
    assert sim.scenario.costs == load_profile("qemu-tcg").costs
    (row,) = sim.meta["guest_rate"]
    assert row["thread"] == "worker" and row["stream_gbps"] == measured and row["matched"]
    assert row["touches"] > 1e6 and row["user_s"] > 10
    # opting out keeps the profile's rate
    fixed = numaexp.compare(scenario, modes=[1], backends=["sim", "kernel"],
                            profile="qemu-tcg", progress=False, guest_rate=False)
    run = fixed.results["mode 1 sim"]
    assert {p.stream_gbps for t in run.scenario.workload.processes[0].threads
            for p in t.phases} == {load_profile("qemu-tcg").stream_gbps}
    assert "guest_rate" not in run.meta


def test_rates_measured_on_a_simulation_are_its_own():
    """Measured the same way on a simulation, the rates are the ones it ran at: a sweep's
    ``stream_gbps`` and a random pattern's ``think_ns`` (its stall ``latency / mlp`` taken
    off); a thread with both kinds of phase, or one the run does not have, is left as is."""
    from numaexp.kernel.rates import at_guest_rate, guest_rates
    from numaexp.model.workload import Pattern, Phase

    profile = load_profile("qemu-tcg")
    sweep = apply_profile(numa02_guest(1, duration_s=2), profile)
    rates = guest_rates(sweep, numaexp.simulate(sweep, progress=False))
    assert rates["stream_gbps"].item() == pytest.approx(profile.stream_gbps, rel=1e-3)
    hot = apply_profile(numa02_guest(1, duration_s=2, hot_size=0.05), profile)
    rates = guest_rates(hot, numaexp.simulate(hot, progress=False))
    assert rates["kind"].item() == "random"
    assert rates["think_ns"].item() == pytest.approx(profile.think_ns, rel=1e-3)
    # a thread with a sweep phase and a random one: the guest counts touches per thread
    proc = sweep.workload.processes[0]
    (thread,) = proc.threads
    mixed = dataclasses.replace(thread, phases=(
        Phase(patterns=(dataclasses.replace(thread.phases[0].patterns[0]),), passes=1),
        Phase(patterns=(Pattern(vma=proc.vmas[0].name, kind="uniform"),))))
    scenario = dataclasses.replace(sweep, workload=dataclasses.replace(
        sweep.workload, processes=(dataclasses.replace(proc, threads=(mixed,)),)))
    rates = guest_rates(scenario, _kept_guest())
    assert rates["kind"].item() == "mixed" and not rates["matched"].item()
    assert at_guest_rate(scenario, _kept_guest()) == scenario
    other = dataclasses.replace(sweep, workload=dataclasses.replace(
        sweep.workload, processes=(dataclasses.replace(proc, name="other"),)))
    with pytest.raises(ScenarioError, match="none of the scenario's threads"):
        at_guest_rate(other, _kept_guest())
