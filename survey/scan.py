"""The scan folder: one per client and wave.

    DIR/scan.yaml          organisation, language, anonymity threshold, wave, frozen questionnaire
    DIR/questionnaire.yaml the questionnaire as it was when the scan started (resolved, frozen)
    DIR/departments.csv    department, expected headcount, number of managers
    DIR/waves.yaml         only in a next wave: the previous wave's folder and how departments
                           continue (survey/waves.py; written by survey init --previous)
    DIR/inbox/             returned forms
    DIR/forms/             forms written by `survey forms`
    DIR/scan.db            the store (`survey collect`)
    DIR/output/            results workbook and reports
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from survey.errors import Location, QuestionnaireError, ScanError
from survey.questionnaire import Questionnaire, load_questionnaire
from survey.questionnaire import translation as tr
from survey.signing import SECRET_FILE, create_secret

SCAN_FILE = "scan.yaml"
QUESTIONNAIRE_FILE = "questionnaire.yaml"
DEPARTMENTS_FILE = "departments.csv"
DEPARTMENT_COLUMNS = ("department", "expected_headcount", "managers")
KEY_COLUMN = "key"  # optional in a hand-made file; `survey forms` fills it in
LANGUAGE_COLUMN = "language"  # optional: the language of the department's forms (default: the scan's)
MAX_SANE_HEADCOUNT = 2_000  # per department; more asks for confirmation (a typo such as 1500 for 15)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
LANGUAGES = ("nl", "en")
DEFAULT_QUESTIONNAIRE = "organisatiescan"
DEFAULT_THRESHOLD = 5


@dataclass(frozen=True)
class Department:
    name: str
    expected_headcount: int
    managers: int
    key: str = ""  # stable: renaming a department keeps its key, so its forms stay its own
    language: str = ""  # its forms' language; "" = the scan's

    @property
    def employees(self) -> int:
        return self.expected_headcount - self.managers


@dataclass(frozen=True)
class Handout:
    """How forms go out and come back: shown on every form and in the HR kit."""

    deadline: date | None = None
    return_to: str = ""  # where to hand the form in: a drop box, a folder, an address
    contact: str = ""  # who answers questions about the scan

    @property
    def complete(self) -> bool:
        return bool(self.deadline and self.return_to and self.contact)


@dataclass(frozen=True)
class Scan:
    folder: Path
    scan_id: str
    organisation: str
    language: str
    anonymity_threshold: int
    wave: str
    questionnaire: Questionnaire
    departments: tuple[Department, ...]
    handout: Handout = Handout()
    translations: dict[str, tr.Translation] = field(default_factory=dict)  # DIR/questionnaire.<lang>.yaml

    @property
    def form_languages(self) -> list[str]:
        """Languages forms can be issued in: the questionnaire's own and those translated."""
        return list(self.questionnaire.languages) + [lang for lang in self.translations
                                                     if lang not in self.questionnaire.languages]

    def form_questionnaire(self, lang: str) -> Questionnaire:
        """The questionnaire as a form in `lang` shows it (translated texts added); check the
        language with `check_form_language` first."""
        if lang in self.questionnaire.languages:
            return self.questionnaire
        return tr.localise(self.questionnaire, self.translations[lang])

    def check_form_language(self, lang: str) -> None:
        """A form can be issued only in a language whose every text is there."""
        if lang in self.questionnaire.languages:
            return
        path = self.folder / tr.translation_path(Path(QUESTIONNAIRE_FILE), lang)
        if lang not in self.translations:
            raise ScanError(f"there is no '{lang}' version of this scan's questionnaire",
                            fix=f"use one of: {', '.join(self.form_languages)}; or add a translation file {path} "
                                f"(survey translation {self.folder / QUESTIONNAIRE_FILE} {lang} writes one to fill in)")
        gaps = tr.missing(self.questionnaire, self.translations[lang])
        if gaps:
            shown = ", ".join(gaps[:5]) + (f" and {len(gaps) - 5} more" if len(gaps) > 5 else "")
            raise ScanError(f"forms cannot be issued in '{lang}': {len(gaps)} text(s) are missing in {path} "
                            f"({shown})", fix=f"fill them in; survey validate {self.folder / QUESTIONNAIRE_FILE} "
                                              "lists them all")
        # a label that stands for two answers would be read back as the wrong one: refused
        errors = [p for p in tr.check_translation(self.questionnaire, self.translations[lang])
                  if p.severity == "error"]
        if errors:
            shown = "; ".join(p.what for p in errors[:3]) + (f"; and {len(errors) - 3} more" if len(errors) > 3 else "")
            raise ScanError(f"forms cannot be issued in '{lang}': the translation {path} has {len(errors)} "
                            f"error(s): {shown}", fix=f"correct them; survey validate {self.folder / QUESTIONNAIRE_FILE} "
                                                    "lists them all")

    @property
    def inbox(self) -> Path:
        return self.folder / "inbox"

    @property
    def forms_dir(self) -> Path:
        return self.folder / "forms"

    @property
    def store_path(self) -> Path:
        return self.folder / "scan.db"

    @property
    def output_dir(self) -> Path:
        return self.folder / "output"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    return yaml


def init_scan(folder: Path, organisation: str, questionnaire: str | Path = DEFAULT_QUESTIONNAIRE,
              language: str = "nl", wave: str | None = None,
              anonymity_threshold: int = DEFAULT_THRESHOLD,
              departments: list[Department] | None = None, force: bool = False,
              handout: Handout | None = None) -> Scan:
    """Create a scan folder with the questionnaire frozen into it.

    Never destroys work: a folder holding a scan, a store, a secret or a filled
    departments list is refused unless `force` is given (then the CLI has said what goes)."""
    if (folder / SCAN_FILE).exists():
        raise ScanError(f"{folder / SCAN_FILE} already exists",
                        fix="use another folder, or remove that folder to start over")
    existing = work_in(folder)
    if existing and not force:
        raise ScanError(f"{folder} already holds {', '.join(existing)}",
                        fix="use a new folder; or add --force to start over, which replaces "
                            + " and ".join(existing))
    if force:
        for name in ("scan.db", "scan.db-wal", "scan.db-shm", SECRET_FILE):
            (folder / name).unlink(missing_ok=True)
    if language not in LANGUAGES:
        raise ScanError(f"language '{language}' is not offered", fix=f"use one of: {', '.join(LANGUAGES)}")
    if anonymity_threshold < 1:
        raise ScanError("the anonymity threshold must be at least 1", fix="use 5 or more (the default is 5)")
    loaded = load_questionnaire(questionnaire).questionnaire
    if language not in loaded.languages:
        raise ScanError(f"questionnaire '{loaded.id}' has no '{language}' version",
                        fix=f"use --lang {loaded.languages[0]}, or add '{language}' texts to it")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "inbox").mkdir(exist_ok=True)
    wave = wave or str(date.today().year)
    settings = {
        "organisation": organisation,
        "language": language,
        "anonymity_threshold": anonymity_threshold,
        "wave": wave,
        "scan_id": secrets.token_hex(6),
        "created": date.today().isoformat(),
        # shown on every form and in the HR kit (output/kit/); fill in before `survey forms`
        "deadline": handout.deadline.isoformat() if handout and handout.deadline else "",
        "return_to": handout.return_to if handout else "",
        "contact": handout.contact if handout else "",
        "questionnaire": {
            "id": loaded.id,
            "version": loaded.version,
            "hash": loaded.content_hash,
            "file": QUESTIONNAIRE_FILE,
        },
    }
    buffer = io.StringIO()
    _yaml().dump(settings, buffer)
    (folder / SCAN_FILE).write_text(
        "# survey scan folder: edit organisation, wave and anonymity_threshold if needed.\n"
        "# The questionnaire is frozen in questionnaire.yaml; do not edit it once forms are out.\n"
        + buffer.getvalue(), encoding="utf-8")
    frozen = io.StringIO()
    _yaml().dump(loaded.content(), frozen)
    (folder / QUESTIONNAIRE_FILE).write_text(
        f"# Frozen copy of questionnaire '{loaded.id}' version {loaded.version} for this scan.\n"
        + frozen.getvalue(), encoding="utf-8")
    for lang, found in tr.find_translations(loaded).items():  # beside the questionnaire: frozen beside it
        write_translation(folder / tr.translation_path(Path(QUESTIONNAIRE_FILE), lang), loaded, found)
    create_secret(folder)
    listed = departments or []
    if departments is not None or force or not (folder / DEPARTMENTS_FILE).exists():
        write_departments(folder / DEPARTMENTS_FILE, with_keys(listed))
    return load_scan(folder)


def write_translation(path: Path, q: Questionnaire, t: tr.Translation) -> None:
    data = {"language": t.language, "questionnaire": q.id, "texts": dict(t.texts), "wording": dict(t.wording)}
    buffer = io.StringIO()
    _yaml().dump(data, buffer)
    path.write_text(f"# Translation of questionnaire '{q.id}' into '{t.language}' for this scan "
                    f"(from {', '.join(p.name for p in t.files)}).\n" + buffer.getvalue(), encoding="utf-8")


def work_in(folder: Path) -> list[str]:
    """What `survey init` would replace in `folder`."""
    found = [name for name in ("scan.db", SECRET_FILE) if (folder / name).exists()]
    csv_path = folder / DEPARTMENTS_FILE
    if csv_path.is_file():
        try:
            filled = len(read_departments(csv_path)) > 0
        except ScanError:
            filled = csv_path.stat().st_size > 0
        if filled:
            found.append(f"a filled {DEPARTMENTS_FILE}")
    return found


def department_key(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")[:40] or "department"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def with_keys(departments: list[Department]) -> list[Department]:
    """Give every department without a key a stable one (kept in departments.csv from then on)."""
    taken = {d.key for d in departments if d.key}
    result = []
    for d in departments:
        if not d.key:
            d = Department(d.name, d.expected_headcount, d.managers, department_key(d.name, taken), d.language)
            taken.add(d.key)
        result.append(d)
    return result


def write_departments(path: Path, departments: list[Department]) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        languages = any(d.language for d in departments)  # the column is kept once someone used it
        writer.writerow((KEY_COLUMN, *DEPARTMENT_COLUMNS) + ((LANGUAGE_COLUMN,) if languages else ()))
        for d in departments:
            writer.writerow([d.key, d.name, d.expected_headcount, d.managers] + ([d.language] if languages else []))
    temporary.replace(path)


def load_scan(folder: Path) -> Scan:
    scan_file = folder / SCAN_FILE
    if not scan_file.is_file():
        raise ScanError(f"{folder} is not a scan folder (no {SCAN_FILE})",
                        fix=f"create one with: survey init {folder} --org \"Name\"")
    try:
        settings = _yaml().load(scan_file.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        raise ScanError(f"{scan_file} cannot be read: {exc}".splitlines()[0],
                        fix="fix the YAML, or run survey init again in a new folder")
    if not isinstance(settings, dict):
        raise ScanError(f"{scan_file} is not a scan settings file", fix="run survey init again in a new folder")

    def setting(key: str, kind: type):
        value = settings.get(key)
        if value is None or (kind is int and not isinstance(value, int)):
            line = settings.lc.key(key)[0] + 1 if key in settings else None
            raise ScanError(f"'{key}' is missing or not a {'whole number' if kind is int else 'text'}",
                            where=Location(file=scan_file, line=line), fix=f"set '{key}:' in {SCAN_FILE}")
        return kind(value)

    threshold = setting("anonymity_threshold", int)
    if threshold < 1:
        raise ScanError("anonymity_threshold must be at least 1", where=Location(file=scan_file),
                        fix="use 5 or more")
    language = setting("language", str)
    frozen_meta = settings.get("questionnaire")
    if not isinstance(frozen_meta, dict) or not frozen_meta.get("hash"):
        line = settings.lc.key("questionnaire")[0] + 1 if "questionnaire" in settings else None
        raise ScanError("the 'questionnaire' entry (id, version, hash, file) is missing or damaged",
                        where=Location(file=scan_file, line=line),
                        fix="restore scan.yaml from a backup, or start a new scan folder with survey init")
    frozen_path = folder / str(frozen_meta.get("file", QUESTIONNAIRE_FILE))
    try:
        questionnaire = load_questionnaire(frozen_path).questionnaire
    except QuestionnaireError as exc:
        raise ScanError(f"the scan's questionnaire is not valid: {exc.message}",
                        fix="restore questionnaire.yaml, or start a new scan folder with survey init")
    if frozen_meta["hash"] != questionnaire.content_hash:
        raise ScanError(f"{frozen_path.name} was changed after the scan started (its content no longer matches "
                        f"the hash in {SCAN_FILE})",
                        where=Location(file=frozen_path),
                        fix="undo the change; to use a changed questionnaire, start a new scan or wave with "
                            "survey init")
    try:
        translations = tr.find_translations(questionnaire)
    except QuestionnaireError as exc:
        raise ScanError(f"a translation file of the scan's questionnaire is not valid: {exc.message}",
                        fix="fix it (survey validate lists the problems), or remove it") from None
    return Scan(
        translations=translations,
        handout=_handout(settings, scan_file),
        folder=folder,
        scan_id=setting("scan_id", str),
        organisation=setting("organisation", str),
        language=language if language in questionnaire.languages else questionnaire.languages[0],
        anonymity_threshold=threshold,
        wave=setting("wave", str),
        questionnaire=questionnaire,
        departments=tuple(read_departments(folder / DEPARTMENTS_FILE)),
    )


def _handout(settings, scan_file: Path) -> Handout:
    def text(key: str) -> str:
        value = settings.get(key)
        if value is not None and not isinstance(value, (str, date)):
            raise ScanError(f"'{key}' must be text", where=Location(file=scan_file, line=settings.lc.key(key)[0] + 1),
                            fix=f"write it in quotes, e.g. {key}: \"...\"")
        return _CONTROL.sub("", str(value or "")).strip()

    raw = settings.get("deadline")
    deadline = None
    if isinstance(raw, date):
        deadline = raw
    elif raw:
        try:
            deadline = date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ScanError(f"deadline '{raw}' is not a date",
                            where=Location(file=scan_file, line=settings.lc.key("deadline")[0] + 1),
                            fix="write it as year-month-day, e.g. deadline: 2026-12-15")
    return Handout(deadline, text("return_to"), text("contact"))


def read_departments(path: Path) -> list[Department]:
    if not path.is_file():
        raise ScanError(f"{path} is missing", fix=f"create it with the columns {', '.join(DEPARTMENT_COLUMNS)}")
    raw = path.read_bytes()
    if b"\x00" in raw or raw[:2] == b"PK" or raw[:4] == b"\xd0\xcf\x11\xe0":
        raise ScanError(f"{path} is not a text file (is it an Excel workbook?)", where=Location(file=path),
                        fix="in Excel or LibreOffice choose 'Save as' and pick CSV, keeping the name departments.csv")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # saved by Excel on Windows
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","  # Dutch Excel saves with ';'
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in DEPARTMENT_COLUMNS if c not in header]
    if missing:
        raise ScanError(f"column(s) {', '.join(missing)} missing", where=Location(file=path, line=1),
                        fix=f"the first line must be: {','.join(DEPARTMENT_COLUMNS)}")
    index = {c: header.index(c) for c in DEPARTMENT_COLUMNS}
    key_index = header.index(KEY_COLUMN) if KEY_COLUMN in header else None
    language_index = header.index(LANGUAGE_COLUMN) if LANGUAGE_COLUMN in header else None
    departments: list[Department] = []
    seen: set[str] = set()
    keys: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [row[index[c]].strip() if index[c] < len(row) else "" for c in DEPARTMENT_COLUMNS]
        key = row[key_index].strip() if key_index is not None and key_index < len(row) else ""
        name = cells[0]
        where = Location(file=path, line=number)
        if not name:
            raise ScanError("the department name is empty", where=where, fix="fill in a name or remove the line")
        if _CONTROL.search(name) or _CONTROL.search(key):
            raise ScanError(f"the department name {name!r} holds invisible control characters", where=where,
                            fix="type the name again by hand")
        if name.casefold() in seen:
            raise ScanError(f"department '{name}' is listed twice", where=where, fix="list each department once")
        seen.add(name.casefold())
        if key:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}", key):
                raise ScanError(f"the key '{key}' of '{name}' may hold only letters, digits, '-' and '_'",
                                where=where, fix="use a short code such as 'zorg-noord', and never change it "
                                                 "once forms are out")
            if key.casefold() in keys:
                raise ScanError(f"key '{key}' is used twice", where=where,
                                fix="give each department its own key (a renamed department keeps its key)")
            keys.add(key.casefold())
        numbers = []
        for column, cell in zip(DEPARTMENT_COLUMNS[1:], cells[1:]):
            if not cell.isdigit():
                raise ScanError(f"{column} '{cell}' for '{name}' is not a whole number", where=where,
                                fix="write a number such as 12")
            numbers.append(int(cell))
        headcount, managers = numbers
        if managers > headcount:
            raise ScanError(f"'{name}' has more managers ({managers}) than people ({headcount})", where=where,
                            fix="expected_headcount counts everyone, managers included")
        language = row[language_index].strip().lower() if language_index is not None and language_index < len(
            row) else ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ScanError(f"the language '{language}' of '{name}' is not a two-letter code", where=where,
                            fix="write a code such as nl, en or pl, or leave it empty for the scan's language")
        departments.append(Department(name, headcount, managers, key.lower(), language))  # keys match in any case
    return departments
