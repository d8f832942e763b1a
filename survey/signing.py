"""The scan's secret and the signature every form carries.

`survey init` makes a secret of 32 random bytes, kept in the scan folder readable by its
owner only; it never goes into a form, report or export. A form's signature is an
HMAC-SHA256 over everything the form claims (scan, questionnaire hash, form id, department,
role, wave, language, and every answer field with where it sits), so an edit to any of it is
caught on collect. Fields are signed by their ids, not only their cells, so another kind of
form (a phone form, later) can carry the same signature.

Sheet protection passwords are derived from the secret too: they stop accidents, the
signature is what makes a form trustworthy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from survey.errors import Location, ScanError

SECRET_FILE = ".survey-secret"
FORM_FORMAT = "2"


@dataclass(frozen=True)
class SignedClaims:
    """What a form says about itself; all of it is covered by the signature."""

    scan_id: str
    questionnaire_hash: str
    form_id: str
    department_key: str
    department: str
    role: str
    wave: str
    language: str
    fields: tuple[tuple[str, str], ...]  # (field id, where it sits: a cell such as C12)

    def canonical(self) -> bytes:
        payload = {"format": FORM_FORMAT, "scan": self.scan_id, "questionnaire": self.questionnaire_hash,
                   "form": self.form_id, "department_key": self.department_key, "department": self.department,
                   "role": self.role, "wave": self.wave, "language": self.language,
                   "fields": [list(f) for f in self.fields]}
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def create_secret(folder: Path) -> Path:
    path = folder / SECRET_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def load_secret(folder: Path) -> bytes:
    path = folder / SECRET_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        secret = bytes.fromhex(text)
    except FileNotFoundError:
        raise ScanError(f"{path} is missing: without the scan's secret no form can be signed or checked",
                        where=Location(file=path),
                        fix="restore the file from a backup of the scan folder; forms already handed out "
                            "can only be collected with it")
    except (ValueError, UnicodeDecodeError, OSError):
        raise ScanError(f"{path} is damaged", where=Location(file=path),
                        fix="restore the file from a backup of the scan folder")
    if len(secret) < 32:
        raise ScanError(f"{path} is damaged (too short)", where=Location(file=path),
                        fix="restore the file from a backup of the scan folder")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)  # owner only, whatever a copy tool did to it
    return secret


def sign(secret: bytes, claims: SignedClaims) -> str:
    return hmac.new(secret, claims.canonical(), hashlib.sha256).hexdigest()


def verify(secret: bytes, claims: SignedClaims, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, claims), signature.strip().lower())


def sheet_password(secret: bytes, scan_id: str) -> str:
    digest = hmac.new(secret, f"sheet-protection:{scan_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:10]).decode("ascii")
