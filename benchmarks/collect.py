"""Benchmark: collect (issue 8: at least 800 forms/s on this 2-core machine, at least 10x
openpyxl, at most 4x slower than Python's zipfile unpacking every member on one core).

Makes N filled forms of the demo's questionnaire (default 3,000), then measures in one run:
collect into a fresh store (checks, reading, signature, store), openpyxl read-only reading the
same files, and zipfile reading every member of them (the floor). Peak memory of the collect
(this process and its workers) is printed too (target: under 500 MB).

    python benchmarks/collect.py [--forms 3000]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from openpyxl import load_workbook

from survey.collect import collect
from survey.demo import PackageFiller, Respondent, load_sample
from survey.forms import write_forms
from survey.scan import Department, init_scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forms", type=int, default=3000)
    args = parser.parse_args()
    sample = load_sample()
    with tempfile.TemporaryDirectory() as tmp:
        profiles = sample.departments
        per = args.forms // len(profiles)
        departments = [Department(p.name, per, max(1, per // 12)) for p in profiles]
        scan = init_scan(Path(tmp) / "scan", "Benchmark", sample.questionnaire, sample.language, "2026", 5,
                         departments)
        forms = write_forms(scan).forms
        rng = np.random.default_rng(1)
        filler = PackageFiller(scan)
        by_name = {p.name: p for p in profiles}
        for spec in forms:
            answers = Respondent(rng, by_name[spec.meta.department], spec.meta.role, sample.open_answers) \
                .answers(scan.questionnaire)
            filler.fill(spec.path, spec.meta.department, spec.meta.role, answers, scan.inbox / spec.path.name)
        files = sorted(scan.inbox.glob("*.xlsx"))

        started = time.perf_counter()
        result = collect(scan)
        ours = time.perf_counter() - started
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                   + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
        assert result.count("accepted") == len(files), "every benchmark form must be accepted"

        started = time.perf_counter()
        for path in files:  # the floor: unpack every member, one core
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    archive.read(name)
        floor = time.perf_counter() - started

        sample_files = files[:300]
        started = time.perf_counter()
        for path in sample_files:  # baseline: openpyxl read-only reading every cell
            book = load_workbook(path, read_only=True)
            for sheet in book.worksheets:
                for _ in sheet.iter_rows(values_only=True):
                    pass
            book.close()
        openpyxl_rate = len(sample_files) / (time.perf_counter() - started)

    n = len(files)
    print(f"collect: {n} forms in {ours:.2f} s = {n / ours:,.0f} forms/s (target 800: ratio {n / ours / 800:.2f})")
    print(f"floor: zipfile reading every member, one core: {n / floor:,.0f} forms/s; collect is "
          f"{(n / floor) / (n / ours):.1f}x slower (target at most 4x)")
    print(f"baseline: openpyxl read-only: {openpyxl_rate:,.0f} forms/s; collect is {(n / ours) / openpyxl_rate:.1f}x "
          "faster (target at least 10x)")
    print(f"peak memory (this process + largest worker): {peak_mb:.0f} MB (target under 500 MB)")


if __name__ == "__main__":
    main()
