"""Parsers of the kernel's NUMA text files, one function per format.

Each takes the file's text and a ``source`` name used in errors, and
raises :class:`~numaexp.io.errors.SnapshotError` naming the source and the
1-based line on anything that is not in the kernel's format. Counters are
returned as Python ints; sizes in bytes stay bytes unless a name says pages.
"""

from __future__ import annotations

import re

from numaexp.io.errors import SnapshotError

PAGE_SIZE = 4096


def _lines(text: str):
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield number, line


def _int(value: str, source: str, number: int, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SnapshotError(source, number, f"{what}: {value!r} is not an integer") from None


def parse_flat(text: str, source: str = "memory.stat") -> dict[str, int]:
    """``NAME VALUE`` lines: ``/proc/vmstat``, cgroup ``memory.stat`` and ``cpu.stat``.

    Returns
    -------
    dict of str to int
        Counter name -> value, in file order.
    """
    out: dict[str, int] = {}
    for number, line in _lines(text):
        parts = line.split()
        if len(parts) != 2:
            raise SnapshotError(source, number, f"expected 'name value', got {line.strip()!r}")
        out[parts[0]] = _int(parts[1], source, number, parts[0])
    return out


def parse_vmstat(text: str, source: str = "/proc/vmstat") -> dict[str, int]:
    """``/proc/vmstat``: counter name -> value (see :func:`parse_flat`)."""
    return parse_flat(text, source)


def parse_cpu_stat(text: str, source: str = "cpu.stat") -> dict[str, int]:
    """A cgroup's ``cpu.stat`` (``usage_usec``, ``user_usec``, ``system_usec``, ...)."""
    return parse_flat(text, source)


def parse_numa_stat(text: str, source: str = "memory.numa_stat") -> dict[str, dict[int, int]]:
    """A cgroup's ``memory.numa_stat``: ``ITEM N0=BYTES N1=BYTES ...`` lines.

    Returns
    -------
    dict of str to dict of int to int
        Item (``anon``, ``file``, ...) -> node id -> bytes.
    """
    out: dict[str, dict[int, int]] = {}
    for number, line in _lines(text):
        name, *cells = line.split()
        if not cells:
            raise SnapshotError(source, number, f"{name!r} has no N<node>=<bytes> fields")
        nodes = {}
        for cell in cells:
            m = re.fullmatch(r"N(\d+)=(\d+)", cell)
            if not m:
                raise SnapshotError(source, number, f"expected N<node>=<bytes>, got {cell!r}")
            nodes[int(m.group(1))] = int(m.group(2))
        out[name] = nodes
    return out


def parse_node_meminfo(text: str, source: str = "meminfo") -> tuple[int, dict[str, int]]:
    """``/sys/devices/system/node/nodeN/meminfo``: ``Node N NAME: VALUE [kB]`` lines.

    Returns
    -------
    node : int
        The node id.
    values : dict of str to int
        Field -> value, in bytes for ``kB`` fields, else a count (``HugePages_*``).
    """
    node = None
    out: dict[str, int] = {}
    for number, line in _lines(text):
        m = re.fullmatch(r"\s*Node\s+(\d+)\s+([\w()]+):\s+(\d+)(\s+kB)?\s*", line)
        if not m:
            raise SnapshotError(source, number, f"expected 'Node N Name: value [kB]', got "
                                                f"{line.strip()!r}")
        if node is None:
            node = int(m.group(1))
        elif node != int(m.group(1)):
            raise SnapshotError(source, number, f"node {m.group(1)} in a file of node {node}")
        out[m.group(2)] = int(m.group(3)) * (1024 if m.group(4) else 1)
    if node is None:
        raise SnapshotError(source, 0, "empty node meminfo")
    return node, out


def parse_numa_maps(text: str, source: str = "numa_maps") -> list[dict]:
    """``/proc/<pid>/numa_maps``: one dict per VMA line.

    Returns
    -------
    list of dict
        ``start`` (int address), ``policy`` (str), ``pages`` (dict node -> pages,
        from ``N<node>=<pages>``), ``kernelpagesize_kB``, ``file`` / ``anon`` /
        other ``key=value`` fields, and flags (``heap``, ``stack``, ``huge``)
        as True. Page counts are in base pages, as the kernel prints them.
    """
    out = []
    for number, line in _lines(text):
        parts = line.split()
        if len(parts) < 2:
            raise SnapshotError(source, number, f"expected 'address policy ...', got "
                                                f"{line.strip()!r}")
        try:
            start = int(parts[0], 16)
        except ValueError:
            raise SnapshotError(source, number, f"{parts[0]!r} is not a hex address") from None
        vma: dict = {"start": start, "policy": parts[1], "pages": {}}
        for cell in parts[2:]:
            key, sep, value = cell.partition("=")
            if not sep:
                vma[key] = True
                continue
            m = re.fullmatch(r"N(\d+)", key)
            if m:
                vma["pages"][int(m.group(1))] = _int(value, source, number, key)
            elif key == "file":
                vma[key] = value
            else:
                vma[key] = _int(value, source, number, key)
        out.append(vma)
    return out


_SCHED_FIELD = re.compile(r"([\w.>\-\[\]]+)\s*:\s*(-?[\d.]+)\s*$")


def parse_sched(text: str, source: str = "sched") -> dict:
    """``/proc/<pid>/sched`` or ``/proc/<pid>/task/<tid>/sched`` (CONFIG_SCHED_DEBUG).

    Returns
    -------
    dict
        ``comm``, ``pid``, ``threads``; every ``name : value`` field (ints,
        or floats for ms fields such as ``se.sum_exec_runtime``), with
        ``mm->numa_scan_seq`` also as ``numa_scan_seq`` and ``se.nr_migrations`` as
        ``nr_migrations``; ``current_node`` and
        ``numa_group_id``; and ``numa_faults`` as ``{node: {"task_private":
        .., "task_shared": .., "group_private": .., "group_shared": ..}}``.
    """
    lines = list(_lines(text))
    if not lines:
        raise SnapshotError(source, 0, "empty sched file")
    number, head = lines[0]
    m = re.fullmatch(r"(.*) \((\d+), #threads: (\d+)\)\s*", head)
    if not m:
        raise SnapshotError(source, number, f"expected 'comm (pid, #threads: N)', got "
                                            f"{head.strip()!r}")
    out: dict = {"comm": m.group(1), "pid": int(m.group(2)), "threads": int(m.group(3)),
                 "numa_faults": {}}
    for number, line in lines[1:]:
        if set(line.strip()) == {"-"}:
            continue
        if line.startswith("numa_faults node="):
            cells = dict(cell.split("=", 1) for cell in line.split()[1:] if "=" in cell)
            try:
                node = int(cells.pop("node"))
                out["numa_faults"][node] = {k: int(v) for k, v in cells.items()}
            except (KeyError, ValueError):
                raise SnapshotError(source, number, f"bad numa_faults line {line.strip()!r}") \
                    from None
            continue
        if line.startswith("current_node="):
            for cell in line.split(","):
                key, _, value = cell.strip().partition("=")
                out[key] = _int(value, source, number, key)
            continue
        fm = _SCHED_FIELD.fullmatch(line.strip())
        if not fm:
            raise SnapshotError(source, number, f"expected 'name : value', got {line.strip()!r}")
        name, value = fm.groups()
        out[name] = float(value) if "." in value else int(value)
    if "mm->numa_scan_seq" in out:
        out["numa_scan_seq"] = out["mm->numa_scan_seq"]
    if "se.nr_migrations" in out:
        out["nr_migrations"] = out["se.nr_migrations"]
    return out


def parse_task_stat(text: str, source: str = "stat") -> dict[str, int]:
    """``/proc/<pid>/task/<tid>/stat``: the fields numaexp uses.

    Returns
    -------
    dict of str to int
        ``tid``, ``state`` (as its letter's code point), ``utime`` and
        ``stime`` (clock ticks, USER_HZ), ``processor`` (CPU last run on,
        field 39).
    """
    text = text.strip()
    close = text.rfind(")")
    if not text or close < 0:
        raise SnapshotError(source, 1, "expected 'pid (comm) state ...'")
    head, rest = text[:close], text[close + 2:].split()
    if len(rest) < 37:
        raise SnapshotError(source, 1, f"{len(rest) + 2} fields, the kernel writes at least 39")
    tid = _int(head.split(" (")[0], source, 1, "pid")
    # rest[0] is field 3 (state); field N is rest[N - 3]
    return {"tid": tid, "utime": _int(rest[11], source, 1, "utime"),
            "stime": _int(rest[12], source, 1, "stime"),
            "processor": _int(rest[36], source, 1, "processor")}


def parse_cpulist(text: str, source: str = "cpulist") -> list[int]:
    """A kernel cpulist or nodelist such as ``0-2,5`` as ``[0, 1, 2, 5]`` (``""``: empty)."""
    out: list[int] = []
    for part in text.strip().split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        try:
            out.extend(range(int(lo), int(hi or lo) + 1))
        except ValueError:
            raise SnapshotError(source, 1, f"{part!r} is not a CPU or node range") from None
    return out
