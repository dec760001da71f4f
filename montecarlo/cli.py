"""Command line: ``montecarlo <command>``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__


def _load_scenario(text: str):
    from .scenario import Scenario, presets

    if text in presets():
        return Scenario.preset(text)
    if text.endswith(".toml") or os.path.exists(text):
        try:
            return Scenario.from_toml(Path(text))
        except FileNotFoundError:
            raise SystemExit(f"montecarlo: scenario file {text!r} not found") from None
    raise SystemExit(
        f"montecarlo: --scenario must be a preset ({', '.join(presets())}) or a .toml file, "
        f"got {text!r}"
    )


def summary_lines(ds) -> list[str]:
    """A short risk summary of a simulate() Dataset, one fact per line."""
    import numpy as np

    T = int(ds.attrs["horizon_months"])
    n = int(ds.attrs["n_paths"])
    lines = [
        f"scenario {ds.attrs['scenario_name']!r}: {n:,} paths x {T} months, seed "
        f"{ds.attrs['seed']}, backend {ds.attrs['backend']} ({ds.attrs['elapsed_seconds']:.1f} s)",
        f"P(operating profit > 0 in month {T}):      {float(ds.p_profitable[-1]):7.2%}",
    ]
    if "first_profit_month" in ds:
        first = ds.first_profit_month.values
        lines.append(f"P(profitable in some month by month {T}): {np.mean(first <= T):7.2%}")
    lines.append(f"P(ruin: cash below 0 by month {T}):        {float(ds.p_ruined[-1]):7.2%}")
    if "npv" in ds:
        q = np.quantile(ds.npv.values, [0.05, 0.5, 0.95])
        lines.append(
            f"NPV (USD bn) 5% / median / 95%:           {q[0] / 1e9:9.2f} / {q[1] / 1e9:.2f} / "
            f"{q[2] / 1e9:.2f}"
        )
        ruin = ds.ruin_month.values
        ruined = ruin[ruin <= T]
        if ruined.size:
            r = np.quantile(ruined, [0.1, 0.5, 0.9])
            lines.append(
                f"runway of ruined paths (months) 10/50/90%: {r[0]:.0f} / {r[1]:.0f} / {r[2]:.0f}"
                f"; {np.mean(ruin > T):.1%} never run out within {T} months"
            )
        else:
            lines.append(f"runway: no path runs out of cash within {T} months")
    cash = ds.cash.sel(month=T)
    lines.append(
        f"cash at month {T} (USD bn) 5% / median / 95%: "
        f"{float(cash.sel(quantile=0.05)) / 1e9:.2f} / {float(cash.sel(quantile=0.5)) / 1e9:.2f}"
        f" / {float(cash.sel(quantile=0.95)) / 1e9:.2f}"
    )
    return lines


def _run(args: argparse.Namespace) -> int:
    from .engine import simulate
    from .export import write_netcdf

    scenario = _load_scenario(args.scenario)
    progress = False if args.no_progress else None
    ds = simulate(scenario, args.paths, seed=args.seed, backend=args.backend, progress=progress)
    print("\n".join(summary_lines(ds)))
    out = args.out or f"montecarlo-{scenario.name}.nc"
    write_netcdf(ds, out)
    print(f"wrote {out}")
    return 0


def _bench_rng(args: argparse.Namespace) -> int:
    from .bench import format_table, rng_benchmark, write_json

    result = rng_benchmark(n_normals=args.normals, repeats=args.repeats)
    print(format_table(result))
    if args.json:
        write_json(result, args.json)
        print(f"wrote {args.json}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="montecarlo",
        description="Monte Carlo risk engine for the economics of AI inference.",
    )
    parser.add_argument("--version", action="version", version=f"montecarlo {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="simulate a scenario, print a risk summary and write a NetCDF file"
    )
    run.add_argument(
        "--scenario",
        default="frontier-lab",
        help="preset name or scenario .toml file (default: frontier-lab)",
    )
    run.add_argument(
        "--paths", type=_positive_int, default=1_000_000, help="number of paths (default 1e6)"
    )
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--backend", choices=["numba", "numpy"], default="numba")
    run.add_argument(
        "--out", metavar="PATH", help="NetCDF output (default montecarlo-<scenario>.nc)"
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.set_defaults(run=_run)
    bench = commands.add_parser(
        "bench-rng", help="normals per second of the Philox kernels beside numpy's generator"
    )
    bench.add_argument(
        "--normals",
        type=_positive_int,
        default=16_000_000,
        help="normals drawn per timing (default 1.6e7)",
    )
    bench.add_argument(
        "--repeats",
        type=_positive_int,
        default=5,
        help="timings per variant; the median is reported (default 5)",
    )
    bench.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    bench.set_defaults(run=_bench_rng)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("montecarlo: interrupted; nothing was written", file=sys.stderr)
        return 130
    except (ValueError, TypeError) as err:  # invalid scenario or arguments: one clear line
        print(f"montecarlo: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
