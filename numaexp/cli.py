"""Command line: ``numaexp run``, ``numaexp presets``, ``numaexp show``, ``numaexp sweep``.

Examples
--------
``numaexp run --out out`` compares modes 0, 1, 2 and 4 on the built-in default
scenario; ``numaexp run data/scenarios/numa02.toml --modes 0,1 --out out/numa02``
runs a scenario file; ``numaexp run numa01_THREAD_ALLOC --modes 0,1`` runs a preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from numaexp.errors import ScenarioError


def load(spec: str):
    """A scenario from a TOML path or a preset name."""
    from numaexp.model.catalog import scenario_from

    return scenario_from(spec)


def _modes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ScenarioError("--modes", f"not a list of integers: {text!r}",
                            "comma-separated modes such as 0,1") from None


def cmd_run(args) -> int:
    from numaexp.experiment import compare
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
    variants = [v.strip() for v in args.variants.split(",")] if args.variants else None
    comparison = compare(scenario, modes=_modes(args.modes), variants=variants,
                         progress=not args.quiet)
    summary = comparison.frame
    cols = ["label", "elapsed_s", "user_s", "system_s", "numa_pte_updates", "numa_hint_faults",
            "hint_local_pct", "numa_pages_migrated", "numa_task_migrated", "numa_task_swapped",
            "local_access_pct"]
    print(f"scenario: {scenario.name} ({scenario.workload.description}) on {scenario.machine.name}")
    print(summary[cols].to_string(index=False, float_format=lambda x: f"{x:,.2f}"))
    out = Path(args.out)
    comparison.save(out / "tables")
    if not args.no_plots:
        for name, plot in (("counters", plot_counters), ("times", plot_times),
                           ("locality", plot_locality), ("pages_per_node", plot_pages_per_node)):
            save_figure(plot(comparison), out / "figures" / name, formats=("png",))
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

    spec = SweepSpec.load(args.spec)
    out = Path(args.out)
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
    run.add_argument("--no-plots", action="store_true", help="write tables only")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
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
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"numaexp: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
