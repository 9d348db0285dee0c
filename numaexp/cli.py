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
import warnings
from pathlib import Path

from numaexp import caches
from numaexp.cli_checks import check_input, check_out, items, modes, scheduler_address
from numaexp.errors import ScenarioError
from numaexp.interrupts import hold_interrupts
from numaexp.kernel import commands as kernel_commands
from numaexp.kernel.errors import KernelBackendError
from numaexp.output_dir import earlier_output, interrupted_dir, write_output
from numaexp.version import package_version

RUN_OUTPUT = ("tables", "figures")
"""The subdirectories ``numaexp run`` writes into ``--out``."""


def load(spec: str):
    """A scenario from a TOML path or a preset name."""
    from numaexp.model.catalog import is_scenario_file, scenario_from

    if is_scenario_file(spec):
        check_input("scenario", spec, "a scenario .toml file, or a preset name: "
                                      "see numaexp presets")
    return scenario_from(spec)


def cmd_run(args) -> int:
    from numaexp.cli_report import apply_options, formats
    from numaexp.comparison import compare

    scenario = apply_options(load(args.scenario), args.set, args.duration)
    if args.seed is not None:
        scenario = dataclasses.replace(scenario, seed=args.seed)
    mode_list = modes(args.modes)
    variants = (items("--variants", args.variants,
                      "comma-separated variants such as rfc-v1,rfc-v2")
                if args.variants is not None else None)
    args.formats = formats(args.formats)
    out = check_out(args.out, RUN_OUTPUT)
    earlier = earlier_output(out, RUN_OUTPUT)
    if earlier and not args.overwrite:
        raise ScenarioError("--out", f"{out} holds an earlier run's "
                                     f"{' and '.join(p.name for p in earlier)}",
                            "--overwrite to replace them, or another --out")
    args.interrupt_note = "; nothing was written"
    comparison, state = None, {"written": False}
    try:
        with warnings.catch_warnings():  # said below, with what became of the output
            warnings.filterwarnings("ignore", message=r"simulation of .* interrupted")
            comparison = compare(scenario, modes=mode_list, variants=variants,
                                 progress=not args.quiet, **kernel_commands.run_options(args))
        # compare() validated the variants: the labels of every run it meant to make
        planned = _planned(scenario, mode_list, variants, args)
        return _report_and_write(comparison, scenario, planned, out, earlier, args, state)
    except KeyboardInterrupt:
        if comparison is None:  # no run has a result: main() says nothing was written
            raise
        with hold_interrupts():  # the runs are kept: their tables go to an interrupted-* dir
            if state["written"]:
                print(f"numaexp: interrupted after the output was written whole to {out}",
                      file=sys.stderr)
                return 130
            planned = _planned(scenario, mode_list, variants, args)
            what = _what_became(comparison, scenario, planned) or [
                f"every run finished ({', '.join(comparison.results)})"]
            what.append("the Ctrl-C came while the output was written, so the figures were "
                        "left out")
            return _keep_interrupted(comparison, out, earlier, args, "; ".join(what),
                                     plots=False)


def _planned(scenario, mode_list, variants, args) -> list[str]:
    """The labels of every run ``numaexp run`` meant to make (each backend's, with
    ``--backends``)."""
    from numaexp.model.kernel import KernelVariant, comparison_runs

    return kernel_commands.planned_labels([label for label, *_ in comparison_runs(
        mode_list, [KernelVariant.parse(v) for v in variants or [scenario.kernel.variant]])],
        mode_list, args)


def _what_became(comparison, scenario, planned: list[str]) -> list[str]:
    """What an interrupt did to the runs: one clause per cut, dropped, late or missing run
    (empty when every planned run finished untouched)."""
    cut = [label for label, r in comparison.results.items() if r.meta.get("interrupted")]
    late = [label for label, r in comparison.results.items()
            if r.meta.get("interrupt_after_end")]
    dropped = comparison.dropped
    not_run = [label for label in planned
               if label not in comparison.results and label != dropped]
    return ([f"{label} was cut off at "
             f"{comparison.results[label].meta['sim_seconds']:.6g} of "
             f"{scenario.stop.limit_s:g} simulated s (its figures cover only that part)"
             for label in cut]
            + [f"{label} had finished when the Ctrl-C came (while its frames were built) and "
               "is kept whole" for label in late]
            + ([f"{dropped} was interrupted while it was set up or its frames built, and is "
                "dropped"] if dropped is not None else [])
            + ([f"{', '.join(not_run)} did not run"] if not_run else []))


def _report_and_write(comparison, scenario, planned, out: Path, earlier, args, state) -> int:
    """Print the report; write the output whole into ``--out``, or, after an interrupt,
    what there is into a new ``interrupted-*`` directory (exit 130)."""
    from numaexp.cli_report import background_line, report

    cut = {label: result for label, result in comparison.results.items()
           if result.meta.get("interrupted")}
    about = scenario.description or scenario.workload.description
    print(f"scenario: {scenario.name}" + (f" ({about})" if about else "")
          + f" on {scenario.machine.name}")
    print(background_line(scenario, kernel_commands.run_options(args).get("backends")))
    print(report(comparison, scenario, baseline=args.baseline, by=args.by, cut_labels=cut))
    what = _what_became(comparison, scenario, planned)
    if not what:
        write_output(out, RUN_OUTPUT, lambda directory: _write_run(comparison, directory, args))
        state["written"] = True
        print(f"tables in {out / 'tables'}" + ("" if args.no_plots else
                                              f", figures in {out / 'figures'} ("
                                              f"{', '.join(args.formats)})"))
        return 0
    return _keep_interrupted(comparison, out, earlier, args, "; ".join(what))


def _keep_interrupted(comparison, out: Path, earlier, args, what: str,
                      plots: bool = True) -> int:
    """Write an interrupted run's results into a new ``interrupted-*`` directory of ``out``
    with ``INTERRUPTED.txt`` saying ``what`` happened; say where; return 130. A Ctrl-C while
    its figures are drawn leaves them out: the tables are written with Ctrl-C held."""
    target = interrupted_dir(out)
    try:
        if plots:
            write_output(target, RUN_OUTPUT,
                         lambda directory: _write_run(comparison, directory, args))
    except KeyboardInterrupt:
        plots = False
        what += "; a Ctrl-C while the figures were drawn left them out"
    with hold_interrupts():
        if not plots:
            write_output(target, RUN_OUTPUT, lambda directory: _write_run(
                comparison, directory, args, plots=False))
        (target / "INTERRUPTED.txt").write_text(
            f"numaexp run was interrupted (Ctrl-C): {what}.\n", encoding="utf-8")
        kept = (f"{' and '.join(str(p) for p in earlier)} left as "
                f"{'they were' if len(earlier) > 1 else 'it was'}" if earlier
                else f"nothing else in {out} changed")
        print(f"numaexp: interrupted: {what}; the partial results are in {target}, {kept}",
              file=sys.stderr)
    return 130


def _write_run(comparison, directory: Path, args, plots: bool = True) -> None:
    """Write a comparison's tables (and, with ``plots``, every figure that applies) into
    ``directory``."""
    from numaexp.viz import draw, save_figure

    comparison.save(directory / "tables")
    comparison.summary(args.baseline, by="cgroup").to_csv(
        directory / "tables" / "summary_by_cgroup.csv", index=False)
    (directory / "tables" / "sentences.txt").write_text(
        "\n".join([*comparison.sentences(args.baseline).values(),
                   *(f"note: {label}: {n}" for label, found in comparison.notices().items()
                     for n in found)]) + "\n", encoding="utf-8")
    plots = plots and not args.no_plots
    if plots:
        for name, fig in draw(comparison).items():
            save_figure(fig, directory / "figures" / name, formats=args.formats)
    kernel_commands.write_extras(comparison, directory, plots)


def cmd_presets(_args) -> int:
    from numaexp.model.catalog import preset_names

    for name in preset_names():
        print(name)
    return 0


def cmd_show(args) -> int:
    from numaexp.model.toml_io import scenario_to_toml

    print(scenario_to_toml(load(args.scenario), defaults=not args.short))
    return 0


def cmd_sweep(args) -> int:
    from numaexp.sweep import SweepSpec, sweep
    from numaexp.sweep.plots import mean_table, summary_figures
    from numaexp.viz import save_figure

    check_input("spec", args.spec,
                "a sweep spec .toml file, such as data/sweeps/modes_scan_size.toml")
    spec = SweepSpec.load(args.spec)
    out = check_out(args.out, ("store", "figures"))
    store = out / "store"
    if not args.resume and store.is_dir() and any(store.iterdir()):
        raise ScenarioError("--out", f"{store} already holds a sweep's points",
                            "--resume to continue it, or another --out")
    executor, client = args.workers, None
    if args.scheduler is not None:
        address = scheduler_address(args.scheduler)
        try:
            from distributed import Client
        except ImportError:
            raise ScenarioError("--scheduler", "needs dask.distributed",
                                "pip install 'numaexp[dask]'") from None
        try:
            executor = client = Client(address)
        except OSError as err:
            raise ScenarioError("--scheduler", f"cannot reach {address}: {err}",
                                "the address of a running scheduler, tcp://HOST:PORT") from None
    args.interrupt_note = f"; the points finished so far are in {store}: --resume continues"
    try:
        frame = sweep(spec, executor=executor, store=store, progress=not args.quiet)
    except OSError as err:
        raise ScenarioError("--out", f"cannot write {err.filename or store}: {_reason(err)}; the "
                                     f"points finished before are kept in {store}",
                            "room on the disk, then the same command with --resume to "
                            "continue the sweep") from None
    finally:
        if client is not None:
            client.close()
    try:
        frame.to_csv(out / "summary.csv", index=False)
        frame.to_parquet(out / "summary.parquet", index=False)
        metrics = [m for m in spec.metrics if m in frame.columns]
        print(f"sweep: {spec.name} ({len(frame)} of {len(spec)} points)")
        if (frame["status"] == "ok").any():
            print(mean_table(frame, spec.axis_parameters, metrics).to_string(
                index=False, float_format=lambda x: f"{x:,.4g}"))
        if not args.no_plots:
            for name, fig in summary_figures(frame, spec.axis_parameters, metrics).items():
                save_figure(fig, out / "figures" / name, formats=("png",))
    except OSError as err:
        raise ScenarioError("--out", f"cannot write {err.filename or out}: {_reason(err)}; the "
                                     f"sweep's points are kept in {store}",
                            "room on the disk, then the same command with --resume to write "
                            "the summary (finished points do not run again)") from None
    failed = frame[frame["status"] != "ok"]
    for row in failed.itertuples():
        print(f"point {row.key} {row.status}: {row.error}", file=sys.stderr)
    print(f"store in {store}, summary in {out / 'summary.csv'}"
          + ("" if args.no_plots else f", figures in {out / 'figures'}"))
    return 1 if len(failed) or len(frame) < len(spec) else 0


def _reason(err: OSError) -> str:
    """``err``'s message without its errno prefix and file name."""
    return err.strerror or str(err)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numaexp",
                                     description="Simulate Linux automatic NUMA balancing.")
    parser.add_argument("--version", action="version", version=f"numaexp {package_version()}")
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
    run.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                     help="set a scenario field by its dotted path, value as in a scenario "
                          "file (repeatable), e.g. --set kernel.scan_delay_ms=500 --set "
                          "'workload.cgroups[\"/app\"].numa_load_balance=0'")
    run.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                     help="stop every run after this many simulated seconds")
    run.add_argument("--baseline", default=None, metavar="LABEL",
                     help="run the speed-ups are against (default: mode 0, else the first)")
    run.add_argument("--by", choices=("run", "cgroup"), default="run",
                     help="print one row per run (default) or per run and cgroup")
    run.add_argument("--formats", default="png",
                     help="figure formats, comma-separated from png, svg, pdf (default png)")
    kernel_commands.add_run_options(run)
    run.set_defaults(func=cmd_run)
    presets = sub.add_parser("presets", help="list preset scenario names")
    presets.set_defaults(func=cmd_presets)
    show = sub.add_parser("show", help="print a scenario as TOML, defaults included")
    show.add_argument("scenario")
    show.add_argument("--short", action="store_true",
                      help="leave out the fields at their defaults")
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
    caches.add_commands(sub)
    args = parser.parse_args(argv)
    args.interrupt_note = ""
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe (numaexp show X | head) shows here, not at exit
        return code
    except BrokenPipeError:  # the reader went away: stop quietly, as cat and head do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    # OSError: a file that went away, a full disk...
    except (ScenarioError, OSError, KernelBackendError) as err:
        print(f"numaexp: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C outside a simulation (which returns what it has)
        print(f"numaexp: interrupted{args.interrupt_note}", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
