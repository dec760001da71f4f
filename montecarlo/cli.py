"""Command line: ``montecarlo <command>``."""

from __future__ import annotations

import argparse
import sys

from . import __version__


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
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
