"""Data for HR's own analysis: the results workbook for people, and `survey export`."""

from __future__ import annotations

import dataclasses
import sqlite3

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from survey.analysis import analyse_scan, write_results_workbook
from survey.audit import audit
from survey.cli import cli
from survey.collect import collect
from survey.demo import Respondent, fill_form, load_sample
from survey.forms import write_forms
from survey.scan import Department, init_scan

HOSTILE = '=HYPERLINK("http://x","klik")'
QUASI = ["department", "role", "tenure", "hours", "language"]


@pytest.fixture(scope="module")
def small_scan(tmp_path_factory):
    """Four departments, one of 3 (below the threshold of 5), one named like a formula; no
    quote review."""
    folder = tmp_path_factory.mktemp("export") / "scan"
    sample = load_sample("nl")
    scan = init_scan(folder, "Zorg", sample.questionnaire, "nl", "2027", 5,
                     [Department("Groot", 14, 1), Department("Midden", 8, 1), Department(HOSTILE, 10, 1),
                      Department("Klein", 3, 0)])
    rng = np.random.default_rng(5)
    for spec in write_forms(scan).forms:
        profile = dataclasses.replace(sample.departments[0], name=spec.meta.department)
        answers = Respondent(rng, profile, spec.meta.role, sample.open_answers).answers(scan.questionnaire)
        fill_form(scan, spec.path, answers, scan.inbox / spec.path.name)
    collect(scan)
    return scan


# -- the results workbook ------------------------------------------------------------------------

def test_workbook_has_labels_formats_frozen_panes_and_a_read_me(demo_run):
    assert demo_run.exit_code == 0, demo_run.output
    book = load_workbook(demo_run.workbook)
    assert book.sheetnames[0] == "Lees mij"
    read_me = " ".join(str(c.value) for row in book["Lees mij"].iter_rows() for c in row if c.value)
    assert "minder dan 5 antwoorden" in read_me and "Verantwoording" in read_me and "n is het aantal" in read_me
    for sheet in ("groups", "overview", "items", "pace_map", "codebook"):
        assert book[sheet].freeze_panes == "B2"
        assert book[sheet]["A1"].font.bold and book[sheet]["A1"].alignment.wrap_text
    items = pd.read_excel(demo_run.workbook, sheet_name="items")
    row = items[items["item"] == "kar_01"].iloc[0]
    assert row["question_text"] == "Ik bepaal zelf wat ik wil leren in mijn werk."
    ws = book["items"]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index("mean") + 1).number_format == "0.00"
    assert ws.cell(2, header.index("n") + 1).number_format == "0"
    assert isinstance(ws.cell(2, header.index("favourable") + 1).value, float)  # a number, not text
    choices = pd.read_excel(demo_run.workbook, sheet_name="choices")
    assert choices["option_label"].notna().all() and (choices["option_label"] != "").all()
    codebook = pd.read_excel(demo_run.workbook, sheet_name="codebook")
    assert "Partnershipindex" in set(codebook["text"])


def test_workbook_open_answers_are_only_the_approved_ones_and_the_audit_stays_clean(demo_run):
    review = pd.read_excel(demo_run.folder / "quotes.xlsx", sheet_name="quotes")
    approved = set(review.loc[review["decision"] == "publish", "text"])
    left_out = set(review.loc[review["decision"] != "publish", "text"]) - approved
    shown = set(pd.read_excel(demo_run.workbook, sheet_name="open_answers")["text"])
    assert shown and shown <= approved and not shown & left_out
    assert audit(demo_run.folder).ok


def test_no_open_answers_without_a_review_and_the_audit_notices_one(small_scan):
    results = analyse_scan(small_scan)
    path = write_results_workbook(results, small_scan.output_dir / "results.xlsx")
    book = load_workbook(path)
    assert "open_answers" not in book.sheetnames
    assert "pas in nadat de adviseur" in " ".join(str(c.value) for c in book["Lees mij"]["A"] if c.value)
    assert book["groups"]["A1"].value == "group"
    assert audit(small_scan.folder).ok
    sheet = book.create_sheet("open_answers")  # an open answer that no review approved
    sheet.append(["group", "question", "question_text", "text"])
    sheet.append(["Hele organisatie", "open_1", "", "Piet luistert nooit"])
    book.save(path)
    assert any("without a quote review" in str(f) for f in audit(small_scan.folder).findings)


# -- survey export ----------------------------------------------------------------------------

def _combinations_hold_k(frame: pd.DataFrame, k: int) -> int:
    quasi = [c for c in QUASI if c in frame.columns]
    sizes = frame.groupby(quasi, dropna=False, observed=True).size()
    return int(sizes.min())


def test_export_every_format_round_trips_with_labels_and_hides_what_the_report_hides(small_scan, tmp_path):
    import pyarrow.parquet as pq

    pyreadstat = pytest.importorskip("pyreadstat")
    k = small_scan.anonymity_threshold
    runner = CliRunner()
    frames = {}
    for fmt in ("csv", "xlsx", "sav", "parquet"):
        out = tmp_path / f"answers.{fmt}"
        result = runner.invoke(cli, ["export", str(small_scan.folder), "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert "at least 5 rows" in result.output
        assert (tmp_path / f"answers.{fmt}.readme.txt").is_file()
        if fmt == "csv":
            raw = out.read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
            frames[fmt] = pd.read_csv(out, sep=";", encoding="utf-8-sig")
        elif fmt == "xlsx":
            frames[fmt] = pd.read_excel(out, sheet_name="answers")
            codebook = pd.read_excel(out, sheet_name="codebook").set_index("variable")
            assert codebook.loc["kar_01", "label"] == "Ik bepaal zelf wat ik wil leren in mijn werk."
        elif fmt == "sav":
            frame, meta = pyreadstat.read_sav(out, apply_value_formats=True, formats_as_category=False)
            assert meta.column_names_to_labels["kar_01"] == "Ik bepaal zelf wat ik wil leren in mijn werk."
            assert meta.variable_value_labels["kar_01"][1.0] == "Helemaal oneens"
            frames[fmt] = frame
        else:
            frames[fmt] = pd.read_parquet(out)
            labels = pq.read_schema(out).metadata[b"survey.labels"].decode()
            assert "Ik bepaal zelf wat ik wil leren in mijn werk." in labels
    store = sqlite3.connect(small_scan.store_path)
    n_employees = store.execute("SELECT count(*) FROM responses WHERE counted = 1 AND role = 'employee'").fetchone()[0]
    form_ids = {row[0] for row in store.execute("SELECT form_id FROM responses")}
    hidden = analyse_scan(small_scan).hidden_departments
    assert "Klein" in hidden and len(hidden) == 2  # below k, and one more so it cannot be subtracted
    for fmt, frame in frames.items():
        assert len(frame) == n_employees, fmt  # managers (3) are below the threshold: left out
        assert sorted(frame["row"]) == list(range(1, len(frame) + 1))
        departments = set(frame["department"].astype(str))
        assert not departments & set(hidden) and "Groot" in departments, fmt  # hidden as in the report
        assert _combinations_hold_k(frame, k) >= k, fmt
        cells = {str(v) for v in frame.to_numpy().ravel()}
        assert not cells & form_ids, fmt
        assert not any(c in cells for c in ("open_1",)), fmt
    # the label a reader sees, in every format: value labels
    assert set(frames["sav"]["kar_01"].dropna()) <= {"Helemaal oneens", "Oneens", "Neutraal", "Eens", "Helemaal eens"}
    assert frames["parquet"]["department"].dtype == "category"
    # the same numbers in every format, row by row
    for fmt in ("xlsx", "parquet"):
        pd.testing.assert_series_equal(frames["csv"]["kar_02"], frames[fmt]["kar_02"], check_names=False,
                                       check_dtype=False)


def test_export_formula_like_department_stays_inert_and_a_reexport_matches(small_scan, tmp_path):
    from survey.export import export_answers

    first = export_answers(small_scan.folder, "csv", tmp_path / "a.csv")
    again = export_answers(small_scan.folder, "csv", tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    text = (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text  # the shown department, quote-prefixed: text in Excel
    assert '"=' not in text and ';=' not in text  # no field starts with a formula
    xlsx = export_answers(small_scan.folder, "xlsx", tmp_path / "a.xlsx")
    cells = [cell for row in load_workbook(xlsx.path)["answers"].iter_rows() for cell in row]
    assert any(cell.value == HOSTILE and cell.data_type == "s" for cell in cells)
    assert all(cell.data_type != "f" for cell in cells)
    assert first.rows == again.rows and first.smallest >= 5


def test_export_of_too_few_answers_is_refused_with_what_to_do(tmp_path):
    from survey.errors import SurveyError
    from survey.microdata import everything, k_anonymise

    with pytest.raises(SurveyError, match="at least 5"):
        k_anonymise(pd.DataFrame({"department": ["A"] * 3}), {"department": [everything("all")]}, 5)
    result = CliRunner().invoke(cli, ["export", str(tmp_path / "nothing"), "--format", "csv"])
    assert result.exit_code != 0 and "Traceback" not in result.output
