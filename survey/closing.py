"""`survey close`: end a scan and keep only what a next wave needs.

Removed: the returned files (inbox), file names and receipt times, form ids and the issue
record (the link between a person's form and their answers), the language of every response
(never analysed; one form in another language can single a person out), copies that did not
count, the import mappings (a draft may hold answer texts), the code lists and print files of
forms/ (form ids, and the language of printed forms in their names) and the scan's secret.
Kept: the anonymous answers with department, role and wave, the settings, the frozen
questionnaire, departments.csv, the blank forms and the reports in output/.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from survey.errors import ScanError
from survey.scan import load_scan
from survey.signing import SECRET_FILE
from survey.store import Store, collect_lock


@dataclass(frozen=True)
class CloseResult:
    folder: Path
    responses_kept: int
    files_removed: int  # returned files
    other_removed: int = 0  # mappings, code lists and print files


def close_scan(folder: Path) -> CloseResult:
    scan = load_scan(folder)
    if not scan.store_path.exists():
        raise ScanError(f"{folder} has no store: nothing was collected", fix="there is nothing to close")
    with collect_lock(scan.folder), Store(scan.store_path) as store:
        kept = store.close_scan()
    removed = 0
    if scan.inbox.exists():
        removed = sum(1 for p in scan.inbox.rglob("*") if not p.is_dir())
        shutil.rmtree(scan.inbox)
        scan.inbox.mkdir()
    from survey.paper import PRINT_FOLDER

    other = 0

    for folder_left in (scan.folder / "mappings", scan.forms_dir / "codes", scan.forms_dir / PRINT_FOLDER):
        if folder_left.is_dir() and not folder_left.is_symlink():
            other += sum(1 for p in folder_left.rglob("*") if not p.is_dir())
            shutil.rmtree(folder_left)
        elif folder_left.is_symlink():
            folder_left.unlink()
    (scan.folder / SECRET_FILE).unlink(missing_ok=True)
    return CloseResult(folder, kept, removed, other)
