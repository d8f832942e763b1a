"""Benchmark: items/s of a ~1 ms CPU function in-process versus through run_isolated, and
the overhead with a trivial function (target: > 5,000 items/s on 2 cores).

    PYTHONPATH=. python benchmarks/isolation.py [--items N] [--workers W]
"""

from __future__ import annotations

import argparse
import os
import time

from survey.isolation import run_isolated

_LOOPS = 1  # set by calibrate() so that busy() takes about 1 ms


def busy(item: int) -> int:
    """Pure CPU work of about 1 ms, like parsing a ~30 KB form."""
    total = item
    for i in range(_LOOPS):
        total = (total * 31 + i) % 1_000_003
    return total


def trivial(item: int) -> int:
    return item


def calibrate() -> None:
    global _LOOPS
    _LOOPS = 10_000
    started = time.perf_counter()
    for i in range(20):
        busy(i)
    per_call = (time.perf_counter() - started) / 20
    _LOOPS = max(1, int(_LOOPS * 0.001 / per_call))


def rate(run, count: int) -> float:
    started = time.perf_counter()
    run()
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    calibrate()  # before the run: forked workers inherit _LOOPS
    items = list(range(args.items))
    workers = args.workers or os.cpu_count()
    print(f"{args.items} items, {workers} workers, busy() = {_LOOPS} loops")

    def isolated(func):
        return lambda: sum(1 for _ in run_isolated(func, items, workers=workers))

    in_process = rate(lambda: [busy(i) for i in items], len(items))
    through_workers = rate(isolated(busy), len(items))
    print(f"~1 ms function, in-process:    {in_process:10,.0f} items/s")
    print(f"~1 ms function, run_isolated:  {through_workers:10,.0f} items/s"
          f"  (ratio {through_workers / in_process:.2f})")
    trivial_items = list(range(max(args.items, 50_000)))
    trivial_rate = rate(
        lambda: sum(1 for _ in run_isolated(trivial, trivial_items, workers=workers)),
        len(trivial_items),
    )
    print(f"trivial function, run_isolated: {trivial_rate:9,.0f} items/s (target > 5,000)")


if __name__ == "__main__":
    main()
