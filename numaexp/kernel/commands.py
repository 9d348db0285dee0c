"""The kernel backend's command-line parts: ``run --backend(s)``, ``calibrate``, ``collect``.

Registered by :func:`numaexp.cli.main`; kept here so that the CLI module only
gains a few lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

COLLECT_SCRIPT = Path(__file__).resolve().parents[1] / "io" / "numaexp-collect"
"""The POSIX sh snapshot collector shipped with the package."""


def add_run_options(run) -> None:
    """``numaexp run`` options: ``--backend``/``--backends``, ``--kernel``, ``--profile``."""
    run.add_argument("--backend", "--backends", dest="backends", default=None,
                     help="sim (default), kernel (a real kernel in a QEMU guest), or "
                          "sim,kernel side by side")
    run.add_argument("--kernel", default="6.12",
                     help="kernel of the kernel backend: 6.12, 6.1 or a bzImage path")
    run.add_argument("--profile", default=None,
                     help="cost profile for the simulator's runs, e.g. qemu-tcg")


def run_options(args) -> dict:
    """Keyword arguments of :func:`numaexp.compare` from ``numaexp run``'s options."""
    if args.backends is None and args.profile is None:
        return {}
    return {"backends": args.backends or "sim", "kernel": args.kernel, "profile": args.profile}


def planned_labels(sim_labels: list[str], mode_list, args) -> list[str]:
    """The labels ``numaexp run`` expects in its comparison, given the backends.

    ``sim_labels`` are the simulator's (``comparison_runs``); a kernel run is
    ``"mode M"``; with both backends each label gains `` sim`` or `` kernel``
    (as :func:`numaexp.kernel.side.compare_backends` names them).
    """
    if args.backends is None:
        return sim_labels
    from numaexp.kernel.side import check_backends

    backends = check_backends(args.backends)
    mode_list = [mode_list] if isinstance(mode_list, int) else list(mode_list)
    labels = {"sim": sim_labels, "kernel": [f"mode {m}" for m in mode_list]}
    if len(backends) == 1:
        return labels[backends[0]]
    return [f"{label} {b}" for b in backends for label in labels[b]]


def write_extras(comparison, directory: Path, plots: bool) -> None:
    """With both backends: ``tables/ratios.csv`` and ``figures/sim_vs_kernel_mode*.png``."""
    settings = comparison.settings
    if "backend" not in settings or settings["backend"].nunique() < 2:
        return
    from numaexp.kernel.side import comparison_ratios
    from numaexp.viz import save_figure
    from numaexp.viz.backends import plot_sim_vs_kernel

    ratios = comparison_ratios(comparison)
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    ratios.to_csv(directory / "tables" / "ratios.csv", index=False)
    print(ratios.to_string(index=False, float_format=lambda x: f"{x:,.3g}"))
    if plots:
        for mode in ratios["mode"].unique():
            save_figure(plot_sim_vs_kernel(comparison, mode=mode),
                        directory / "figures" / f"sim_vs_kernel_mode{mode}", formats=("png",))


def cmd_calibrate(args) -> int:
    from numaexp.kernel.calibrate import calibrate

    profile = calibrate(args.kernel, results=args.results or None, name=args.name,
                        out=args.out, progress=not args.quiet)
    print(profile.to_toml())
    if args.out:
        print(f"profile written to {args.out}", file=sys.stderr)
    return 0


def cmd_collect(args) -> int:
    if args.script:
        sys.stdout.write(COLLECT_SCRIPT.read_text())
        return 0
    print("numaexp collect --script prints the collector; run it on the machine to observe:\n"
          "  numaexp collect --script > numaexp-collect && sh numaexp-collect -h",
          file=sys.stderr)
    return 2


def collect_main() -> None:  # pragma: no cover - replaces the process
    """The ``numaexp-collect`` command: run the shipped POSIX sh collector with the arguments."""
    import os

    os.execvp("sh", ["sh", str(COLLECT_SCRIPT), *sys.argv[1:]])


def add_commands(sub) -> None:
    """Add ``calibrate`` and ``collect`` to the CLI's subparsers."""
    cal = sub.add_parser("calibrate", help="fit a cost profile to a real kernel under QEMU")
    cal.add_argument("--kernel", default="6.12", help="6.12 (default), 6.1 or a bzImage path")
    cal.add_argument("--from", dest="results", nargs="*", default=None, metavar="DIR",
                     help="fit saved kernel results (Result.save directories) instead of "
                          "running the probes")
    cal.add_argument("--name", default="qemu-tcg", help="profile name (default qemu-tcg)")
    cal.add_argument("--out", default=None, help="write the profile TOML there")
    cal.add_argument("--quiet", action="store_true", help="no progress bars")
    cal.set_defaults(func=cmd_calibrate)
    col = sub.add_parser("collect", help="the snapshot collector script for a real machine")
    col.add_argument("--script", action="store_true", help="print the POSIX sh collector")
    col.set_defaults(func=cmd_collect)
