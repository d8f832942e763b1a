"""Benchmark: disclosure model and audit at 10,000 respondents in 100 departments.

Target (issue 9): the model (`disclosure.decide` over the whole register) and the audit
(`survey audit` reading the workbook and the report) together add less than half of the
analysis time. Answers are drawn at random straight into the response frame the analysis
reads from the store (forms for 10,000 people would take far longer than what is measured);
the analysis time is what `survey analyse` does after reading the store (load the scan,
analyse, write the results workbook), so reading the store is not counted in its favour.

    python benchmarks/disclosure.py [--respondents 10000] [--departments 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from survey.analysis import analyse_frame, write_results_workbook
from survey.audit import audit
from survey.disclosure import decide
from survey.questionnaire import model as m
from survey.report import build_report_model, render_html
from survey.scan import Department, init_scan, load_scan


def frames(scan, respondents: int, departments: list[str], seed: int = 1):
    rng = np.random.default_rng(seed)
    q = scan.questionnaire
    sizes = rng.dirichlet(np.ones(len(departments)) * 2) * respondents
    dept = np.repeat(departments, np.maximum(1, sizes.round().astype(int)))[:respondents]
    dept = np.concatenate([dept, rng.choice(departments, respondents - len(dept))]) if len(dept) < respondents else dept
    role = np.where(rng.random(respondents) < 0.06, "manager", "employee")
    responses = pd.DataFrame({"form_id": [f"f{i}" for i in range(respondents)], "department": dept, "role": role,
                              "wave": "2026"}, index=pd.RangeIndex(1, respondents + 1, name="id"))
    num, text = {}, {}
    for f in q.answer_fields():
        if f.key == "role":
            continue
        scale = q.scales[f.scale] if f.scale else None
        missing = rng.random(respondents) < 0.03
        if f.kind in (m.FieldKind.ordinal, m.FieldKind.score):
            values = rng.choice(scale.values, respondents).astype(float)
            num[f.key] = np.where(missing, np.nan, values)
        elif f.kind is m.FieldKind.check:
            num[f.key] = np.where(rng.random(respondents) < 0.3, 1.0, np.nan)
        elif f.kind is m.FieldKind.choice and scale is not None and scale.kind is m.ScaleKind.ordinal:
            num[f.key] = np.where(missing, np.nan, rng.choice(scale.values, respondents).astype(float))
        elif f.kind is m.FieldKind.choice:
            codes = np.array([str(o.code) for o in scale.options], dtype=object)
            text[f.key] = np.where(missing, None, rng.choice(codes, respondents))
        elif f.kind is m.FieldKind.open:
            text[f.key] = np.where(rng.random(respondents) < 0.4, rng.choice(["a", "b", "c", "d"], respondents), None)
    wide = pd.concat({"num": pd.DataFrame(num, index=responses.index),
                      "text": pd.DataFrame(text, index=responses.index, dtype=object)}, axis=1)
    return responses, wide


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=100)
    args = parser.parse_args()
    names = [f"Department {i:03d}" for i in range(args.departments)]
    with tempfile.TemporaryDirectory() as tmp:
        scan = init_scan(Path(tmp) / "scan", "Benchmark", "organisatiescan", "en", "2026", 5,
                         [Department(n, args.respondents // args.departments + 5, 1) for n in names])
        responses, wide = frames(scan, args.respondents, names)
        started = time.perf_counter()
        scan = load_scan(scan.folder)
        results = analyse_frame(scan, responses, wide)
        write_results_workbook(results, scan.output_dir / "results.xlsx")
        analysis = time.perf_counter() - started
        started = time.perf_counter()
        decide(results.register, scan.anonymity_threshold)
        model = time.perf_counter() - started
        (scan.output_dir / "report.html").write_text(render_html(scan, build_report_model(results)), encoding="utf-8")
        started = time.perf_counter()
        checked = audit(scan.folder)
        auditing = time.perf_counter() - started
        # a second edition after 1 % of the forms came in late: every figure checked against the first
        from survey.store import Store

        with Store(scan.store_path) as store:
            earlier = store.earlier_sets()
        late = responses.index[:: 100]
        started = time.perf_counter()
        again = analyse_frame(scan, responses, wide, earlier={v: [(s - set(late.tolist()), r - set(late.tolist()))
                                                                   for s, r in pairs]
                                                               for v, pairs in earlier.items()})
        second = time.perf_counter() - started
        withdrawn = sum(1 for entry in again.suppressed if "written earlier" in entry.reason)
    figures = len(results.register.figures)
    print(f"{args.respondents} respondents, {args.departments} departments, {figures} registered figures")
    print(f"analysis: load scan, analyse (register and decision included), write workbook {analysis:7.2f} s")
    print(f"  of which the decision (disclosure.decide)  {model:7.2f} s")
    print(f"audit (reads workbook and report)         {auditing:7.2f} s   findings: {len(checked.findings)}")
    print(f"second edition, 1 % of forms late, checked against the first: {second:7.2f} s "
          f"({withdrawn} figures withdrawn)")
    share = (model + auditing) / (analysis - model)
    print(f"model + audit relative to the analysis without the decision: {share:.2f} (target below 0.50)")


if __name__ == "__main__":
    main()
