"""Command line: ``numaexp run``, ``numaexp presets``, ``numaexp show``.

Examples
--------
``numaexp run --out out`` compares modes 0 and 1 on the built-in default
scenario; ``numaexp run data/scenarios/numa02.toml --modes 0,1 --out out/numa02``
runs a scenario file; ``numaexp run numa01_THREAD_ALLOC --modes 0,1`` runs a preset.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from numaexp.errors import ScenarioError


def preset_names() -> list[str]:
    """Names accepted in place of a scenario file."""
    from numaexp.model.presets import AUTONUMABENCH

    names = ["default"]
    for name in AUTONUMABENCH:
        names += [name, f"{name}_HARD_BIND", f"{name}_INVERSE_BIND"]
    return names


def load(spec: str):
    """A scenario from a TOML path or a preset name."""
    from numaexp.model.presets import autonumabench_scenario, default_scenario
    from numaexp.model.toml_io import load_scenario

    if spec.endswith(".toml") or Path(spec).exists():
        return load_scenario(spec)
    if spec == "default":
        return default_scenario()
    if spec in preset_names():
        return autonumabench_scenario(spec)
    raise ScenarioError("scenario", f"{spec!r} is neither a .toml file nor a preset",
                        ", ".join(preset_names()))


def _modes(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ScenarioError("--modes", f"not a list of integers: {text!r}",
                            "comma-separated modes such as 0,1") from None


def cmd_run(args) -> int:
    from numaexp.experiment import compare
    from numaexp.viz import plot_counters, plot_locality, plot_pages_per_node, plot_times
    from numaexp.viz.plots import save_figure

    scenario = load(args.scenario)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    comparison = compare(scenario, modes=_modes(args.modes), progress=not args.quiet)
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
    for name in preset_names():
        print(name)
    return 0


def cmd_show(args) -> int:
    from numaexp.model.toml_io import scenario_to_toml

    print(scenario_to_toml(load(args.scenario)))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numaexp",
                                     description="Simulate Linux automatic NUMA balancing.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compare kernel.numa_balancing modes on a scenario")
    run.add_argument("scenario", nargs="?", default="default",
                     help="scenario .toml file or preset name (default: the built-in default)")
    run.add_argument("--modes", default="0,1", help="comma-separated modes (default 0,1)")
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
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as err:
        print(f"numaexp: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
