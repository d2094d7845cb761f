"""Every benchmark in turn, each in its own process, each rewriting its section of docs/BENCHMARKS.md.

    python -m bench.all                  # about an hour on 2 cores, most of it the 1M-chunk scale runs
    python -m bench.all --quick          # small settings, to check the scripts (still writes the document)
    python -m bench.all --only serving,resilience

Before each benchmark, waits (up to --wait-max seconds) for the 1-minute load average to fall below
--max-load: the machine is shared, and a figure taken while another test suite runs says little.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench.report import ROOT

ORDER = ("serving", "store", "replicas", "fairness", "encoder", "ingestion", "scale", "resilience")
QUICK: dict[str, list[str]] = {
    "serving": ["--duration", "3", "--levels", "1,4"],
    "store": ["--duration", "2"],
    "replicas": ["--duration", "3", "--levels", "8"],
    "fairness": ["--duration", "5"],
    "encoder": ["--queries", "10", "--passages", "32"],
    "ingestion": [],
    "scale": ["--sizes", "2000,20000", "--queries", "200", "--latency-queries", "50"],
    "resilience": ["--duration", "8", "--clients", "4", "--reindex-at", "2", "--swaps", "warm"],
}


def wait_for_quiet(max_load: float, wait_max: float) -> None:
    deadline = time.monotonic() + wait_max
    while (load := os.getloadavg()[0]) >= max_load and time.monotonic() < deadline:
        print(f"load average {load:.2f} ≥ {max_load}: waiting", flush=True)
        time.sleep(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default=",".join(ORDER))
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--wait-max", type=float, default=600.0)
    args = parser.parse_args(argv)
    failed = []
    for name in (n for n in ORDER if n in args.only.split(",")):
        wait_for_quiet(args.max_load, args.wait_max)
        print(f"== bench.{name} (load {os.getloadavg()[0]:.2f})", flush=True)
        started = time.perf_counter()
        extra = QUICK[name] if args.quick else []
        code = subprocess.run([sys.executable, "-m", f"bench.{name}", *extra], cwd=ROOT).returncode
        print(f"== bench.{name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
