"""Issue 16 item 12: cgroup paths with . and .., names that are not text, huge min_free_kbytes."""

from __future__ import annotations

import dataclasses
import re

import pytest
import tomli_w
from helpers import scenario, small_machine, sweep_workload

from numaexp import SweepSpec
from numaexp.errors import ScenarioError
from numaexp.model import Action, Cgroup, Process
from numaexp.model.toml_io import scenario_from_toml, scenario_to_dict


@pytest.fixture
def base():
    machine = small_machine()
    return scenario(sweep_workload(machine, size="16 MiB"), machine)


@pytest.mark.parametrize("path", ["/..", "/.", "/a/../a", "/a/./b", "/a/..", "/../x"])
def test_cgroup_paths_with_dot_parts_are_refused_like_cgroupfs(path, base):
    with pytest.raises(ScenarioError, match=r"^path: invalid cgroup path .*cgroupfs has no "
                                            r"directory named \. or \.\."):
        Cgroup(path=path)
    proc = base.workload.processes[0]
    with pytest.raises(ScenarioError, match=r"^cgroup: invalid cgroup path"):
        Process(name="q", vmas=proc.vmas, threads=proc.threads, cgroup=path)
    with pytest.raises(ScenarioError, match=r"^cgroup: invalid cgroup path"):
        Action(at_s=1.0, kind="numa_load_balance", cgroup=path, value=1)
    data = scenario_to_dict(base)
    data["workload"]["processes"][0]["cgroup"] = path
    with pytest.raises(ScenarioError, match=r"workload\.processes\[0\]\.cgroup: invalid cgroup"):
        scenario_from_toml(tomli_w.dumps(data))


def test_names_with_dots_inside_are_still_cgroup_names():
    assert Cgroup(path="/a.b/..c/c..").path == "/a.b/..c/c.."


@pytest.mark.parametrize("field", ["name", "description"])
@pytest.mark.parametrize("value", [lambda: 1, 3, None, b"bytes"])
def test_names_and_descriptions_must_be_strings(base, field, value):
    for obj in (base, base.machine, base.workload):
        with pytest.raises(ScenarioError, match=rf"^{field}: must be a string \(got "):
            dataclasses.replace(obj, **{field: value})
    with pytest.raises(ScenarioError, match=rf"^{field}: must be a string"):
        SweepSpec(base, product={"kernel.scan_size_mb": [4]}, **{field: value})


@pytest.mark.parametrize("field", ["kind", "cgroup", "process", "thread", "name"])
def test_action_text_fields_must_be_strings(field):
    fields = {"at_s": 1.0, "kind": "move_task", "cgroup": "/", "process": "p", "thread": "w",
              field: lambda: 1}
    with pytest.raises(ScenarioError, match=rf"^{field}: must be a string \(got function"):
        Action(**fields)


def test_a_huge_min_free_kbytes_names_the_tunable_and_the_bound():
    machine = small_machine()  # 2 x 2 GiB
    work = sweep_workload(machine, size="16 MiB")
    # within the sysctl's int: the watermark above the memory is what the message names
    for kbytes in (4 * 2**20, 2**31 - 1):
        with pytest.raises(ScenarioError) as caught:
            scenario(work, machine, min_free_kbytes=kbytes)
        text = str(caught.value)
        assert text.startswith(f"kernel.min_free_kbytes: {kbytes} KiB puts node 0's min "
                               "watermark at "), text
        assert "fewer KiB than the machine's 4194304 KiB of memory" in text
        assert not re.search(r"-\d", text), text  # no negative sizes
    # beyond it: the parameter table refuses the value, naming the int bound
    for kbytes in (2**31, 2**62):
        with pytest.raises(ScenarioError) as caught:
            scenario(work, machine, min_free_kbytes=kbytes)
        text = str(caught.value)
        assert caught.value.field == "min_free_kbytes"
        assert text.startswith(f"min_free_kbytes: {kbytes} is out of range"), text
        assert "[0, 2147483647] KiB (an int: proc_dointvec_minmax)" in text, text
    # just below: the machine keeps a little, and the message says why the workload fits not
    with pytest.raises(ScenarioError, match=r"^workload: needs 16 MiB of memory but .* has "
                                            r"8 KiB above the min watermarks "
                                            r"\(kernel.min_free_kbytes = 4194300 KiB\)"):
        scenario(work, machine, min_free_kbytes=4 * 2**20 - 4)
    assert scenario(work, machine, min_free_kbytes=2 * 2**20).kernel.min_free_kbytes == 2**21
