"""Command line: ``numaexp run``, ``presets``, ``show``, ``sweep``, ``calibrate``, ``collect``.

Examples
--------
``numaexp run --out out`` compares modes 0, 1, 2 and 4 on the built-in default
scenario; ``numaexp run data/scenarios/numa02.toml --modes 0,1 --out out/numa02``
runs a scenario file; ``numaexp run numa01_THREAD_ALLOC --modes 0,1`` runs a preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from numaexp.errors import ScenarioError
from numaexp.kernel import commands as kernel_commands
from numaexp.kernel.errors import KernelBackendError
from numaexp.output_dir import earlier_output, write_output

RUN_OUTPUT = ("tables", "figures")
"""The subdirectories ``numaexp run`` writes into ``--out``."""


def load(spec: str):
    """A scenario from a TOML path or a preset name."""
    from numaexp.model.catalog import is_scenario_file, scenario_from

    if is_scenario_file(spec):
        _check_input("scenario", spec, "a scenario .toml file, or a preset name: "
                                       "see numaexp presets")
    return scenario_from(spec)


def _check_input(field: str, path: str, allowed: str) -> None:
    """Refuse an input file that is missing, a directory or unreadable."""
    if not os.path.exists(path):  # also a broken symbolic link
        raise ScenarioError(field, f"no such file: {path}", allowed)
    if os.path.isdir(path):
        raise ScenarioError(field, f"{path} is a directory, not a file", allowed)
    try:
        with open(path, "rb"):
            pass
    except OSError as err:
        raise ScenarioError(field, f"cannot read {path}: {err.strerror or err}", allowed) from None


def _check_out(text: str, subdirs: tuple[str, ...] = ()) -> Path:
    """The ``--out`` directory, refused before any run if it cannot hold the output.

    It may exist (a directory, with ``subdirs`` directories if they exist) or
    not (its nearest existing ancestor must then be a writable directory).
    """
    out = Path(text)
    allowed = "a directory, or a path where one can be created"
    for path in (out, *(out / sub for sub in subdirs)):
        if os.path.lexists(path) and not path.is_dir():
            raise ScenarioError("--out", f"{path} exists and is not a directory", allowed)
    existing = out
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise ScenarioError("--out", f"cannot create {out}: {existing} is not a directory",
                            allowed)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ScenarioError("--out", f"cannot {'write to' if existing == out else 'create'} "
                            f"{out}: permission denied on {existing}", allowed)
    return out


def _items(option: str, text: str, allowed: str) -> list[str]:
    """The comma-separated items of ``option``, refusing an empty one."""
    items = [x.strip() for x in text.split(",")]
    for i, item in enumerate(items):
        if not item:
            raise ScenarioError(option, f"empty item {i + 1} in {text!r}", allowed)
    return items


def _modes(text: str) -> list[int]:
    items = _items("--modes", text, "comma-separated modes such as 0,1")
    try:
        modes = [int(x) for x in items]
    except ValueError:
        raise ScenarioError("--modes", f"not a list of integers: {text!r}",
                            "comma-separated modes such as 0,1") from None
    for i, mode in enumerate(modes):
        if mode in modes[:i]:
            raise ScenarioError("--modes", f"mode {mode} is listed twice in {text!r}",
                                "comma-separated modes, each once, such as 0,1")
    return modes


def cmd_run(args) -> int:
    from numaexp.comparison import compare
    from numaexp.viz import (
        plot_counters,
        plot_locality,
        plot_pages_per_node,
        plot_times,
        save_figure,
    )

    scenario = load(args.scenario)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    modes = _modes(args.modes)
    variants = (_items("--variants", args.variants,
                       "comma-separated variants such as rfc-v1,rfc-v2")
                if args.variants is not None else None)
    out = _check_out(args.out, RUN_OUTPUT)
    earlier = earlier_output(out, RUN_OUTPUT)
    if earlier and not args.overwrite:
        raise ScenarioError("--out", f"{out} holds an earlier run's "
                                     f"{' and '.join(p.name for p in earlier)}",
                            "--overwrite to replace them, or another --out")
    comparison = compare(scenario, modes=modes, variants=variants, progress=not args.quiet,
                         **kernel_commands.run_options(args))
    summary = comparison.frame
    cols = ["label", "elapsed_s", "user_s", "system_s", "numa_pte_updates", "numa_hint_faults",
            "hint_local_pct", "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped",
            "local_access_pct"]
    about = scenario.description or scenario.workload.description
    print(f"scenario: {scenario.name}" + (f" ({about})" if about else "")
          + f" on {scenario.machine.name}")
    print(summary[cols].to_string(index=False, float_format=lambda x: f"{x:,.2f}"))

    def write(directory: Path) -> None:
        comparison.save(directory / "tables")
        if not args.no_plots:
            for name, plot in (("counters", plot_counters), ("times", plot_times),
                               ("locality", plot_locality),
                               ("pages_per_node", plot_pages_per_node)):
                save_figure(plot(comparison), directory / "figures" / name, formats=("png",))
        kernel_commands.write_extras(comparison, directory, not args.no_plots)

    write_output(out, RUN_OUTPUT, write)
    print(f"tables in {out / 'tables'}" + ("" if args.no_plots else
                                          f", figures in {out / 'figures'}"))
    return 0


def cmd_presets(_args) -> int:
    from numaexp.model.catalog import preset_names

    for name in preset_names():
        print(name)
    return 0


def cmd_show(args) -> int:
    from numaexp.model.toml_io import scenario_to_toml

    print(scenario_to_toml(load(args.scenario)))
    return 0


def cmd_sweep(args) -> int:
    from numaexp.sweep import SweepSpec, sweep
    from numaexp.sweep.plots import mean_table, summary_figures
    from numaexp.viz import save_figure

    _check_input("spec", args.spec,
                 "a sweep spec .toml file, such as data/sweeps/modes_scan_size.toml")
    spec = SweepSpec.load(args.spec)
    out = _check_out(args.out, ("store", "figures"))
    store = out / "store"
    if not args.resume and store.is_dir() and any(store.iterdir()):
        raise ScenarioError("--out", f"{store} already holds a sweep's points",
                            "--resume to continue it, or another --out")
    executor, client = args.workers, None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError("--scheduler", "needs dask.distributed",
                                "pip install 'numaexp[dask]'") from None
        try:
            executor = client = Client(args.scheduler)
        except OSError as err:
            raise ScenarioError("--scheduler", f"cannot reach {args.scheduler}: {err}",
                                "the address of a running scheduler, tcp://HOST:8786") from None
    try:
        frame = sweep(spec, executor=executor, store=store, progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    frame.to_csv(out / "summary.csv", index=False)
    frame.to_parquet(out / "summary.parquet", index=False)
    metrics = [m for m in spec.metrics if m in frame.columns]
    print(f"sweep: {spec.name} ({len(frame)} of {len(spec)} points)")
    if (frame["status"] == "ok").any():
        print(mean_table(frame, spec.parameters, metrics).to_string(
            index=False, float_format=lambda x: f"{x:,.4g}"))
    if not args.no_plots:
        for name, fig in summary_figures(frame, spec.parameters, metrics).items():
            save_figure(fig, out / "figures" / name, formats=("png",))
    failed = frame[frame["status"] != "ok"]
    for row in failed.itertuples():
        print(f"point {row.key} {row.status}: {row.error}", file=sys.stderr)
    print(f"store in {store}, summary in {out / 'summary.csv'}"
          + ("" if args.no_plots else f", figures in {out / 'figures'}"))
    return 1 if len(failed) or len(frame) < len(spec) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numaexp",
                                     description="Simulate Linux automatic NUMA balancing.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compare kernel.numa_balancing modes on a scenario")
    run.add_argument("scenario", nargs="?", default="default",
                     help="scenario .toml file or preset name (default: the built-in default)")
    run.add_argument("--modes", default="0,1,2,4",
                     help="comma-separated kernel.numa_balancing modes (default 0,1,2,4)")
    run.add_argument("--variants", default=None,
                     help="comma-separated kernel variants, e.g. rfc-v1,rfc-v2,hierarchical "
                          "or rfc-v2+interleave-as-posted (default: the scenario's)")
    run.add_argument("--out", default="out", help="output directory (default out/)")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the tables and figures of an earlier run in --out")
    run.add_argument("--no-plots", action="store_true", help="write tables only")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    kernel_commands.add_run_options(run)
    run.set_defaults(func=cmd_run)
    presets = sub.add_parser("presets", help="list preset scenario names")
    presets.set_defaults(func=cmd_presets)
    show = sub.add_parser("show", help="print a scenario as TOML")
    show.add_argument("scenario")
    show.set_defaults(func=cmd_show)
    sw = sub.add_parser("sweep", help="run a parameter sweep (spec file: data/sweeps/*.toml)")
    sw.add_argument("spec", help="sweep spec .toml file")
    sw.add_argument("--out", required=True, help="output directory: store/, summary, figures/")
    where = sw.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://HOST:8786")
    where.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: one per CPU)")
    sw.add_argument("--resume", action="store_true",
                    help="continue the sweep stored in --out (run only missing points)")
    sw.add_argument("--no-plots", action="store_true", help="write tables only")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.set_defaults(func=cmd_sweep)
    kernel_commands.add_commands(sub)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    # OSError: a file that went away, a full disk...
    except (ScenarioError, OSError, KernelBackendError) as err:
        print(f"numaexp: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
