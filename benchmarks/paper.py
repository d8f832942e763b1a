"""Benchmark: paper forms (issue 13). Seconds per form of `survey forms --paper`, against the
naive way measured in the same run: WeasyPrint laying out and writing every form whole.

The forms of one department and role differ only in their id, so survey.paper lays each
department and role out once without an id, lays out all ids of a batch in one small
document, and assembles each form's pages with pypdf. One process (no worker pool), so both
figures are per core.

    python benchmarks/paper.py [--forms 40] [--departments 2] [--sample 3]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from survey import paper
from survey.forms import write_forms
from survey.scan import Department, init_scan
from survey.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--forms", type=int, default=40)
    parser.add_argument("--departments", type=int, default=2)
    parser.add_argument("--sample", type=int, default=3, help="forms rendered the naive way")
    args = parser.parse_args()
    paper.PARALLEL_FROM = 10**9  # one process: compare like with like
    with tempfile.TemporaryDirectory() as tmp:
        per_department = max(2, args.forms // args.departments)
        departments = [Department(f"Afdeling {n}", per_department, 1) for n in range(args.departments)]
        scan = init_scan(Path(tmp) / "scan", "Benchmark", "organisatiescan", "nl", "2026", 5, departments)
        write_forms(scan)
        started = time.perf_counter()
        result = paper.write_paper_forms(scan)
        ours = time.perf_counter() - started
        count = len(result.forms)
        with Store(scan.store_path) as store:
            sample = store.issued()[: args.sample]
        renderer = paper._renderer(scan)
        started = time.perf_counter()
        for form in sample:  # naive: lay out and write each form whole
            renderer.document(form).write_pdf(io.BytesIO())
        naive = (time.perf_counter() - started) / len(sample)
    per_form = ours / count
    print(f"survey forms --paper: {count} forms ({args.departments} departments, 2 roles each) in {ours:.1f} s "
          f"= {per_form:.3f} s per form, print files included")
    print(f"naive: WeasyPrint per form {naive:.3f} s ({len(sample)} forms timed); "
          f"ratio ours/naive {per_form / naive:.3f} ({naive / per_form:.1f}x faster)")


if __name__ == "__main__":
    main()
