"""The `survey` command: a thin layer over the library. Each command parses its options,
calls one library function and prints the outcome."""

from __future__ import annotations

import functools
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import click

from survey import __version__
from survey.errors import SurveyError
from survey.textsafety import clean_text

DEBUG = {"on": False}


def friendly_errors(command):
    """Turn a `SurveyError` into one readable line and exit code 1 (traceback only with --debug)."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SurveyError as exc:
            if DEBUG["on"]:
                traceback.print_exc()
            raise _CleanError(exc.message) from None
        except OSError as exc:  # a folder that cannot be written, a file that is open elsewhere...
            if DEBUG["on"]:
                traceback.print_exc()
            where = f"{exc.filename}: " if exc.filename else ""
            raise _CleanError(f"{where}{exc.strerror or exc}. Check that the path exists, that you may "
                                       "write there, and that the file is not open in another program") from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def echo(message: object = "", **kwargs: Any) -> None:
    """Print one line for a person. Everything the CLI prints goes through here, because
    file names, reasons, department names and answers come from other people's files: an
    escape sequence or a bidi override in them must not recolour, move or hide our output."""
    click.echo(clean_text(str(message)), **kwargs)


class _CleanError(click.ClickException):
    """A user-facing error whose message (which may quote a file name or cell) is cleaned."""

    def __init__(self, message: str):
        super().__init__(clean_text(message))


def replace_earlier_option(command):
    return click.option("--replace-earlier", is_flag=True,
                        help="The results written last were never shared: forget them (only them; earlier "
                             "editions still count) before writing new ones.")(command)


def scan_argument(command):
    return click.argument("scan_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))(command)


def out_option(command):
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="Folder to write to (default: DIR/output).")(command)


def _progress(label: str):
    def wrap(iterator):
        items = iterator if hasattr(iterator, "__len__") else list(iterator)  # sized: shown as it goes
        with click.progressbar(items, length=len(items), label=label, show_pos=True, file=sys.stderr) as bar:
            yield from bar
    return wrap


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="survey")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (for developers).")
def cli(debug: bool) -> None:
    """Organisational self-diagnosis scan: where does the organisation set the pace of
    development, or brake it?

    A scan runs in a scan folder: init -> forms -> collect -> status -> analyse -> report.
    Try 'survey demo' to see the whole pipeline on a sample organisation.
    """
    DEBUG["on"] = debug


@cli.command()
@scan_argument
@click.option("--org", "organisation", default=None,
              help="Name of the organisation (required, unless --previous carries it over).")
@click.option("--previous", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="OLD",
              help="Start the next wave of the scan in folder OLD: its settings, questionnaire and departments "
                   "(with their keys) are carried over, and DIR/waves.yaml links the two.")
@click.option("--questionnaire", default=None,
              help="Bundled questionnaire id or path to a questionnaire YAML file (default: organisatiescan; "
                   "with --previous: the previous wave's, else this one is compared with it).")
@click.option("--lang", type=click.Choice(["nl", "en"]), default=None,
              help="Language of forms and report (default: nl, or the previous wave's).")
@click.option("--wave", default=None, help="Name of this wave, e.g. 2026 (default: this year).")
@click.option("--threshold", type=click.IntRange(min=1), default=None,
              help="Anonymity threshold: no figure for a group smaller than this (default: 5, or the previous "
                   "wave's).")
@click.option("--force", is_flag=True, help="Start over in a folder that holds a store, secret or filled "
                                            "departments list (they are replaced).")
@click.option("--deadline", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day to hand in forms (YYYY-MM-DD); shown on forms and in the HR kit.")
@click.option("--return-to", default="", help="Where forms are handed in (a drop box, an address).")
@click.option("--contact", default="", help="Who answers questions about the scan (name, phone or e-mail).")
@friendly_errors
def init(scan_dir: Path, organisation: str | None, previous: Path | None, questionnaire: str | None,
         lang: str | None, wave: str | None, threshold: int | None, force: bool, deadline, return_to: str,
         contact: str) -> None:
    """Create a scan folder DIR: settings, frozen questionnaire, departments list, secret and inbox.

    With --previous OLD, DIR is the next wave of the scan in OLD (see DIR/waves.yaml)."""
    from survey.scan import DEFAULT_QUESTIONNAIRE, DEFAULT_THRESHOLD, Handout, init_scan, work_in

    replaced = work_in(scan_dir) if force else []
    handout = Handout(deadline.date() if deadline else None, return_to.strip(), contact.strip())
    if previous is not None:
        _init_next_wave(scan_dir, previous, organisation, questionnaire, lang, wave, threshold, force, handout,
                        replaced)
        return
    if not organisation:
        raise click.UsageError("give the organisation's name with --org \"Name\" (or start a next wave with "
                               "--previous OLD)")
    scan = init_scan(scan_dir, organisation, questionnaire or DEFAULT_QUESTIONNAIRE, lang or "nl", wave,
                     threshold or DEFAULT_THRESHOLD, force=force, handout=handout)
    if replaced:
        echo(f"Replaced: {', '.join(replaced)}")
    q = scan.questionnaire
    echo(f"Scan folder ready: {scan_dir}")
    echo(f"  questionnaire {q.id} {q.version} ({q.content_hash[:12]}), language {scan.language}, "
               f"wave {scan.wave}, anonymity threshold {scan.anonymity_threshold}")
    echo(f"Next: list the departments in {scan_dir / 'departments.csv'}, then run: survey forms {scan_dir}")


def _init_next_wave(scan_dir: Path, previous: Path, organisation, questionnaire, lang, wave, threshold, force,
                    handout, replaced) -> None:
    from survey.waves import start_next_wave

    result = start_next_wave(scan_dir, previous, questionnaire, wave, organisation, lang, threshold, handout,
                             force=force)
    if replaced:
        echo(f"Replaced: {', '.join(replaced)}")
    scan, old, q = result.scan, result.previous, result.scan.questionnaire
    echo(f"Scan folder ready: {scan_dir}: wave {scan.wave}, the next wave after wave {old.wave} ({previous})")
    echo(f"  questionnaire {q.id} {q.version} ({q.content_hash[:12]}), language {scan.language}, "
         f"anonymity threshold {scan.anonymity_threshold}")
    echo(f"  carried over from wave {old.wave}: {', '.join(result.carried)}")
    if not scan.handout.deadline:
        echo(f"  not carried over: the deadline (last wave's has passed); set it in {scan_dir / 'scan.yaml'} "
             "or with --deadline")
    if result.new_questionnaire:
        oq = old.questionnaire
        echo(f"  compared with wave {old.wave}'s questionnaire {oq.id} {oq.version} ({oq.content_hash[:12]}):")
        for change in result.broken:
            echo(f"    {change.change.value:<9} {change.key}  (no trend)")
        kept = len(result.changes) - len(result.broken)
        echo(f"    {kept} questions comparable, {len(result.broken)} without a trend "
             f"(kept in {result.waves_file})")
    echo(f"  {len(scan.departments)} departments carried over with their keys into "
         f"{scan_dir / 'departments.csv'}: HR should update expected_headcount and managers to this wave's")
    echo(f"Departments renamed? Change the name in departments.csv and keep its key. Merged or split? "
         f"Write it in {result.waves_file}.")
    echo(f"Next: survey forms {scan_dir}")


@cli.command()
@scan_argument
@out_option
@click.option("--add", "add", type=int, default=None, metavar="N", help="Issue N extra forms (with --department).")
@click.option("--department", default=None, help="Department (name or key) for --add.")
@click.option("--role", type=click.Choice(["employee", "manager"]), default="employee", show_default=True,
              help="Role of the extra forms of --add.")
@click.option("--language", default=None, metavar="LANG",
              help="Language of the extra forms of --add (e.g. en, or pl with a translation file "
                   "DIR/questionnaire.pl.yaml); default: the department's language column, else the scan's.")
@click.option("--yes", is_flag=True, help="Confirm an unusually large number of forms for a department.")
@click.option("--codes", "codes", type=int, default=None, metavar="N",
              help="Issue N codes for an online questionnaire (with --department): a CSV in DIR/forms/codes.")
@click.option("--paper", is_flag=True, help="Also write a print-ready PDF of every issued form that has none yet, "
              "and one print file per department (DIR/forms/print).")
@click.option("--entry-workbook", is_flag=True, help="Also write a workbook for typing in paper forms.")
@friendly_errors
def forms(scan_dir: Path, out: Path | None, add: int | None, department: str | None, role: str,
          language: str | None, yes: bool, codes: int | None, paper: bool, entry_workbook: bool) -> None:
    """Issue one personal Excel form per expected respondent (into DIR/forms).

    Run again after departments.csv changed: forms are added for new or larger departments;
    a form already handed out is never reissued or rewritten."""
    from survey.errors import ScanError
    from survey.forms import ExtraForms, write_forms
    from survey.scan import load_scan

    if codes is not None:
        from survey.forms import issue_codes

        if department is None or add is not None:
            raise click.UsageError("--codes N goes with --department NAME (and not with --add)")
        issued = issue_codes(load_scan(scan_dir), codes, department, role, out)
        echo(f"{len(issued.codes)} {issued.role} codes issued for {issued.department}: {issued.path}")
        echo("Hand them out without noting who got which; the online questionnaire asks for the code.")
        return
    if (add is None) != (department is None):
        raise click.UsageError("--add N and --department NAME go together")
    if language is not None and add is None:
        raise click.UsageError("--language goes with --add N --department NAME (for a whole department: "
                               "its language column in departments.csv)")
    scan = load_scan(scan_dir)
    extra = ExtraForms(department, add, role, language.strip().lower() if language else None) \
        if add is not None and department is not None else None
    try:
        result = write_forms(scan, out, progress=_progress("Writing forms"), extra=extra, confirm_large=yes)
    except ScanError as exc:
        raise _CleanError(exc.message) from None
    for line in result.departments:
        echo(f"  {line.describe()}")
    echo(f"{len(result.forms)} new forms written to {result.folder}")
    _paper_forms(scan_dir, out, paper, entry_workbook)  # issue 13: paper forms and typing them in
    _write_kit(scan_dir)


def _write_kit(scan_dir: Path) -> None:
    from survey.kit import write_kit
    from survey.scan import load_scan

    kit = write_kit(load_scan(scan_dir))
    echo(f"HR kit (invitation, reminder, guide for managers, poster): {kit.folder}")
    if kit.missing:
        echo(f"  Fill in {', '.join(kit.missing)} in {scan_dir / 'scan.yaml'} so forms and kit show them, "
             "then run: survey kit " + str(scan_dir))


@cli.command()
@scan_argument
@friendly_errors
def kit(scan_dir: Path) -> None:
    """Write the HR kit into DIR/output/kit: invitation, reminder, guide for managers, poster."""
    _write_kit(scan_dir)


def _paper_forms(scan_dir: Path, out: Path | None, paper: bool, entry_workbook: bool) -> None:
    from survey.scan import load_scan

    scan = load_scan(scan_dir)
    if paper:
        from survey.paper import write_paper_forms

        written = write_paper_forms(scan, out, progress=_progress("Writing paper forms"))
        echo(f"{len(written.forms)} paper forms (PDF) written next to their Excel forms")
        if written.without_excel:
            echo(f"  {written.without_excel} forms got no PDF: their Excel file is no longer in the forms folder "
                 "(handed out?); a form is handed out once, on paper or as a file")
        for path in written.print_files:
            echo(f"  print file for the print room: {path}")
    if entry_workbook:
        from survey.entry import write_entry_workbook

        echo(f"Entry workbook for typing in paper forms: {write_entry_workbook(scan, out)}")


@cli.command()
@scan_argument
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--keep", "keep", multiple=True, type=click.Path(path_type=Path), metavar="FILE",
              help="Count this copy of a form instead of the one the rule for copies chose (recorded).")
@click.option("--time-limit", type=click.FloatRange(min=1), default=30, show_default=True, metavar="SECONDS",
              help="Time one file may take to read; a slower file is rejected.")
@click.option("--memory-limit", type=click.IntRange(min=64), default=1024, show_default=True, metavar="MB",
              help="Memory one file may take to read (Linux only); more is rejected.")
@click.option("--double-entry", nargs=2, type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="A.xlsx B.xlsx", help="Compare two typed entry workbooks of the same paper forms; collect "
              "the forms typed the same in both, list the differences.")
@friendly_errors
def collect(scan_dir: Path, paths: tuple[Path, ...], keep: tuple[Path, ...], time_limit: float,
            memory_limit: int, double_entry: tuple[Path, Path] | None) -> None:
    """Read returned forms (PATHS, default DIR/inbox) into the store DIR/scan.db.

    Typed-in paper forms: put the entry workbook in the inbox (every row is collected like a
    form), or compare two typings with --double-entry A.xlsx B.xlsx."""
    if double_entry:
        _double_entry(scan_dir, *double_entry)
        return
    from survey.collect import Limits
    from survey.collect import collect as collect_forms
    from survey.scan import load_scan

    scan = load_scan(scan_dir)
    result = collect_forms(scan, list(paths) or None, progress=_progress("Reading forms"), keep=list(keep),
                           limits=Limits(time_limit, memory_limit))
    _print_outcomes(result.outcomes)
    for path in keep:
        echo(f"Kept {path} for its form (recorded); survey status shows the outcome of every copy")


@cli.command(name="import")
@scan_argument
@click.argument("export", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--mapping", "mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="MAP.yaml", help="The checked mapping of columns and answer texts to answer fields.")
@click.option("--draft-mapping", is_flag=True,
              help="Propose a mapping by matching question and answer texts (written to --mapping, or "
                   "DIR/mappings/EXPORT.yaml); check it before importing.")
@click.option("--unverified", is_flag=True,
              help="Also take rows without a valid issued code, as unverified (department from the row); "
                   "they are recorded as such and counted separately in the report.")
@friendly_errors
def import_(scan_dir: Path, export: Path, mapping: Path | None, draft_mapping: bool, unverified: bool) -> None:
    """Import an online tool's export EXPORT (CSV or xlsx) into the store DIR/scan.db.

    Microsoft Forms, Google Forms, LimeSurvey, Qualtrics, KoboToolbox and SurveyMonkey exports
    are read as those tools write them. Identifying columns (name, e-mail, IP address, ids,
    exact times, location) are dropped and never stored."""
    from survey.importing import MappingError, draft_mapping as draft, import_export, read_export, write_draft
    from survey.scan import load_scan

    scan = load_scan(scan_dir)
    if draft_mapping:
        target = mapping or scan.folder / "mappings" / f"{export.stem}.yaml"
        if target.exists():
            raise _CleanError(f"{target} exists already; check and use it, or give another --mapping path")
        proposal = draft(scan, read_export(export))
        target.parent.mkdir(parents=True, exist_ok=True)
        write_draft(proposal, target)
        echo(f"Draft mapping written to {target}: {len(proposal.mapping['fields'])} columns matched")
        echo(f"  dropped (identifying, never imported): {', '.join(proposal.dropped) or 'none'}")
        if proposal.unmatched:
            echo(f"  not matched (under 'ignore'): {', '.join(proposal.unmatched)}")
        echo(f"Check it, then run: survey import {scan_dir} {export} --mapping {target}")
        return
    if mapping is None:
        raise click.UsageError("give --mapping MAP.yaml (draft one with --draft-mapping)")
    try:
        result = import_export(scan, export, mapping, unverified=unverified)
    except MappingError as exc:
        for problem in exc.problems:
            echo(f"error: {problem.message}")
        raise _CleanError(f"{mapping}: {len(exc.problems)} problem(s); nothing was imported") from None
    for row in result.rows:
        if row.outcome in ("rejected", "duplicate", "superseded"):
            echo(f"  {row.outcome}: {row.where}: {row.reason}")
    echo(f"{result.count('accepted', True)} accepted, {result.count('accepted', False)} accepted as unverified, "
         f"{result.count('superseded')} superseded, {result.count('duplicate')} duplicate, "
         f"{result.count('rejected')} rejected, {result.count('unchanged')} imported before")
    echo(f"Dropped, never stored: {', '.join(result.dropped) or 'no identifying columns'}")
def _print_outcomes(outcomes) -> None:
    """Every file that does not simply count, with why; then the totals."""
    for outcome in outcomes:
        if outcome.outcome in ("rejected", "duplicate", "superseded"):
            echo(f"  {outcome.outcome}: {outcome.path}: {outcome.reason}")
    counts = {k: sum(1 for o in outcomes if o.outcome == k) for k in
              ("accepted", "superseded", "duplicate", "rejected", "unchanged")}
    echo(f"{counts['accepted']} accepted, {counts['superseded']} superseded, {counts['duplicate']} duplicate, "
         f"{counts['rejected']} rejected, {counts['unchanged']} collected before")


def _double_entry(scan_dir: Path, a: Path, b: Path) -> None:
    from survey.entry import collect_double_entry
    from survey.scan import load_scan

    result = collect_double_entry(load_scan(scan_dir), a, b)
    if result.differences:
        echo(f"{len(result.differences)} difference(s) between {a.name} (A) and {b.name} (B); these forms are "
             "not accepted until both typists agree:")
        for d in result.differences:
            echo(f"  form {d.form_id}, {d.question}: A '{d.value_a}', B '{d.value_b}'")
    _print_outcomes(result.outcomes)


@cli.command()
@scan_argument
@friendly_errors
def status(scan_dir: Path) -> None:
    """Show what has been received, accepted and rejected, per department."""
    from survey.status import scan_status

    echo(scan_status(scan_dir).render())


@cli.command()
@scan_argument
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def close(scan_dir: Path, yes: bool) -> None:
    """End a scan: keep only the anonymous answers (department, role, wave) and the reports.

    Removes the returned files, file names, receipt times, form ids, the record of who got
    which form, the language of each response, import mappings, code lists, print files and
    the scan's secret. This cannot be undone."""
    from survey.closing import close_scan

    if not yes:
        click.confirm(f"Close the scan in {scan_dir}? Returned files, form ids and the secret are removed for good",
                      abort=True)
    result = close_scan(scan_dir)
    echo(f"Scan closed: {result.responses_kept} anonymous responses kept (without their language), "
         f"{result.files_removed} returned files and {result.other_removed} mapping, code list and print files "
         "removed, secret removed. Reports in output/ are kept.")


@cli.command()
@scan_argument
@out_option
@replace_earlier_option
@friendly_errors
def analyse(scan_dir: Path, out: Path | None, replace_earlier: bool) -> None:
    """Analyse the collected responses and write the results workbook."""
    from survey.analysis import analyse_scan, write_results_workbook
    from survey.scan import load_scan

    scan = load_scan(scan_dir)
    results = analyse_scan(scan, replace_earlier=replace_earlier)
    if results.change is not None and results.change.missing:
        echo(f"warning: {results.change.missing}")
    path = write_results_workbook(results, (out or scan.output_dir) / "results.xlsx")
    echo(f"{results.organisation_result.n} responses analysed; results: {path}")


@cli.command()
@scan_argument
@out_option
@click.option("--no-pdf", is_flag=True, help="Write only the HTML report.")
@replace_earlier_option
@friendly_errors
def report(scan_dir: Path, out: Path | None, no_pdf: bool, replace_earlier: bool) -> None:
    """Write the report (report.html, report.pdf), a team sheet per department shown
    (teams/*.pdf), the slide deck (report.pptx) and every chart as SVG and PNG (charts/)."""
    from survey.report import write_outputs
    from survey.scan import load_scan

    files = write_outputs(load_scan(scan_dir), out, pdf=not no_pdf, replace_earlier=replace_earlier)
    for warning in files.warnings:
        echo(f"warning: {warning}")
    for line in written_lines(files, no_pdf):
        echo(line)


def written_lines(files, no_pdf: bool = False) -> list[str]:
    """What `survey report` (and the demo) wrote, one line per output."""
    lines = [f"report:       {path}" for path in files.paths]
    if files.teams:
        lines.append(f"team sheets:  {files.teams[0].parent} ({len(files.teams)} PDF, one per department shown)")
    elif no_pdf:
        lines.append("team sheets:  not written (--no-pdf)")
    if files.no_sheet:
        lines.append(f"              no team sheet for {len(files.no_sheet)} department(s) not shown in the report "
                     f"(too few answers, or protecting another): {', '.join(files.no_sheet)}")
    if files.deck:
        lines.append(f"slides:       {files.deck}")
    if files.charts:
        lines.append(f"charts:       {files.charts[0].parent} ({len(files.charts)} files, SVG and PNG; "
                     "charts.txt says what each shows)")
    if files.removed:
        lines.append(f"removed {len(files.removed)} file(s) of an earlier run: "
                     + ", ".join(p.name for p in files.removed[:5]) + (" ..." if len(files.removed) > 5 else ""))
    return lines


@cli.command()
@click.argument("scan_dirs", metavar="DIR...", nargs=-1, required=True,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--threshold", type=click.IntRange(min=1), default=None,
              help="Anonymity threshold (default: the scan's own).")
@friendly_errors
def audit(scan_dirs: tuple[Path, ...], threshold: int | None) -> None:
    """Try to work out answers of fewer than the threshold of people from the published
    outputs (report, results workbook, status); exit 1 when any can be worked out."""
    from survey.audit import audit_folders

    results = audit_folders(list(scan_dirs), threshold)
    for result in results:
        click.echo(result.render())
    if not all(r.ok for r in results):
        sys.exit(1)


@cli.command()
@scan_argument
@friendly_errors
def quotes(scan_dir: Path) -> None:
    """Write DIR/quotes.xlsx: every open answer that could be quoted, with a decision to
    review; from then on the report quotes only what it approves."""
    from survey.analysis import analyse_scan
    from survey.quotes import write_review
    from survey.scan import load_scan

    scan = load_scan(scan_dir)
    path, total, flagged = write_review(scan, analyse_scan(scan))
    click.echo(f"{total} possible quotes written to {path}; {flagged} look identifying and are set to "
               "'leave out'.")
    click.echo("Check every row, set 'publish' or 'leave out', shorten a text in edited_text if needed, save; "
               f"then run: survey report {scan_dir}")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("survey-demo"),
              show_default=True, help="Folder for the demo scan (made anew).")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
              help="Language of the demo's forms and report.")
@friendly_errors
def demo(out: Path, lang: str) -> None:
    """Run the whole pipeline on the bundled sample organisation, in two linked waves (OUT/2025
    and OUT/2026), and write the reports."""
    from survey.demo import run_demo

    def step(name: str, seconds: float) -> None:
        echo(f"  {name:<40} {seconds:6.1f} s")

    echo(f"Demo: Zorg & Welzijn sample organisation in {out}, two waves")
    started = time.perf_counter()
    result = run_demo(out, on_step=step, progress=_progress, language=lang)
    echo(f"Done in {time.perf_counter() - started:.1f} s.")
    for folder in result.waves[:-1]:
        echo(f"Earlier wave: {folder} (report: {folder / 'output' / 'report.html'})")
    echo(f"This wave:    {result.scan.folder} (linked to the earlier one in {result.scan.folder / 'waves.yaml'})")
    for line in written_lines(result.files):
        echo(line)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat every warning (plain language included) as an error: exit 1.")
@click.option("--no-plain", "no_plain", is_flag=True, help="Skip the plain-language check of the texts.")
@friendly_errors
def validate(paths: tuple[Path, ...], strict: bool, no_plain: bool) -> None:
    """Check questionnaire files (or scan folders: their questionnaire and the link to earlier
    waves in waves.yaml); exit 0 when all are valid, 1 otherwise.

    Also checks every text a respondent reads (Dutch and English) for B1 readers: long
    sentences, rare or long words, passive voice, two questions in one, double negations and
    jargon, as warnings with file and line, plus a readability summary per language. Warnings
    never change the exit code unless --strict is given. See docs/plain-language.md."""
    from survey.questionnaire import validate as validate_file

    failed = 0
    for path in paths:
        waves = []
        if path.is_dir() and (path / "scan.yaml").is_file():  # a scan folder: its questionnaire and waves
            from survey.waves import check_waves

            waves = check_waves(path)
            for problem in waves:
                echo(f"{problem.severity}: {problem.message}")
            if any(p.severity == "error" or strict for p in waves):
                failed += 1
            path = path / "questionnaire.yaml"
        report = validate_file(path, plain_language=not no_plain, strict=strict)
        for problem in report.errors:
            echo(f"error: {problem.message}")
        for problem in report.warnings:
            echo(f"warning: {problem.message}")
        for summary in report.plain:
            echo(summary.describe())
        if report.ok:
            q = report.questionnaire
            assert q is not None
            echo(f"{path}: valid ({q.id} {q.version}, {len(q.items)} items, "
                       f"{len(report.warnings)} warning(s))")
        else:
            failed += 1
            echo(f"{path}: {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
    if failed:
        sys.exit(1)


@cli.command()
@friendly_errors
def questionnaires() -> None:
    """List the bundled questionnaires."""
    from survey.questionnaire import bundled_questionnaires

    rows = [(q.id, q.version, ",".join(q.languages), str(len(q.items)), q.title.get("en", ""))
            for q in bundled_questionnaires()]
    header = ("id", "version", "languages", "items", "title")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
@click.option("--translation", "of_translation", is_flag=True,
              help="The schema of a translation file (<questionnaire>.<lang>.yaml) instead.")
def schema(out: Path | None, of_translation: bool) -> None:
    """Write the JSON Schema of the questionnaire format (for editor completion and checks)."""
    from survey.questionnaire import json_schema
    from survey.questionnaire import translation

    text = json.dumps(translation.json_schema() if of_translation else json_schema(), indent=2, ensure_ascii=False)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        echo(f"Schema written to {out}")
    else:
        echo(text)


@cli.command()
@click.argument("questionnaire", type=click.Path(path_type=Path))
@click.argument("language")
@friendly_errors
def translation(questionnaire: Path, language: str) -> None:
    """Write a translation file to fill in beside QUESTIONNAIRE (e.g. partnership-scan.pl.yaml for
    LANGUAGE pl): every text a form shows, with the source text as a comment. The questionnaire
    itself is not changed; survey validate then lists what is still missing."""
    import re as _re

    from survey.errors import ScanError
    from survey.questionnaire import load_questionnaire
    from survey.questionnaire.translation import translation_path, yaml_template

    if not _re.fullmatch(r"[a-z]{2}", language):
        raise ScanError(f"'{language}' is not a two-letter language code", fix="for example: pl, ar, tr")
    q = load_questionnaire(questionnaire).questionnaire
    if language in q.languages:
        raise ScanError(f"'{q.id}' is already written in '{language}'", fix="pick a language it does not have")
    target = translation_path(Path(q.sources[-1]), language)
    from survey.resources import questionnaires_dir

    if target.parent.resolve() == questionnaires_dir().resolve():
        raise ScanError(f"'{q.id}' is a bundled questionnaire, part of the program",
                        fix="translate a scan's questionnaire (survey translation DIR/questionnaire.yaml "
                            f"{language}), or a copy of the questionnaire in a folder of your own")
    if target.exists():
        raise ScanError(f"{target} already exists", fix="edit it, or remove it to start over")
    target.write_text(yaml_template(q, language), encoding="utf-8")
    echo(f"Translation file to fill in: {target}")


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@friendly_errors
def compare(old: Path, new: Path) -> None:
    """Compare two questionnaire versions: which questions keep a trend across waves."""
    from survey.questionnaire import compare_versions, load_questionnaire

    changes = compare_versions(load_questionnaire(old).questionnaire, load_questionnaire(new).questionnaire)
    for change in changes:
        if change.trend_broken:
            where = f", wording changed in '{change.language}'" if change.language else ""
            echo(f"{change.change.value:<9} {change.key}  (trend broken{where})")
    kept = sum(1 for c in changes if not c.trend_broken)
    echo(f"{kept} questions comparable, {len(changes) - kept} with a broken trend")


def main() -> None:
    cli(prog_name="survey")


@cli.command(name="export")
@scan_argument
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "sav", "parquet"]), default="xlsx",
              show_default=True, help="File format: csv (Excel), xlsx, sav (SPSS, with value labels) or parquet.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="File to write (default: DIR/output/answers.FORMAT).")
@friendly_errors
def export_(scan_dir: Path, fmt: str, out: Path | None) -> None:
    """Write the anonymous answers, one row per response, for HR's own analysis."""
    from survey.export import export_answers

    result = export_answers(scan_dir, fmt, out)
    echo(f"{result.rows} anonymous rows written: {result.path} (read me: {result.readme.name}); every "
         f"combination of {', '.join(result.quasi_identifiers)} holds at least {result.threshold} rows"
         + (f"; combined for that: {', '.join(result.generalised)}" if result.generalised else ""))
