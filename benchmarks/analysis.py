"""Benchmark: analysis at a million respondents (issue 10: 1,000,000 respondents x 60
statement items analysed from a collected store in under 10 s and under 2 GB peak).

Builds a synthetic store directly (bulk insert in the store's own layout, not through forms):
N respondents (default 1,000,000) over 100 departments (6 % managers) answering the default
questionnaire (organisatiescan) padded to 60 statement items, with the usual share of
unanswered questions, pace-map codes, choice ticks and open answers (30 %, drawn from a few
thousand distinct texts). Then, each in a fresh child process (peak memory is the child's
ru_maxrss: interpreter, libraries and data included):

- analysis: `analyse_scan(scan, bootstrap=False)` (open the store, load the answers as
  columns, groups, register, the disclosure decision, every allowed figure of every subject:
  scores, reliability and item quality, claims, drivers): what `survey analyse` does before
  writing outputs, without report rendering and without bootstrap resampling (the issue's
  target excludes it; `bootstrap=False` is the documented switch). Printed with the split
  over load, core, decision and each subject.
- pandas: the same wide numeric answers (from `load_frame`) and a plain
  `groupby(department).mean()`; its time is the groupby alone. The ratio is analysis time over
  that groupby time.
- with --publish: the analysis plus `publish` (recording the response ids behind every figure
  in the store's register of editions), which every written output does first; then a second
  edition: 1 % of the forms come in late (copies of every 100th response under new ids), and
  the analysis runs again, its decision checking every figure against the first edition
  (`earlier_sets` and `disclosure.decide`, printed separately).
- with --bootstrap: the whole analysis with its bootstrap intervals (omega, drivers), as
  `survey analyse` runs it.

    python benchmarks/analysis.py [--respondents 1000000] [--departments 100] [--publish] [--bootstrap]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from survey.questionnaire import model as m
from survey.scan import Department, init_scan, load_scan
from survey.store import Store

STATEMENTS = 60


def padded_questionnaire(folder: Path) -> Path:
    """organisatiescan with copies of its statements added until it has STATEMENTS of them."""
    from survey.questionnaire import load_questionnaire

    content = load_questionnaire("organisatiescan").questionnaire.content()
    statements = [(s, i) for s in content["sections"] for i in s["items"] if i.get("type") == "statement"]
    for n in range(STATEMENTS - len(statements)):
        section, item = statements[n % len(statements)]
        extra = copy.deepcopy(item)
        extra["id"] = f"extra_{n + 1:02d}"
        extra["desired"] = False
        extra["text"] = {lang: f"{text} ({n + 1})" for lang, text in extra["text"].items()}
        if extra.get("manager_text"):
            extra["manager_text"] = {lang: f"{text} ({n + 1})" for lang, text in extra["manager_text"].items()}
        section["items"].append(extra)
    path = folder / "padded.yaml"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    return path


def build_store(folder: Path, respondents: int, departments: int, seed: int = 1) -> Path:
    """A scan folder with a store of `respondents` synthetic responses."""
    names = [f"Department {i:03d}" for i in range(departments)]
    per = respondents // departments
    scan = init_scan(folder / "scan", "Benchmark", padded_questionnaire(folder), "en", "2026", 5,
                     [Department(n, per + per // 10, max(1, per // 16)) for n in names])
    q = scan.questionnaire
    assert sum(isinstance(i, m.StatementItem) for i in q.items) == STATEMENTS
    rng = np.random.default_rng(seed)
    fields = [f for f in q.answer_fields() if f.key != "role"]
    texts = [f"open answer number {i}" for i in range(5000)]
    columns: list[tuple[str, bool, list[str]]] = []  # (field, coded, code texts)
    for f in fields:
        scale = q.scales[f.scale] if f.scale else None
        if f.kind is m.FieldKind.open:
            columns.append((f.key, True, texts))
        elif f.kind is m.FieldKind.choice and scale is not None and scale.kind is not m.ScaleKind.ordinal:
            columns.append((f.key, True, [str(o.code) for o in scale.options]))
        else:
            columns.append((f.key, False, []))
    sizes = rng.dirichlet(np.ones(departments) * 4) * respondents
    dept = np.repeat(np.arange(departments), np.maximum(1, np.round(sizes).astype(int)))[:respondents]
    dept = np.concatenate([dept, rng.integers(0, departments, respondents - len(dept))])
    rng.shuffle(dept)
    manager = rng.random(respondents) < 0.06
    zipf = 1 / np.arange(1, len(texts) + 1)
    zipf /= zipf.sum()
    with Store(scan.store_path) as store, store.transaction() as db:
        db.executemany("INSERT INTO answer_columns (position, field, coded) VALUES (?, ?, ?)",
                       [(p, key, int(coded)) for p, (key, coded, _) in enumerate(columns)])
        db.executemany("INSERT INTO answer_codes (position, code, text) VALUES (?, ?, ?)",
                       [(p, c, t) for p, (_, _, codes) in enumerate(columns) for c, t in enumerate(codes)])
        received = db.execute("INSERT INTO received (path, sha256, size, outcome) VALUES "
                              "('synthetic', 'synthetic', 0, 'accepted')").lastrowid
        chunk = 100_000
        for start in range(0, respondents, chunk):
            n = min(chunk, respondents - start)
            values = np.full((n, len(columns)), np.nan)
            for j, (f, (_, coded, codes)) in enumerate(zip(fields, columns)):
                missing = rng.random(n) < 0.03
                if f.kind is m.FieldKind.open:
                    values[:, j] = np.where(rng.random(n) < 0.3, rng.choice(len(texts), n, p=zipf), np.nan)
                elif f.kind is m.FieldKind.check:
                    values[:, j] = np.where(rng.random(n) < 0.3, 1.0, np.nan)
                elif coded:
                    values[:, j] = np.where(missing, np.nan, rng.integers(0, len(codes), n))
                else:
                    scale = q.scales[f.scale]
                    values[:, j] = np.where(missing, np.nan, rng.choice(scale.values, n))
            ids = range(start + 1, start + n + 1)
            db.executemany(
                "INSERT INTO responses (id, received_id, form_id, department_key, department, role, wave, language) "
                "VALUES (?, ?, ?, ?, ?, ?, '2026', 'en')",
                [(i, received, f"F{i}", f"d{d}", names[d], "manager" if mg else "employee")
                 for i, d, mg in zip(ids, dept[start:start + n].tolist(), manager[start:start + n].tolist())])
            db.executemany("INSERT INTO answer_rows (response_id, answers) VALUES (?, ?)",
                           zip(ids, (row.tobytes() for row in values.astype(np.float32))))
    return scan.folder


def late_forms(folder: Path) -> int:
    """Copies of every 100th response under new ids and form ids: forms that came in after
    the first edition was written."""
    scan = load_scan(folder)
    with Store(scan.store_path) as store, store.transaction() as db:
        top = db.execute("SELECT max(id) FROM responses").fetchone()[0]
        db.execute("INSERT INTO responses (id, received_id, form_id, department_key, department, role, wave, "
                   "language) SELECT id + ?, received_id, 'late' || id, department_key, department, role, wave, "
                   "language FROM responses WHERE id % 100 = 0", (top,))
        db.execute("INSERT INTO answer_rows (response_id, answers) SELECT response_id + ?, answers FROM answer_rows "
                   "WHERE response_id % 100 = 0", (top,))
        return db.execute("SELECT count(*) FROM responses WHERE id > ?", (top,)).fetchone()[0]


def child(task: str, folder: Path) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    from survey.analysis import analyse_scan, load_frame, publish

    scan = load_scan(folder)
    found: dict[str, float] = {}
    if task == "pandas":
        responses, wide = load_frame(scan)
        numbers = wide["num"]
        started, cpu = time.perf_counter(), time.process_time()
        means = numbers.groupby(responses["department"].to_numpy()).mean()
        found["seconds"] = time.perf_counter() - started
        found["cpu_groupby"] = time.process_time() - cpu
        found["cells"] = float(means.size)
    elif task == "second":
        with Store(scan.store_path) as store:
            started = time.perf_counter()
            earlier = store.earlier_sets()
            found["earlier_sets"] = time.perf_counter() - started
            found["earlier_variables"] = float(len(earlier))
        started = time.perf_counter()
        result = analyse_scan(scan, bootstrap=False)
        found["seconds"] = time.perf_counter() - started
        found["decision"] = result.timings["decision"]
        found["withdrawn"] = float(sum(1 for s in result.suppressed if "written earlier" in s.reason))
        found["figures"] = float(len(result.register.figures))
    else:
        started, cpu = time.perf_counter(), time.process_time()
        result = analyse_scan(scan, bootstrap=task == "bootstrap")
        found["seconds"] = time.perf_counter() - started
        found["cpu_analysis"] = time.process_time() - cpu
        found["figures"] = float(len(result.register.figures))
        found["allowed"] = float(len(result.decision.allowed))
        found.update({f"step:{k}": v for k, v in result.timings.items()})
        if task == "publish":
            started = time.perf_counter()
            publish(result, "benchmark")
            found["publish"] = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    found["peak_mb"] = usage.ru_maxrss / 1024
    found["cpu"] = usage.ru_utime + usage.ru_stime  # the whole process: start-up and imports too
    return found


def measure(task: str, folder: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", task, str(folder)], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def split(found: dict[str, float]) -> str:
    return ", ".join(f"{k[5:]} {v:.2f}" for k, v in found.items() if k.startswith("step:"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--publish", action="store_true",
                        help="also measure publish (the register of editions) and a second edition's decision")
    parser.add_argument("--bootstrap", action="store_true", help="also measure the analysis with its bootstrap")
    parser.add_argument("--store", type=Path, default=None,
                        help="keep the synthetic scan in this folder and reuse it when it is there (building a "
                             "million respondents takes minutes); default: a temporary folder")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        cached = args.store is not None and (args.store / "scan" / "scan.db").exists() and not args.publish
        if cached:
            folder = args.store / "scan"
        else:
            keep = args.store if args.store is not None and not args.publish else None  # publish changes the store
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
            folder = build_store(keep or Path(tmp), args.respondents, args.departments)
        size = (folder / "scan.db").stat().st_size / 1e6
        print(f"{args.respondents:,} respondents x {STATEMENTS} statements ({args.departments} departments): "
              f"store {'reused from ' + str(folder) if cached else 'built'} in {time.perf_counter() - started:.1f} s, "
              f"{size:,.0f} MB")
        analysis = measure("analysis", folder)
        baseline = measure("pandas", folder)
        print(f"analysis without bootstrap (load + groups + register + decision + figures of every subject): "
              f"{analysis['seconds']:7.2f} s, peak {analysis['peak_mb']:,.0f} MB, {analysis['figures']:,.0f} figures "
              f"registered, {analysis['allowed']:,.0f} allowed   (target: < 10 s, < 2,048 MB)")
        print(f"  split (s): {split(analysis)}")
        print(f"plain pandas groupby(department).mean() of the same wide numbers: {baseline['seconds']:7.2f} s "
              f"(its process peak {baseline['peak_mb']:,.0f} MB)")
        print(f"ratio analysis / pandas groupby: {analysis['seconds'] / baseline['seconds']:.1f} (wall), "
              f"{analysis['cpu_analysis'] / baseline['cpu_groupby']:.1f} (CPU: {analysis['cpu_analysis']:.2f} s "
              f"against {baseline['cpu_groupby']:.2f} s)")
        with open("/proc/loadavg") as load:
            print(f"load average during the run: {load.read().split()[0]} on {os.cpu_count()} cores")
        if args.bootstrap:
            full = measure("bootstrap", folder)
            print(f"analysis with bootstrap (as survey analyse): {full['seconds']:7.2f} s, peak {full['peak_mb']:,.0f} MB"
                  f"   (target: < 60 s)\n  split (s): {split(full)}")
        if args.publish:
            published = measure("publish", folder)
            print(f"publish (register of editions, before an output is written): {published['publish']:7.2f} s, "
                  f"peak with the analysis {published['peak_mb']:,.0f} MB, store now "
                  f"{(folder / 'scan.db').stat().st_size / 1e6:,.0f} MB")
            late = late_forms(folder)
            second = measure("second", folder)
            print(f"second edition ({late:,} late forms): earlier sets read in {second['earlier_sets']:.2f} s "
                  f"({second['earlier_variables']:,.0f} variables); decision against the first edition "
                  f"{second['decision']:7.2f} s; whole analysis {second['seconds']:.2f} s, peak "
                  f"{second['peak_mb']:,.0f} MB; {second['withdrawn']:,.0f} figures withdrawn")

if __name__ == "__main__":
    main()
