"""Benchmark: issuing personal forms (issue 7: at most 3 ms per form, about 5x faster than
openpyxl saving each form).

Issues 3,000 forms for a scan with the demo's questionnaire, prints forms per second, and in
the same run measures the baseline: openpyxl loading one such form and saving it again, once
per person (timed on a sample and given per form).

    python benchmarks/forms.py [--forms 3000] [--sample 60]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from openpyxl import load_workbook

from survey.forms import write_forms
from survey.scan import Department, init_scan

TARGET_MS = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forms", type=int, default=3000)
    parser.add_argument("--sample", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        per_department = args.forms // 10
        departments = [Department(f"Afdeling {n}", per_department, max(1, per_department // 12)) for n in range(10)]
        scan = init_scan(Path(tmp) / "scan", "Benchmark", "organisatiescan", "nl", "2026", 5, departments)
        started = time.perf_counter()
        result = write_forms(scan)
        ours = time.perf_counter() - started
        count = len(result.forms)
        sample = [spec.path for spec in result.forms[: args.sample]]
        started = time.perf_counter()
        for path in sample:  # baseline: openpyxl opens a form and saves the personal copy
            book = load_workbook(path)
            book.save(io.BytesIO())
        baseline_per_form = (time.perf_counter() - started) / len(sample)
    ms = ours / count * 1000
    print(f"survey forms: {count} forms in {ours:.2f} s = {count / ours:,.0f} forms/s, {ms:.2f} ms per form "
          f"(target {TARGET_MS:.1f} ms: ratio {ms / TARGET_MS:.2f})")
    print(f"baseline: openpyxl load + save per form {baseline_per_form * 1000:.1f} ms "
          f"({len(sample)} forms timed); speed-up {baseline_per_form * 1000 / ms:.1f}x")


if __name__ == "__main__":
    main()
