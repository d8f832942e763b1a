"""Benchmark: the report of a scan with 50 departments (issue 11, point 7: report with PDF,
team sheets and slide deck in under 60 s on this machine).

Builds a synthetic store (benchmarks/analysis.py's `build_store`: the default questionnaire
padded to 60 statements, N respondents over 50 departments with 6 % managers, the usual
unanswered questions, pace-map codes and open answers), analyses it as `survey report`
does (bootstrap included), and then times `write_outputs`, everything `survey report` writes:
the report model with every chart (SVG and, for the chart files and the deck, PNG), report.html,
report.pdf, charts/, teams/ (one PDF per department shown) and report.pptx. Prints the split
per output, wall-clock and CPU time (other processes may share the cores: CPU time, this
process's and its workers', says how much of the wall-clock time was the report's own work).

    python benchmarks/report.py [--respondents 5000] [--departments 50] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from analysis import build_store  # noqa: E402  (benchmarks/analysis.py)

from survey.analysis import analyse_scan  # noqa: E402
from survey.report import write_outputs  # noqa: E402
from survey.scan import load_scan  # noqa: E402

TARGET = 60.0  # seconds, report with PDF, team sheets and deck


def _children_cpu() -> float:
    """CPU seconds of the finished worker processes (charts and outputs are drawn in two)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=5000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--keep", type=Path, default=None, help="build the scan here and keep it (to look at)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        folder = build_store(root, args.respondents, args.departments)
        print(f"synthetic scan: {args.respondents} respondents, {args.departments} departments "
              f"({time.perf_counter() - started:.1f} s to build)")
        scan = load_scan(folder)
        wall, cpu = time.perf_counter(), time.process_time()
        results = analyse_scan(scan)
        print(f"analysis (not part of the target): {time.perf_counter() - wall:.1f} s wall, "
              f"{time.process_time() - cpu:.1f} s CPU; {len(results.departments)} departments shown, "
              f"{len(results.hidden_departments)} hidden")
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        files = write_outputs(scan, results=results)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        children = _children_cpu() - children
        print("report split:            wall     CPU (s)   (steps run side by side in workers: wall is from the "
              "start of the side-by-side part to the step's end, CPU the worker's)")
        for step, seconds in files.timings.items():
            print(f"  {step:<20} {seconds:8.1f} {files.cpu.get(step, 0.0):8.1f}")
        print(f"  {len(files.teams)} team sheets, {len(files.charts)} chart files, deck "
              f"{files.deck.stat().st_size // 1024 if files.deck else 0} KB")
        verdict = "within" if wall < TARGET else "OVER"
        print(f"report total: {wall:.1f} s wall, {cpu:.1f} s CPU in this process + {children:.1f} s in its workers "
              f"= {cpu + children:.1f} s CPU; {verdict} the {TARGET:.0f} s target")
        if args.keep:
            print(f"kept in {folder}")


if __name__ == "__main__":
    main()
